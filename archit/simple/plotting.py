"""The loss curves of a run, drawn from the Trainer's log history into a PNG."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["loss_curves", "plot_losses"]


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
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    curves = loss_curves(log_history)
    figure, axes = pyplot.subplots(figsize=(7, 4), dpi=100)
    for name, label, style in (("train", "training loss", "-"), ("eval", "evaluation loss", "o-")):
        if curves[name]:
            steps, losses = zip(*curves[name], strict=True)
            axes.plot(steps, losses, style, label=label)
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
