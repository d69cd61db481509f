"""The ``Trainer`` of archit runs, and what it needs to make a run's numbers exact and resumable.

* :class:`ArchitTrainer` counts the loss items of every optimizer step over the accumulated batches and every
  process, so that the loss and gradients do not depend on batch size, accumulation or process count; gives the
  head its own learning rate with the ``Trainer``'s weight-decay groups; and predicts the task data's outputs.
* :class:`LogAtCheckpoints` and :func:`mean_training_loss` give a resumed run the training loss of an
  uninterrupted one; :class:`EpochToCollator` gives epoch-dependent collators (masked-LM masking) their epoch.
* :func:`complete_checkpoints` finds the checkpoints a run can resume from.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from archit.simple.data import TaskData

__all__ = [
    "ArchitTrainer",
    "EpochToCollator",
    "LogAtCheckpoints",
    "complete_checkpoints",
    "head_aware_optimizer",
    "mean_training_loss",
]


class ArchitTrainer(Trainer):
    """A ``Trainer`` for archit models: exact loss normalisation, the head's own learning rate, and predictions
    that are the task data's named model outputs.

    Loss: for each optimizer step, :meth:`get_batch_samples` counts the loss items of the accumulated batches
    with the model's ``count_loss_items`` (summed over processes), and the model divides its summed loss by that
    ``num_items_in_batch``; so any batch size, accumulation and process count give the loss and gradients of one
    big batch. (The ``Trainer`` alone counts ``labels`` only, which parsing and QA batches do not have.)

    Predictions: ``Trainer.prediction_step`` returns every non-``None`` output in the model output's own order;
    this one returns what :meth:`TaskData.reduce_outputs` keeps (per-token losses instead of vocabulary-sized
    logits for language modelling), in :attr:`TaskData.prediction_names` order, and placeholder labels so that
    ``compute_metrics`` runs on data whose gold labels the task data holds itself.

    Args:
        task_data: the run's task data.
        head_learning_rate: the peak learning rate of the head (``None``: the ``learning_rate`` of ``args``).
        *args, **kwargs: as for ``Trainer``.
    """

    def __init__(self, *args: Any, task_data: TaskData, head_learning_rate: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task_data = task_data
        self.head_learning_rate = head_learning_rate

    def create_optimizer(self, *args: Any, **kwargs: Any) -> torch.optim.Optimizer:
        """The ``Trainer``'s optimizer, or :func:`head_aware_optimizer` when the head has its own learning rate."""
        if self.optimizer is None and self.head_learning_rate is not None:
            decay = self.get_decay_parameter_names(self.model)
            self.optimizer = head_aware_optimizer(self.model, self.args, self.head_learning_rate, decay)
        return super().create_optimizer(*args, **kwargs)

    def get_batch_samples(
        self, epoch_iterator: Iterator[dict[str, Any]], num_batches: int, device: torch.device
    ) -> tuple[list[dict[str, Any]], torch.Tensor | None]:
        """The next ``num_batches`` batches (fewer at the end of an epoch) and ``num_items_in_batch``, the loss
        items in all of them on every process (``None`` when the batches hold no labels)."""
        model = self.accelerator.unwrap_model(self.model)
        if not (getattr(model, "accepts_loss_kwargs", False) and hasattr(model, "count_loss_items")):
            return super().get_batch_samples(epoch_iterator, num_batches, device)  # the Trainer's own way
        batches = list(itertools.islice(epoch_iterator, num_batches))
        counts = [model.count_loss_items(batch) for batch in batches]
        if not counts or any(count is None for count in counts):
            return batches, None
        # a count is a number, or a vector of one number per task (archit.modeling.multitask), summed elementwise
        total = torch.stack([count.to(device) for count in counts]).sum(0)
        # as Trainer._get_num_items_in_batch: over processes when the loss is averaged across devices, and one
        # count per GPU under DataParallel
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            total = self.accelerator.gather(total.unsqueeze(0)).sum(0)
        elif self.args.n_gpu > 1:
            total = total // self.args.n_gpu
        if self.args.n_gpu > 1:
            total = total.unsqueeze(0).expand(self.args.n_gpu, -1)
        return batches, total

    def prediction_step(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor | None, tuple[torch.Tensor, ...] | None, torch.Tensor | None]:
        inputs = {key: value.to(self.args.device) if hasattr(value, "to") else value for key, value in inputs.items()}
        with torch.no_grad():
            outputs = model(**inputs)
        loss = outputs.get("loss")
        loss = loss.detach().mean() if loss is not None else None
        if prediction_loss_only:
            return loss, None, None
        kept = self.task_data.reduce_outputs(outputs, inputs)
        predictions = tuple(kept[name].detach() for name in self.task_data.prediction_names)
        placeholder = torch.zeros(inputs["input_ids"].shape[0], device=self.args.device)
        return loss, predictions, placeholder


class LogAtCheckpoints(TrainerCallback):
    """Log the training loss at every checkpoint and at the last step, so that the log covers every step in
    windows that a resumed run shares with an uninterrupted one (see :func:`mean_training_loss`)."""

    def on_step_end(self, args: TrainingArguments, state: Any, control: Any, **kwargs: Any) -> Any:
        if control.should_save or control.should_training_stop:
            control.should_log = True
        return control

    def on_epoch_end(self, args: TrainingArguments, state: Any, control: Any, **kwargs: Any) -> Any:
        if control.should_save:
            control.should_log = True
        return control


class EpochToCollator(TrainerCallback):
    """Tell a collator whose batches depend on the epoch (``set_epoch``: masked-LM masking) which epoch starts,
    also when a resumed run starts in the middle of one."""

    def __init__(self, collator: Any) -> None:
        self.collator = collator

    def on_epoch_begin(self, args: TrainingArguments, state: Any, control: Any, **kwargs: Any) -> Any:
        self.collator.set_epoch(int(state.epoch or 0))
        return control


def mean_training_loss(log_history: Sequence[Mapping[str, Any]]) -> float | None:
    """The mean training loss over every logged step: each logged ``loss`` (a mean over the steps since the
    previous log) weighted by its number of steps. Unlike the ``Trainer``'s ``train_loss``, it survives a
    resumed run, whose log holds the steps before its checkpoint.

    Returns:
        The mean, or ``None`` when the log holds no training loss.
    """
    previous, total, steps = 0, 0.0, 0
    for entry in log_history:
        if "loss" in entry and "step" in entry and entry["step"] > previous:
            window = entry["step"] - previous
            total, steps, previous = total + entry["loss"] * window, steps + window, entry["step"]
    return total / steps if steps else None


# where heads keep their parameters: a single-task model's head, a multi-task model's heads (one per task)
_HEAD_PREFIXES = ("head.", "heads.")


def head_aware_optimizer(
    model: torch.nn.Module, args: TrainingArguments, head_learning_rate: float, decay_parameters: Collection[str]
) -> torch.optim.Optimizer:
    """AdamW with the head at ``head_learning_rate`` and the rest at ``args.learning_rate``, and weight decay
    only on ``decay_parameters`` (the ``Trainer``'s choice: no decay for biases and normalisation weights). The
    ``Trainer``'s schedule scales both rates.

    Args:
        model: the model; its head is the parameters under ``head.`` (``heads.`` for a multi-task model).
        args: the training arguments (learning rate, weight decay, Adam's betas and epsilon).
        head_learning_rate: the head's peak learning rate.
        decay_parameters: names of the parameters to decay (``Trainer.get_decay_parameter_names(model)``).

    Returns:
        The optimizer, with four parameter groups: backbone with and without decay, head with and without decay.
    """
    groups = []
    for in_head, learning_rate in ((False, args.learning_rate), (True, head_learning_rate)):
        for decays, weight_decay in ((True, args.weight_decay), (False, 0.0)):
            parameters = [
                parameter
                for name, parameter in model.named_parameters()
                if parameter.requires_grad
                and name.startswith(_HEAD_PREFIXES) == in_head
                and (name in decay_parameters) == decays
            ]
            groups.append({"params": parameters, "lr": learning_rate, "weight_decay": weight_decay})
    return torch.optim.AdamW(groups, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon)


def complete_checkpoints(directory: str) -> list[str]:
    """The checkpoints in ``directory`` that a run finished writing, newest first.

    The ``Trainer`` writes ``trainer_state.json`` last into ``checkpoint-<step>``, so a checkpoint whose
    ``trainer_state.json`` reads as JSON is complete; one cut short by a kill is not.
    """
    steps = {}
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        prefix, _, step = name.partition("-")
        if prefix == PREFIX_CHECKPOINT_DIR and step.isdigit() and os.path.isdir(os.path.join(directory, name)):
            steps[os.path.join(directory, name)] = int(step)
    complete = []
    for path in sorted(steps, key=steps.get, reverse=True):
        with contextlib.suppress(OSError, ValueError):
            with open(os.path.join(path, "trainer_state.json"), encoding="utf-8") as handle:
                json.load(handle)
            complete.append(path)
    return complete
