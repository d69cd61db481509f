"""The sampler and the Trainer of multi-task training (:mod:`archit.simple.multitask`): which task each batch
comes from, the batches in that order, and a Trainer that weights each task's exact loss and logs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from archit.simple.config import RunConfigurationError
from archit.simple.data import Feature
from archit.simple.training import ArchitTrainer

__all__ = ["MultiTaskTrainer", "ScheduledBatches", "TaskCollator", "sampling_probabilities", "task_schedule"]


# --- the sampler ------------------------------------------------------------------------------------------------
def sampling_probabilities(
    sizes: Mapping[str, int], strategy: str, temperature: float = 2.0, weights: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The probability of drawing each task's next batch.

    Args:
        sizes: training examples per task.
        strategy: one of :data:`~archit.simple.multitask.SAMPLING_STRATEGIES` (``round_robin`` gives equal shares).
        temperature: for ``temperature``: shares proportional to ``size ** (1 / temperature)``.
        weights: for ``weights``: shares proportional to them.

    Returns:
        ``{task: probability}``, summing to 1.

    Raises:
        RunConfigurationError: ``weights`` without weights, or shares that sum to 0.
    """
    if strategy == "proportional":
        raw = {name: float(size) for name, size in sizes.items()}
    elif strategy == "temperature":
        raw = {name: float(size) ** (1.0 / temperature) for name, size in sizes.items()}
    elif strategy == "weights":
        if weights is None:
            raise RunConfigurationError("sampling: weights needs the weights; give every task a sampling_weight.")
        raw = {name: float(weights[name]) for name in sizes}
    else:
        raw = {name: 1.0 for name in sizes}
    total = sum(raw.values())
    if total <= 0:
        raise RunConfigurationError("The sampling weights of the tasks sum to 0; give at least one task a weight.")
    return {name: value / total for name, value in raw.items()}


def task_schedule(probabilities: Mapping[str, float], n_batches: int, strategy: str, seed: int) -> list[str]:
    """The task of each of ``n_batches`` batches: in turn for ``round_robin``, else drawn with ``probabilities``
    (a seeded draw, the same on every process)."""
    names = list(probabilities)
    if strategy == "round_robin":
        return [names[index % len(names)] for index in range(n_batches)]
    generator = torch.Generator().manual_seed(seed)
    weights = torch.tensor([probabilities[name] for name in names], dtype=torch.float64)
    draws = torch.multinomial(weights, n_batches, replacement=True, generator=generator)
    return [names[index] for index in draws.tolist()]


class ScheduledBatches(Dataset):
    """The training batches of a multi-task run in the sampler's order: item ``i`` is one task's batch of
    features. Each task's examples are shuffled and taken in turn, reshuffled when used up.

    Args:
        features: each task's training features.
        schedule: the task of each batch (:func:`task_schedule`).
        batch_size: examples per batch.
        seed: the seed of the shuffles.
    """

    def __init__(self, features: Mapping[str, Sequence[Feature]], schedule: Sequence[str], batch_size: int, seed: int):
        generator = torch.Generator().manual_seed(seed)
        orders: dict[str, list[int]] = {name: [] for name in features}
        self.batches: list[tuple[str, list[Feature]]] = []
        for name in schedule:
            while len(orders[name]) < batch_size:
                orders[name] += torch.randperm(len(features[name]), generator=generator).tolist()
            chosen, orders[name] = orders[name][:batch_size], orders[name][batch_size:]
            self.batches.append((name, [features[name][index] for index in chosen]))

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[str, list[Feature]]:
        return self.batches[index]


class TaskCollator:
    """Collates one task's batch with that task's collator and names the task in it (``batch["task"]``).

    Args:
        collators: each task's collator.
        task: for evaluation: the task of every batch (features come one by one); ``None`` for
            :class:`ScheduledBatches`, whose items are ``(task, features)`` already.
    """

    def __init__(self, collators: Mapping[str, Any], task: str | None = None) -> None:
        self.collators, self.task = collators, task

    def __call__(self, items: list[Any]) -> dict[str, Any]:
        if self.task is not None:
            return {**self.collators[self.task](items), "task": self.task}
        ((task, features),) = items
        return {**self.collators[task](features), "task": task}


# --- the Trainer ------------------------------------------------------------------------------------------------
class MultiTaskTrainer(ArchitTrainer):
    """An :class:`ArchitTrainer` for a :class:`~archit.modeling.multitask.MultiTaskModel`: each task's loss is
    exact (the model divides it by that task's items in the accumulated batch, on every process) and weighted by
    ``loss_weights``; the training log holds ``loss_<task>`` beside ``loss``: the task's unweighted loss, averaged
    over the optimizer steps of the logging window that trained it.

    Args:
        loss_weights: each task's loss weight (1 when missing).
        *args, **kwargs: as for :class:`ArchitTrainer`.
    """

    def __init__(self, *args: Any, loss_weights: Mapping[str, float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loss_weights = dict(loss_weights or {})
        self._task_losses: dict[str, dict[int, float]] = {}
        self._window_start = 0

    def compute_loss(self, model: torch.nn.Module, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        task = inputs["task"]
        result = super().compute_loss(model, inputs, *args, **kwargs)
        loss, outputs = result if isinstance(result, tuple) else (result, None)
        if model.training:
            # a batch's share of its task's exact loss: the shares of one optimizer step sum to the task's loss
            # (times the process count, by which the Trainer scales it)
            step = self.state.global_step
            shares = self._task_losses.setdefault(task, {})
            shares[step] = shares.get(step, 0.0) + float(loss.detach())
            loss = loss * self.loss_weights.get(task, 1.0)
        return (loss, outputs) if isinstance(result, tuple) else loss

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        if "loss" in logs:
            window = range(self._window_start, self.state.global_step)
            for task in self.loss_weights:
                shares = self._task_losses.get(task, {})
                local = torch.tensor([[shares.get(step, 0.0), step in shares] for step in window], dtype=torch.float64)
                # [n_processes, window, 2]: every process's shares and whether it trained the task at each step
                gathered = self.accelerator.gather(local.to(self.args.device).unsqueeze(0)).cpu()
                per_step = gathered[..., 0].sum(0) / self.accelerator.num_processes
                trained = gathered[..., 1].amax(0).bool()
                if trained.any():
                    logs[f"loss_{task}"] = round(float(per_step[trained].mean()), 4)
            self._task_losses, self._window_start = {}, self.state.global_step
        super().log(logs, *args, **kwargs)
