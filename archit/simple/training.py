"""The ``Trainer`` of archit runs, its arguments, and what it needs to make a run's numbers exact and resumable.

* :func:`training_arguments` and :func:`inference_arguments` are the ``TrainingArguments`` of a run and of
  predicting with a trained model: schedule, evaluation, saving, precision and devices.

* :class:`ArchitTrainer` counts the loss items of every optimizer step over the accumulated batches and every
  process, so that the loss and gradients do not depend on batch size, accumulation or process count; gives the
  head its own learning rate with the ``Trainer``'s weight-decay groups; and predicts the task data's outputs.
* :class:`LogAtCheckpoints` and :func:`mean_training_loss` give a resumed run the training loss of an
  uninterrupted one; :class:`EpochToTrainingData` gives epoch-dependent training data (masked-LM masking,
  batches grouped by length) their epoch.
* :func:`complete_checkpoints` finds the checkpoints a run can resume from.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from archit._compat import warmup_arguments
from archit.simple.config import RunConfiguration, RunConfigurationError
from archit.simple.data import TaskData
from archit.simple.data.length_grouping import LengthGroupedBatches

__all__ = [
    "LABEL_KEYS",
    "ArchitTrainer",
    "EpochToTrainingData",
    "LogAtCheckpoints",
    "complete_checkpoints",
    "head_aware_optimizer",
    "inference_arguments",
    "mean_training_loss",
    "named_predictions",
    "training_arguments",
]


def _precision(config: RunConfiguration) -> dict[str, bool]:
    """``fp16``/``bf16`` flags for the hardware at hand.

    Raises:
        RunConfigurationError: fp16 was asked for without a CUDA GPU.
    """
    choice = config.mixed_precision
    if choice == "auto":
        if not torch.cuda.is_available():
            return {}
        choice = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if choice == "fp16" and not torch.cuda.is_available():
        raise RunConfigurationError(
            "mixed_precision 'fp16' needs a CUDA GPU and this machine has none; use 'auto', 'bf16' or 'no'."
        )
    return {"fp16": choice == "fp16", "bf16": choice == "bf16"}


def _device() -> dict[str, bool]:
    """``use_cpu`` for a multi-process run without CUDA: accelerate then sets up gloo (CPU DDP) instead of
    leaving every process to train alone."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    return {"use_cpu": True} if distributed and not torch.cuda.is_available() else {}


def reporting_integrations(report_to: str) -> list[str]:
    """The Trainer's ``report_to`` of a run's ``report_to``: ``none``, ``all``, or integrations joined by commas.

    Raises:
        RunConfigurationError: an integration the Trainer does not know, or one whose package is not installed.
    """
    from transformers.integrations import INTEGRATION_TO_CALLBACK, get_available_reporting_integrations

    names = [name.strip() for name in report_to.split(",") if name.strip()]
    if names in (["none"], ["all"]):
        return names
    for name in names:
        if name not in INTEGRATION_TO_CALLBACK:
            raise RunConfigurationError(
                f"report_to names {name!r}, which the Trainer does not know; use none, all, or some of "
                f"{', '.join(sorted(INTEGRATION_TO_CALLBACK))}, joined by commas."
            )
        if name not in get_available_reporting_integrations():
            raise RunConfigurationError(
                f"report_to names {name!r}, whose package is not installed; install it (pip install tensorboard "
                f"for tensorboard) or leave it out. "
                f"Installed: {', '.join(get_available_reporting_integrations()) or 'none'}."
            )
    return names or ["none"]


def training_arguments(config: RunConfiguration, data: TaskData | None, has_eval: bool) -> TrainingArguments:
    """The ``TrainingArguments`` of a run: schedule, evaluation, saving, precision, early stopping.

    Args:
        config: the run's configuration.
        data: the run's task data, whose main metric early stopping watches; ``None`` for a run without
            evaluation (``has_eval`` false).
        has_eval: whether the run evaluates on a validation split.

    Raises:
        RunConfigurationError: early stopping without the task data to name its metric.
    """
    eval_strategy = config.eval_strategy if has_eval else "no"
    early_stopping = config.early_stopping_patience is not None and has_eval
    save_strategy = eval_strategy if early_stopping else config.save_strategy
    warmup = warmup_arguments(config.warmup_ratio) if config.warmup_ratio else {"warmup_steps": config.warmup_steps}
    steps = {"eval_steps": config.eval_steps, "save_steps": config.save_steps}
    if early_stopping and save_strategy == "steps" and config.save_steps is None:
        steps["save_steps"] = config.eval_steps
    best: dict[str, Any] = {}
    if early_stopping:
        if data is None:
            raise RunConfigurationError("early_stopping_patience needs the task's data, whose main metric it watches.")
        best = {
            "load_best_model_at_end": True,
            "metric_for_best_model": config.metric_for_best_model or data.main_metric,
            "greater_is_better": data.greater_is_better if config.metric_for_best_model is None else None,
        }
    return TrainingArguments(
        output_dir=os.path.join(config.resolved_output_dir, "checkpoints"),
        run_name=config.run_name,
        # batches grouped by length come whole, one per item (LengthGroupedBatches)
        per_device_train_batch_size=1 if config.groups_by_length else config.train_batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        seed=config.seed,
        eval_strategy=eval_strategy,
        save_strategy=save_strategy,
        save_total_limit=config.save_total_limit,
        logging_strategy="steps",
        logging_steps=config.logging_steps,
        report_to=reporting_integrations(config.report_to),
        disable_tqdm=not config.progress_bars,
        remove_unused_columns=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        # count loss items over every process, so that the loss does not depend on the process count
        average_tokens_across_devices=True,
        # a resumed run continues early stopping where it was
        restore_callback_states_from_checkpoint=config.resume,
        **{key: value for key, value in steps.items() if value is not None},
        **warmup,
        **best,
        **_precision(config),
        **_device(),
    )


def inference_arguments(config: RunConfiguration, output_dir: str) -> TrainingArguments:
    """The ``TrainingArguments`` of predicting with a trained model: the run's evaluation batch size and progress
    bars, on the devices at hand."""
    return TrainingArguments(
        output_dir=output_dir,
        per_device_eval_batch_size=config.eval_batch_size,
        report_to="none",
        disable_tqdm=not config.progress_bars,
        remove_unused_columns=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        **_device(),
    )


LABEL_KEYS = ("labels", "start_positions", "end_positions", "answerable", "arc_labels", "rel_labels")
"""The batch keys that are gold labels: the model computes a loss from them, and nothing else."""


def named_predictions(data: TaskData, arrays: Any) -> dict[str, np.ndarray]:
    """The arrays ``Trainer.predict`` returns, by the task data's :attr:`~TaskData.prediction_names`."""
    arrays = arrays if isinstance(arrays, (tuple, list)) else (arrays,)
    return dict(zip(data.prediction_names, arrays, strict=True))


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

    Speed: on :class:`~archit.simple.data.length_grouping.LengthGroupedBatches`, whose items are whole batches, the
    ``Trainer`` counts batches as samples; :meth:`log` reports ``train_samples_per_second`` in examples.

    Args:
        task_data: the run's task data.
        head_learning_rate: the peak learning rate of the head (``None``: the ``learning_rate`` of ``args``).
        prediction_loss: whether predicting computes the loss; without it the gold labels (:data:`LABEL_KEYS`)
            stay out of the model's inputs (:meth:`TaskData.reduce_outputs` still sees them).
        *args, **kwargs: as for ``Trainer``.
    """

    optimizer: torch.optim.Optimizer | None  # the Trainer's, set by create_optimizer

    def __init__(
        self,
        *args: Any,
        task_data: TaskData,
        head_learning_rate: float | None = None,
        prediction_loss: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.task_data = task_data
        self.head_learning_rate = head_learning_rate
        self.prediction_loss = prediction_loss

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

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """The ``Trainer``'s log, with ``train_samples_per_second`` counted in examples when the items trained on
        are whole batches (the rate is also the one of the ``TrainOutput``'s metrics, which are these logs)."""
        if "train_samples_per_second" in logs and isinstance(self.train_dataset, LengthGroupedBatches):
            per_batch = len(self.train_dataset.features) / len(self.train_dataset)
            logs["train_samples_per_second"] = round(logs["train_samples_per_second"] * per_batch, 3)
        super().log(logs, start_time)

    def prediction_step(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor | None, tuple[torch.Tensor, ...] | None, torch.Tensor | None]:
        inputs = {key: value.to(self.args.device) if hasattr(value, "to") else value for key, value in inputs.items()}
        model_inputs = inputs if self.prediction_loss else {k: v for k, v in inputs.items() if k not in LABEL_KEYS}
        with torch.no_grad():
            outputs = model(**model_inputs)
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


class EpochToTrainingData(TrainerCallback):
    """Tell training data whose batches depend on the epoch (``set_epoch``: a masked-LM collator's masking, the
    batches of :class:`~archit.simple.data.length_grouping.LengthGroupedBatches`) which epoch starts, also when a
    resumed run starts in the middle of one. The ``Trainer`` draws the epoch's items after this call.

    Args:
        receivers: objects with a ``set_epoch(epoch)`` method.
    """

    def __init__(self, receivers: Sequence[Any]) -> None:
        self.receivers = list(receivers)

    def on_epoch_begin(self, args: TrainingArguments, state: Any, control: Any, **kwargs: Any) -> Any:
        for receiver in self.receivers:
            receiver.set_epoch(int(state.epoch or 0))
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


PEFT_PREFIX = "base_model.model."
"""Where a ``PeftModel`` keeps the parameters of the model it wraps."""

# where heads keep their parameters: a single-task model's head, a multi-task model's heads (one per task)
_HEAD_PREFIXES = ("head.", "heads.")


def head_aware_optimizer(
    model: torch.nn.Module, args: TrainingArguments, head_learning_rate: float, decay_parameters: Collection[str]
) -> torch.optim.Optimizer:
    """AdamW with the head at ``head_learning_rate`` and the rest at ``args.learning_rate``, and weight decay
    only on ``decay_parameters`` (the ``Trainer``'s choice: no decay for biases and normalisation weights). The
    ``Trainer``'s schedule scales both rates.

    Args:
        model: the model; its head is the parameters under ``head.`` (``heads.`` in a multi-task model), behind
            ``base_model.model.`` in a PEFT model.
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
                and name.removeprefix(PEFT_PREFIX).startswith(_HEAD_PREFIXES) == in_head
                and (name in decay_parameters) == decays
            ]
            groups.append({"params": parameters, "lr": learning_rate, "weight_decay": weight_decay})
    return torch.optim.AdamW(groups, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon)


def complete_checkpoints(directory: str) -> list[str]:
    """The checkpoints in ``directory`` that a run finished writing, newest first.

    The ``Trainer`` writes ``trainer_state.json`` last into ``checkpoint-<step>``, so a checkpoint whose
    ``trainer_state.json`` reads as JSON is complete; one cut short by a kill is not.
    """
    steps: dict[str, int] = {}
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        prefix, _, step = name.partition("-")
        if prefix == PREFIX_CHECKPOINT_DIR and step.isdigit() and os.path.isdir(os.path.join(directory, name)):
            steps[os.path.join(directory, name)] = int(step)
    complete = []
    for path in sorted(steps, key=lambda path: steps[path], reverse=True):
        with contextlib.suppress(OSError, ValueError):
            with open(os.path.join(path, "trainer_state.json"), encoding="utf-8") as handle:
                json.load(handle)
            complete.append(path)
    return complete
