"""The loss curves of a run (of a multi-task run, one per task), drawn from the Trainer's log history into a PNG."""

from __future__ import annotations

import os
from collections.abc import Container, Mapping, Sequence
from typing import Any

__all__ = ["loss_curves", "plot_losses", "plot_task_losses", "task_loss_curves"]


def loss_curves(log_history: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """``(step, loss)`` points of the training loss (``loss``) and evaluation loss (``eval_loss``) logs."""
    curves: dict[str, list[tuple[float, float]]] = {"train": [], "eval": []}
    for entry in log_history:
        step = entry.get("step")
        if step is None:
            continue
        if "loss" in entry:
            curves["train"].append((float(step), float(entry["loss"])))
        if "eval_loss" in entry:
            curves["eval"].append((float(step), float(entry["eval_loss"])))
    return curves


def plot_losses(log_history: Sequence[Mapping[str, Any]], path: str, title: str = "") -> str:
    """Draw the training and evaluation loss against the step and save it as a PNG.

    A run too short to have logged a loss still gets a figure, saying so.

    Args:
        log_history: the Trainer's ``state.log_history``.
        path: where to write the PNG.
        title: the figure's title (the run name).

    Returns:
        ``path``.
    """
    curves = loss_curves(log_history)
    return _draw(
        {"training loss": curves["train"], "evaluation loss": curves["eval"]}, path, title, marked={"evaluation loss"}
    )


def task_loss_curves(
    log_history: Sequence[Mapping[str, Any]], tasks: Sequence[str]
) -> dict[str, list[tuple[float, float]]]:
    """``(step, loss)`` points of each task's training loss (``loss_<task>`` logs)."""
    curves: dict[str, list[tuple[float, float]]] = {task: [] for task in tasks}
    for entry in log_history:
        for task in tasks:
            if f"loss_{task}" in entry and "step" in entry:
                curves[task].append((float(entry["step"]), float(entry[f"loss_{task}"])))
    return curves


def plot_task_losses(log_history: Sequence[Mapping[str, Any]], tasks: Sequence[str], path: str, title: str = "") -> str:
    """Draw one training-loss curve per task against the step and save it as a PNG; returns ``path``."""
    curves = task_loss_curves(log_history, tasks)
    return _draw({f"{task} training loss": points for task, points in curves.items()}, path, title)


def _draw(
    curves: Mapping[str, Sequence[tuple[float, float]]], path: str, title: str, marked: Container[str] = ()
) -> str:
    """Draw the ``(step, loss)`` curves, by their legend labels (those in ``marked`` with a marker at each point),
    into a PNG at ``path`` (its directory made when missing); a figure without points says no loss was logged."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4), dpi=100)
    for label, points in curves.items():
        if points:
            steps, losses = zip(*points, strict=True)
            axes.plot(steps, losses, "o-" if label in marked else "-", label=label)
    if not any(curves.values()):
        axes.text(0.5, 0.5, "no loss was logged", ha="center", va="center", transform=axes.transAxes)
    else:
        axes.legend()
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
    return path
