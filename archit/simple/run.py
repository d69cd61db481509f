"""``run_simple``: fine-tune, evaluate, predict, and write every output of one run.

A run's output directory holds::

    config.yaml           the resolved run configuration (labels included in head_options)
    metrics.json          {"train": {...}, "validation": {...}, "test": {...}}
    predictions.jsonl     predictions on the test file (else the validation file); .conllu for CoNLL-U tasks
    loss.png              training and evaluation loss against the step
    log_history.json      the Trainer's log
    model/                the model and tokenizer (save_pretrained), archit_run.yaml and the model card README.md;
                          with peft, the adapter with the trained head in model/adapter/, and the merged model in
                          model/ (only its config with merge_adapter off: it loads as the base plus the adapter)

Every file and the model directory appear whole or not at all (written under a temporary name, then renamed;
see :mod:`archit.simple.outputs`), ``metrics.json`` last. With checkpoints (``save_strategy``), a run killed at
any point continues with ``resume=True`` (``archit train --resume``) from its newest complete checkpoint in
``checkpoints/`` and ends with the metrics of an uninterrupted run.

Runs work the same under ``torchrun`` and ``accelerate launch``: every process trains and evaluates its
share, and only the main process writes files.

Using a trained model (``load_run``, ``predict``, ``evaluate``) lives in :mod:`archit.simple.inference`, the
demo (``run_demo``, ``find_demo_model``, ``find_demo_treebank``, ``split_treebank``) in :mod:`archit.simple.demo`;
both remain importable from here under their old names.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import transformers
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from archit.errors import DataError
from archit.simple.adapters import ADAPTER_DIRECTORY, adapted_modules, wrap_with_peft
from archit.simple.config import RunConfiguration, RunConfigurationError
from archit.simple.data import Example, Feature, TaskData, get_task_data, load_tokenizer
from archit.simple.data.from_datasets import export_split, load_splits
from archit.simple.data.length_grouping import BatchCollator, LengthGroupedBatches
from archit.simple.modelcard import write_model_card
from archit.simple.outputs import partial_directory, publish_directory, remove_partial_outputs, replacing
from archit.simple.plotting import plot_losses
from archit.simple.training import (
    ArchitTrainer,
    EpochToTrainingData,
    LogAtCheckpoints,
    complete_checkpoints,
    mean_training_loss,
    named_predictions,
    training_arguments,
)

__all__ = ["RUN_CONFIG_NAME", "ArchitTrainer", "RunResult", "load_model", "run_simple"]

logger = logging.getLogger("archit")

RUN_CONFIG_NAME = "archit_run.yaml"
"""File in a saved model directory holding the run configuration that trained it."""


@attrs.frozen
class RunResult:
    """What :func:`run_simple` wrote, and the metrics it computed.

    Attributes:
        output_dir: the run's output directory.
        model_dir: the saved model and tokenizer.
        metrics: ``{"train": ..., "validation": ..., "test": ...}`` (splits that were given).
        metrics_file, config_file, plot_file: the JSON metrics, the resolved YAML configuration, the PNG plot.
        predictions_file: the predictions, or ``None`` when no evaluation or test file was given.
    """

    output_dir: str
    model_dir: str
    metrics: dict[str, dict[str, Any]]
    metrics_file: str
    config_file: str
    plot_file: str
    predictions_file: str | None


def _read_split(data: TaskData, path: str | None, limit: int | None) -> list[Example]:
    if path is None:
        return []
    examples = data.read(path)
    return examples[:limit] if limit else examples


def load_model(config: RunConfiguration, data: TaskData) -> transformers.PreTrainedModel:
    """The model for the run's task, with the head fields the data implies and those the run sets.

    Raises:
        RunConfigurationError: ``head_options`` contradicts the labels found in the training data.
    """
    from archit.modeling.factory import ArchitFactory

    implied = data.head_options()
    if (
        "num_labels" in implied
        and config.head_options.get("num_labels", implied["num_labels"]) != implied["num_labels"]
    ):
        raise RunConfigurationError(
            f"head_options sets num_labels={config.head_options['num_labels']!r}, but the training data "
            f"({config.train_file or config.dataset or 'the dataset'}) has {implied['num_labels']} labels; drop "
            "num_labels from head_options."
        )
    # Label names go into the model config (for predictions and pipelines), the rest into the head config.
    names = {key: implied.pop(key) for key in ("id2label", "label2id") if key in implied}
    model = ArchitFactory.from_pretrained(
        config.model_name_or_path, task=config.task, revision=config.revision, **{**config.head_options, **implied}
    )
    if names:
        model.config.id2label, model.config.label2id = names["id2label"], names["label2id"]
    return model


def _metric_function(
    data: TaskData, features: Sequence[Feature], examples: Sequence[Example]
) -> Callable[[transformers.EvalPrediction], dict[str, float]]:
    def compute_metrics(prediction: transformers.EvalPrediction) -> dict[str, float]:
        outputs = named_predictions(data, prediction.predictions)
        return data.score(data.decode(outputs, features, examples), examples)

    return compute_metrics


def _read_dataset(data: TaskData, config: RunConfiguration, source: Any) -> dict[str, list[Example]]:
    """The examples of the dataset's training, validation and test splits (those it has), each split written in
    the task's input format and read by its reader.

    Raises:
        DataError: the dataset has no training split of that name.
    """
    available = load_splits(source, config.dataset_config)
    if config.train_split not in available:
        raise DataError(
            f"The dataset has no split {config.train_split!r}; it has {', '.join(map(repr, available))}. "
            "Set train_split (--train-split)."
        )
    roles = {"train": config.train_split, "validation": config.validation_split, "test": config.test_split}
    limits = {"train": config.max_train_samples, "validation": config.max_eval_samples, "test": config.max_eval_samples}
    with tempfile.TemporaryDirectory() as directory:
        return {
            role: _read_split(data, export_split(available[name], config.task, config, directory, name), limits[role])
            for role, name in roles.items()
            if name is not None and name in available
        }


def _prepare(config: RunConfiguration, dataset: Any = None) -> tuple[TaskData, dict[str, list[Example]]]:
    """Tokenizer, task data and the examples of each split given."""
    if dataset is not None and (config.dataset is not None or config.train_file is not None):
        raise RunConfigurationError(
            "run_simple was given a dataset, and the configuration names training data too "
            f"(dataset {config.dataset!r}, train_file {config.train_file!r}); pass one."
        )
    source = dataset if dataset is not None else config.dataset
    if config.train_file is None and source is None:
        raise RunConfigurationError(
            "train_file is not set; a run needs training data (--train-file FILE, or --dataset DIRECTORY_OR_NAME)."
        )
    tokenizer = load_tokenizer(config.model_name_or_path, revision=config.revision)
    data = get_task_data(config.task, config, tokenizer)
    if source is not None:
        splits = _read_dataset(data, config, source)
    else:
        splits = {
            "train": _read_split(data, config.train_file, config.max_train_samples),
            "validation": _read_split(data, config.validation_file, config.max_eval_samples),
            "test": _read_split(data, config.test_file, config.max_eval_samples),
        }
    data.fit_labels(splits["train"])
    return data, {name: examples for name, examples in splits.items() if examples}


def run_simple(config: RunConfiguration, dataset: Any = None) -> RunResult:
    """Fine-tune ``config.model_name_or_path`` on the task and write every output of the run.

    Trains with the HF ``Trainer`` (evaluating on the validation file on the configured schedule, with early
    stopping when set), then evaluates on the validation and test files, writes predictions for the test file
    (the validation file when there is no test file), saves the model and tokenizer, the resolved
    configuration, the metrics and a plot of the losses. With ``config.resume``, training continues from the
    newest complete checkpoint in ``<output_dir>/checkpoints`` (from the start when there is none). Under
    ``torchrun`` or ``accelerate launch``, only the main process writes.

    The training metrics' ``train_loss`` is :func:`mean_training_loss` of the log, so that it is the same for
    a resumed run as for an uninterrupted one. With ``config.peft``, the backbone is adapted by that PEFT method
    (:func:`~archit.simple.adapters.wrap_with_peft`) and the head trains in full.

    Args:
        config: the run.
        dataset: a ``datasets`` ``DatasetDict`` or ``Dataset`` to train on, instead of the configuration's files or
            ``dataset``; its splits are chosen by ``train_split``, ``validation_split`` and ``test_split``.

    Returns:
        :class:`RunResult` with the paths written and the metrics.

    Raises:
        RunConfigurationError: no training data, or two sources of it, or a configuration the hardware cannot run.
        DataError: a data file or dataset is missing or malformed.
        PeftSetupError: the PEFT method or its options are not valid.
        CheckpointError, HeadConfigError: the model cannot be loaded for the task.
    """
    transformers.set_seed(config.seed)
    data, splits = _prepare(config, dataset)
    model = load_model(config, data)
    if config.peft is not None:
        model = wrap_with_peft(model, config.peft, config.peft_options)
    features = {name: data.featurize(examples, training=name == "train") for name, examples in splits.items()}
    has_eval = "validation" in splits
    collator: Callable[[list[Any]], Mapping[str, Any]] = data.collator(training=True)
    callbacks: list[TrainerCallback] = [LogAtCheckpoints()]
    epoch_receivers = [collator] if hasattr(collator, "set_epoch") else []
    train_dataset: Any = features["train"]
    if config.groups_by_length:
        # each item is a whole batch (the training arguments take batches of one item)
        train_dataset = LengthGroupedBatches(features["train"], config.train_batch_size, config.seed)
        epoch_receivers.append(train_dataset)  # accelerate tells a dataset its epoch on one process only
        collator = BatchCollator(collator)
    if epoch_receivers:
        callbacks.append(EpochToTrainingData(epoch_receivers))
    if config.early_stopping_patience is not None and has_eval:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = ArchitTrainer(
        model=model,
        args=training_arguments(config, data, has_eval),
        data_collator=collator,
        train_dataset=train_dataset,
        eval_dataset=features.get("validation"),
        processing_class=data.tokenizer,
        compute_metrics=_metric_function(data, features["validation"], splits["validation"]) if has_eval else None,
        callbacks=callbacks,
        task_data=data,
        head_learning_rate=config.head_learning_rate,
    )
    checkpoint = _checkpoint_to_resume(trainer) if config.resume else None
    train_output = trainer.train(resume_from_checkpoint=checkpoint)
    metrics: dict[str, dict[str, Any]] = {"train": dict(train_output.metrics)}
    metrics["train"]["train_loss"] = mean_training_loss(trainer.state.log_history)
    predictions: tuple[str, list[Any]] | None = None
    trainer.compute_metrics = None  # bound to the validation set; each split is decoded and scored below
    for name in ("validation", "test"):
        if name in splits:
            outputs = trainer.predict(features[name], metric_key_prefix=name)
            decoded = data.decode(named_predictions(data, outputs.predictions), features[name], splits[name])
            metrics[name] = {"loss": outputs.metrics.get(f"{name}_loss"), **data.score(decoded, splits[name])}
            metrics[name] = {key: value for key, value in metrics[name].items() if value is not None}
            predictions = (name, decoded)
    return _write_outputs(config, data, trainer, metrics, predictions, splits)


def _checkpoint_to_resume(trainer: Trainer) -> str | None:
    """The newest complete checkpoint of the run, after removing (on the main process) the incomplete ones
    newer than it; ``None`` when there is none to resume from."""
    directory = trainer.args.output_dir
    complete = complete_checkpoints(directory)
    newest = complete[0] if complete else None
    trainer.accelerator.wait_for_everyone()  # every process has chosen before any checkpoint is removed
    if trainer.is_world_process_zero() and os.path.isdir(directory):
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if name.startswith(f"{PREFIX_CHECKPOINT_DIR}-") and path not in complete:
                logger.warning("Removing %s, a checkpoint that was not completely written.", path)
                shutil.rmtree(path)
    trainer.accelerator.wait_for_everyone()
    if newest is None:
        logger.warning("resume: no complete checkpoint in %s; training from the start.", directory)
    else:
        logger.warning("resume: continuing from %s.", newest)
    return newest


def _write_outputs(
    config: RunConfiguration,
    data: TaskData,
    trainer: Trainer,
    metrics: dict[str, dict[str, Any]],
    predictions: tuple[str, list[Any]] | None,
    splits: Mapping[str, list[Example]],
) -> RunResult:
    """Save the model (every process takes part) and, on the main process, the predictions, log, plot,
    configuration and metrics (last), each whole or not at all."""
    output_dir = config.resolved_output_dir
    model_dir = os.path.join(output_dir, "model")
    staging = partial_directory(model_dir)
    if trainer.is_world_process_zero():
        for name in remove_partial_outputs(output_dir):
            logger.warning("Removed %s, left unfinished in %s by an interrupted run.", name, output_dir)
    trainer.accelerator.wait_for_everyone()
    adapted = adapted_modules(trainer.accelerator.unwrap_model(trainer.model)) if config.peft is not None else None
    _save_model(config, trainer, staging)
    resolved = attrs.evolve(config, output_dir=output_dir, head_options={**config.head_options, **_plain(data)})
    files = {
        "config": os.path.join(output_dir, "config.yaml"),
        "metrics": os.path.join(output_dir, "metrics.json"),
        "plot": os.path.join(output_dir, "loss.png"),
    }
    predictions_file = None
    if predictions is not None:
        predictions_file = os.path.join(output_dir, "predictions" + data.prediction_suffix(splits[predictions[0]]))
    if trainer.is_world_process_zero():
        resolved.to_yaml(os.path.join(staging, RUN_CONFIG_NAME))
        write_model_card(staging, config, data.labels, metrics, model_id=model_dir, adapted_modules=adapted)
        publish_directory(staging, model_dir)
        if predictions is not None and predictions_file is not None:  # the file is named with the predictions
            with replacing(predictions_file) as temporary:
                data.write_predictions(temporary, predictions[1], splits[predictions[0]])
        _write_json(os.path.join(output_dir, "log_history.json"), trainer.state.log_history)
        with replacing(files["plot"]) as temporary:
            plot_losses(trainer.state.log_history, temporary, title=config.run_name)
        resolved.to_yaml(files["config"])
        _write_json(files["metrics"], metrics)
        checkpoints = trainer.args.output_dir
        if os.path.isdir(checkpoints) and not os.listdir(checkpoints):
            os.rmdir(checkpoints)
    trainer.accelerator.wait_for_everyone()
    return RunResult(
        output_dir=output_dir,
        model_dir=model_dir,
        metrics=metrics,
        metrics_file=files["metrics"],
        config_file=files["config"],
        plot_file=files["plot"],
        predictions_file=predictions_file,
    )


def _save_model(config: RunConfiguration, trainer: Trainer, directory: str) -> None:
    """Save the model and tokenizer in ``directory``. For a PEFT run, save the adapter and the trained head in its
    ``adapter/``, with the model's config (which lets the Auto classes load the adapter), and in ``directory`` the
    model merged with the adapter, or without ``merge_adapter`` only its config (it then loads as the base
    checkpoint with the adapter attached)."""
    if config.peft is None:
        trainer.save_model(directory)
        return
    adapter_dir = os.path.join(directory, ADAPTER_DIRECTORY)
    trainer.save_model(adapter_dir)
    adapted = trainer.accelerator.unwrap_model(trainer.model)
    model = adapted.merge_and_unload() if config.merge_adapter else adapted.get_base_model()
    if trainer.is_world_process_zero():
        model.config.save_pretrained(adapter_dir)
        if config.merge_adapter:
            model.save_pretrained(directory)
        else:
            model.config.save_pretrained(directory)
        trainer.processing_class.save_pretrained(directory)


def _plain(data: TaskData) -> dict[str, Any]:
    """The data's head options as YAML-friendly values (label ids as plain ints)."""
    options = data.head_options()
    if "id2label" in options:
        options["id2label"] = {int(key): value for key, value in options["id2label"].items()}
    return options


def _write_json(path: str, value: Any) -> None:
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, ensure_ascii=False, default=float)
        handle.write("\n")


_MOVED = {
    "load_run": "archit.simple.inference",
    "predict": "archit.simple.inference",
    "evaluate": "archit.simple.inference",
    "run_demo": "archit.simple.demo",
    "find_demo_model": "archit.simple.demo",
    "find_demo_treebank": "archit.simple.demo",
    "split_treebank": "archit.simple.demo",
}
"""Names this module held before inference and the demo had their own modules (imported on first use, as
those modules import this one)."""


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module 'archit.simple.run' has no attribute {name!r}")
    return getattr(importlib.import_module(_MOVED[name]), name)
