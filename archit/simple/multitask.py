"""Multi-task runs: several tasks, each with its own files, columns and head options, trained together on one
backbone (:class:`~archit.modeling.multitask.MultiTaskModel`).

A run configuration with a ``tasks:`` list is a :class:`MultiTaskRunConfiguration`: the top level holds what
all tasks share (the checkpoint, the schedule, batch sizes, the output directory), each entry of ``tasks`` its
name, its ``task`` kind, its files and columns (:data:`TASK_FIELDS`), its ``head_options``, its ``loss_weight``
and, for ``sampling: weights``, its ``sampling_weight``::

    model_name_or_path: path/to/backbone
    max_steps: 400
    sampling: temperature          # proportional | temperature | round_robin | weights
    tasks:
      - {name: upos, task: token_classification, conllu_label_field: upos, train_file: train.conllu}
      - {name: deps, task: dep_parsing, train_file: train.conllu, loss_weight: 2.0}

Each batch holds the examples of one task, drawn by the sampler. Every task's loss is divided by that task's
items in the whole accumulated batch on every process (``num_items_in_batch`` per task), then weighted, so
the loss does not depend on accumulation or process count. The output directory holds ``metrics.json``
(``{"train": ..., "tasks": {name: {"validation": ..., "test": ...}}, "macro_average": ...}``), one predictions
file per task in ``predictions/``, ``loss.png`` with one training curve per task, and ``model/``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import attrs
import transformers
from transformers import TrainingArguments

from archit.errors import DataError, MultiTaskError
from archit.simple.config import RunConfiguration, RunConfigurationError
from archit.simple.data import Example, Feature, TaskData, get_task_data, load_tokenizer
from archit.simple.multitask_training import (
    MultiTaskTrainer,
    ScheduledBatches,
    TaskCollator,
    sampling_probabilities,
    task_schedule,
)
from archit.simple.outputs import partial_directory, publish_directory, replacing
from archit.simple.plotting import plot_task_losses
from archit.simple.prediction import predict_file
from archit.simple.training import ArchitTrainer, LogAtCheckpoints, mean_training_loss

__all__ = [
    "SAMPLING_STRATEGIES",
    "TASK_FIELDS",
    "MultiTaskRunConfiguration",
    "MultiTaskTrainer",
    "TaskRun",
    "evaluate_task",
    "load_multitask_run",
    "predict_task",
    "run_multitask",
    "sampling_probabilities",
    "task_schedule",
]

TASK_FIELDS = (
    "task",
    "train_file",
    "validation_file",
    "test_file",
    "encoding",
    "delimiter",
    "text_column",
    "text_pair_column",
    "label_column",
    "label_separator",
    "choices_column",
    "conllu_label_field",
    "head_options",
    "max_seq_length",
    "doc_stride",
    "max_answer_length",
    "max_train_samples",
    "max_eval_samples",
)
"""The run-configuration fields each task sets for itself; every other field is shared by all tasks."""

SAMPLING_STRATEGIES = ("proportional", "temperature", "round_robin", "weights")
_OWN_KEYS = ("name", "loss_weight", "sampling_weight")


@attrs.frozen
class TaskRun:
    """One task of a multi-task run.

    Attributes:
        name: the task's name (its head's name in the model, its key in ``metrics.json``).
        config: the task's own run configuration (the shared fields plus its own).
        loss_weight: the factor of its loss in the training objective.
        sampling_weight: its share of the batches under ``sampling: weights``.
    """

    name: str
    config: RunConfiguration
    loss_weight: float = 1.0
    sampling_weight: float | None = None


@attrs.frozen
class MultiTaskRunConfiguration:
    """A run of several tasks on one backbone; see the module docstring for the YAML layout.

    Attributes:
        shared: the training options all tasks share (a run configuration of the first task).
        tasks: the tasks, in the order of their heads.
        sampling: how batches are drawn from the tasks: ``proportional`` to their training examples,
            ``temperature`` (proportional to size ** (1 / sampling_temperature)), ``round_robin``, or by each
            task's ``sampling_weight`` (``weights``).
        sampling_temperature: the temperature of ``temperature`` sampling (1 is proportional; larger is flatter).
    """

    shared: RunConfiguration
    tasks: tuple[TaskRun, ...]
    sampling: str = "proportional"
    sampling_temperature: float = 2.0

    @classmethod
    def from_dict(
        cls, values: Mapping[str, Any], origin: str = "the configuration", check_files: bool = True
    ) -> MultiTaskRunConfiguration:
        """Check and build a multi-task configuration from YAML-like values (the top level and ``tasks``).

        Args:
            values: the top-level fields and ``tasks``.
            origin: where the values come from, for messages.
            check_files: whether each task's data files must exist (not for the configuration of a trained model).

        Raises:
            MultiTaskError: no tasks, a task without a name, two tasks with one name, a head option of another
                kind of task.
            RunConfigurationError: a bad value, a shared option set under a task, a task without ``train_file``,
                an unknown sampling strategy or missing sampling weights, ``resume``, ``early_stopping_patience``
                or ``group_by_length`` (single-task runs only).
            DataError: a task's file does not exist.
        """
        values = dict(values)
        entries = values.pop("tasks", None)
        sampling = values.pop("sampling", "proportional")
        temperature = float(values.pop("sampling_temperature", 2.0))
        if not entries or not isinstance(entries, list):
            raise MultiTaskError(
                f"{origin}: tasks must be a list of tasks, each with a name and a task; got {entries!r}."
            )
        if sampling not in SAMPLING_STRATEGIES:
            raise RunConfigurationError(f"sampling must be one of {', '.join(SAMPLING_STRATEGIES)}; got {sampling!r}.")
        if temperature <= 0:
            raise RunConfigurationError(f"sampling_temperature must be positive; got {temperature!r}.")
        for option in ("resume", "early_stopping_patience"):
            if values.get(option) not in (None, False):
                raise RunConfigurationError(
                    f"{option} is not available for multi-task runs (they evaluate each task after training); "
                    f"remove it from {origin}."
                )
        if values.get("group_by_length") not in (None, False):
            raise RunConfigurationError(
                f"group_by_length is not available for multi-task runs (their batches follow the task schedule); "
                f"remove it from {origin}."
            )
        tasks = tuple(_task_run(entry, index, values, origin, check_files) for index, entry in enumerate(entries))
        names = [task.name for task in tasks]
        repeated = next((name for name in names if names.count(name) > 1), None)
        if repeated is not None:
            raise MultiTaskError(f"Two tasks are named {repeated!r}; give each task its own name.")
        if sampling == "weights":
            unweighted = [task.name for task in tasks if task.sampling_weight is None]
            if unweighted:
                raise RunConfigurationError(
                    f"sampling: weights needs a sampling_weight for every task; task {unweighted[0]!r} has none."
                )
        from archit.modeling.multitask import task_options

        task_options({task.name: {"task": task.config.task, **task.config.head_options} for task in tasks})
        return cls(tasks[0].config, tasks, sampling, temperature)

    @classmethod
    def from_yaml(cls, path: str, **overrides: Any) -> MultiTaskRunConfiguration:
        """Read a YAML file with a ``tasks:`` list; ``overrides`` replace shared top-level values."""
        values = RunConfiguration.read_yaml(path)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls.from_dict(values, origin=path)

    def to_dict(self) -> dict[str, Any]:
        """The YAML layout: shared fields at the top, each task's own under ``tasks``."""
        shared = {key: value for key, value in self.shared.to_dict().items() if key not in TASK_FIELDS}
        tasks = []
        for task in self.tasks:
            own = {key: value for key, value in task.config.to_dict().items() if key in TASK_FIELDS}
            weights = {"loss_weight": task.loss_weight, "sampling_weight": task.sampling_weight}
            tasks.append({"name": task.name, **own, **{k: v for k, v in weights.items() if v is not None}})
        sampling = {"sampling": self.sampling, "sampling_temperature": self.sampling_temperature}
        return {**shared, **sampling, "tasks": tasks}

    def to_yaml(self, path: str) -> None:
        """Write :meth:`to_dict` as YAML, whole or not at all."""
        import yaml

        with replacing(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.to_dict(), handle, sort_keys=False, allow_unicode=True)

    def task(self, name: str) -> TaskRun:
        """The task called ``name``.

        Raises:
            MultiTaskError: no such task.
        """
        for task in self.tasks:
            if task.name == name:
                return task
        raise MultiTaskError(f"No task {name!r} in this run; its tasks are {', '.join(t.name for t in self.tasks)}.")


def _task_run(entry: Any, index: int, shared: Mapping[str, Any], origin: str, check_files: bool) -> TaskRun:
    if not isinstance(entry, Mapping) or not entry.get("name"):
        raise MultiTaskError(f"{origin}: tasks[{index}] has no name; give it name: and task:.")
    name, own = entry["name"], dict(entry)
    weights = {key: own.pop(key) for key in ("loss_weight", "sampling_weight") if key in own}
    own.pop("name")
    misplaced = sorted(set(own) - set(TASK_FIELDS))
    if misplaced:
        raise RunConfigurationError(
            f"{misplaced[0]} is set under task {name!r}, but it is shared by all tasks; move it to the top level."
        )
    config = RunConfiguration.from_dict({**shared, **own}, origin=f"{origin}, task {name!r}")
    if config.train_file is None:
        raise RunConfigurationError(f"Task {name!r} has no train_file; add train_file: PATH under it.")
    for field in ("train_file", "validation_file", "test_file"):
        path = getattr(config, field)
        if check_files and path is not None and not os.path.isfile(path):
            raise DataError(f"Task {name!r}: {field} {path} does not exist; fix the path under tasks[{index}].")
    for key, value in weights.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise RunConfigurationError(f"{key} of task {name!r} must be a number >= 0; got {value!r}.")
    return TaskRun(name, config, float(weights.get("loss_weight", 1.0)), weights.get("sampling_weight"))


# --- the run ----------------------------------------------------------------------------------------------------
@attrs.frozen
class MultiTaskResult:
    """What :func:`run_multitask` wrote, and the metrics it computed.

    Attributes:
        output_dir, model_dir: the run's output directory and its saved model.
        metrics: ``{"train": ..., "tasks": {name: {"validation": ..., "test": ...}}, "macro_average": ...}``.
        metrics_file, config_file, plot_file: the JSON metrics, the resolved YAML configuration, the PNG plot.
        predictions_files: each task's predictions file (tasks with an evaluation or test file).
    """

    output_dir: str
    model_dir: str
    metrics: dict[str, Any]
    metrics_file: str
    config_file: str
    plot_file: str
    predictions_files: dict[str, str]


def _read_splits(data: TaskData, config: RunConfiguration) -> dict[str, list[Example]]:
    splits = {}
    for split, path, limit in (
        ("train", config.train_file, config.max_train_samples),
        ("validation", config.validation_file, config.max_eval_samples),
        ("test", config.test_file, config.max_eval_samples),
    ):
        if path is not None:
            examples = data.read(path)
            splits[split] = examples[:limit] if limit else examples
    return splits


def load_multitask_model(config: MultiTaskRunConfiguration, data: Mapping[str, TaskData]) -> Any:
    """The multi-task model of the run: one head per task, with the labels its training data implies."""
    from archit.modeling.factory import ArchitFactory

    tasks = {}
    for task in config.tasks:
        implied = data[task.name].head_options()
        given = task.config.head_options
        if "num_labels" in implied and given.get("num_labels", implied["num_labels"]) != implied["num_labels"]:
            raise RunConfigurationError(
                f"head_options of task {task.name!r} sets num_labels={given['num_labels']!r}, but its training data "
                f"has {implied['num_labels']} labels; drop num_labels from its head_options."
            )
        tasks[task.name] = {"task": task.config.task, **given, **implied}
    shared = config.shared
    return ArchitFactory.from_pretrained(shared.model_name_or_path, tasks=tasks, revision=shared.revision)


def _training_arguments(config: MultiTaskRunConfiguration) -> TrainingArguments:
    from archit._compat import sequential_training_order
    from archit.simple.run import training_arguments

    # evaluation runs per task after training; each dataset item is a whole batch, in the sampler's order
    args = training_arguments(attrs.evolve(config.shared, validation_file=None), None, has_eval=False)
    args.per_device_train_batch_size = 1
    for name, value in sequential_training_order().items():
        setattr(args, name, value)
    return args


def run_multitask(config: MultiTaskRunConfiguration) -> MultiTaskResult:
    """Train the tasks of ``config`` together on one backbone, then evaluate and predict each, and write every
    output of the run (see the module docstring).

    Raises:
        RunConfigurationError, MultiTaskError, DataError: as :meth:`MultiTaskRunConfiguration.from_dict`, or a
            data file that is malformed.
        CheckpointError, HeadConfigError: the model cannot be loaded for a task.
    """
    shared = config.shared
    transformers.set_seed(shared.seed)
    tokenizer = load_tokenizer(shared.model_name_or_path, revision=shared.revision)
    data = {task.name: get_task_data(task.config.task, task.config, tokenizer) for task in config.tasks}
    splits = {task.name: _read_splits(data[task.name], task.config) for task in config.tasks}
    for name, task_data in data.items():
        task_data.fit_labels(splits[name]["train"])
    model = load_multitask_model(config, data)
    features = {
        name: {split: data[name].featurize(examples, training=split == "train") for split, examples in parts.items()}
        for name, parts in splits.items()
    }
    sizes = {name: len(parts["train"]) for name, parts in features.items()}
    weights = {task.name: task.sampling_weight for task in config.tasks if task.sampling_weight is not None}
    probabilities = sampling_probabilities(sizes, config.sampling, config.sampling_temperature, weights)
    per_epoch = sum(math.ceil(size / shared.train_batch_size) for size in sizes.values())
    schedule = task_schedule(probabilities, per_epoch, config.sampling, shared.seed)
    train = ScheduledBatches(
        {name: parts["train"] for name, parts in features.items()}, schedule, shared.train_batch_size, shared.seed
    )
    collators = {name: task_data.collator(training=True) for name, task_data in data.items()}
    trainer = MultiTaskTrainer(
        model=model,
        args=_training_arguments(config),
        data_collator=TaskCollator(collators),
        train_dataset=train,
        processing_class=tokenizer,
        callbacks=[LogAtCheckpoints()],
        task_data=data[config.tasks[0].name],
        head_learning_rate=shared.head_learning_rate,
        loss_weights={task.name: task.loss_weight for task in config.tasks},
    )
    train_output = trainer.train()
    metrics: dict[str, Any] = {
        "train": {**train_output.metrics, "train_loss": mean_training_loss(trainer.state.log_history)}
    }
    metrics["tasks"], predictions = _evaluate_tasks(trainer, data, features, splits)
    metrics["macro_average"] = _macro_average(metrics["tasks"], data)
    return _write_outputs(config, data, trainer, metrics, predictions, splits)


def _predict_task(
    trainer: ArchitTrainer, name: str, data: TaskData, features: list[Feature], examples: list[Example], split: str
) -> tuple[list[Any], float | None]:
    """Decoded predictions of one task's features, and the loss."""
    trainer.task_data = data
    trainer.data_collator = TaskCollator({name: data.collator()}, task=name)
    outputs = trainer.predict(features, metric_key_prefix=split)
    arrays = outputs.predictions if isinstance(outputs.predictions, (tuple, list)) else (outputs.predictions,)
    named = dict(zip(data.prediction_names, arrays, strict=True))
    return data.decode(named, features, examples), outputs.metrics.get(f"{split}_loss")


def _evaluate_tasks(
    trainer: ArchitTrainer, data: Mapping[str, TaskData], features: Mapping[str, Any], splits: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, tuple[str, list[Any]]]]:
    metrics: dict[str, Any] = {}
    predictions = {}
    for name, task_data in data.items():
        metrics[name] = {}
        for split in ("validation", "test"):
            if split in splits[name]:
                decoded, loss = _predict_task(
                    trainer, name, task_data, features[name][split], splits[name][split], split
                )
                scores = {"loss": loss, **task_data.score(decoded, splits[name][split])}
                metrics[name][split] = {key: value for key, value in scores.items() if value is not None}
                predictions[name] = (split, decoded)
    return metrics, predictions


def _macro_average(task_metrics: Mapping[str, Any], data: Mapping[str, TaskData]) -> dict[str, Any]:
    """Per split, the mean over tasks of each task's main metric (accuracy, LAS...), and which metric that was."""
    average = {}
    for split in ("validation", "test"):
        scored = {
            name: parts[split][data[name].main_metric]
            for name, parts in task_metrics.items()
            if data[name].main_metric in parts.get(split, {})
        }
        if scored:
            average[split] = {
                "main_metric": sum(scored.values()) / len(scored),
                "of": {name: data[name].main_metric for name in scored},
            }
    return average


def _write_outputs(
    config: MultiTaskRunConfiguration,
    data: Mapping[str, TaskData],
    trainer: MultiTaskTrainer,
    metrics: dict[str, Any],
    predictions: Mapping[str, tuple[str, list[Any]]],
    splits: Mapping[str, Any],
) -> MultiTaskResult:
    """Save the model (every process) and, on the main process, the predictions, log, plot, configuration and
    metrics (last), each whole or not at all."""
    import json

    from archit.simple.run import RUN_CONFIG_NAME

    output_dir = config.shared.resolved_output_dir
    model_dir = os.path.join(output_dir, "model")
    staging = partial_directory(model_dir)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(staging)
    tasks = tuple(
        attrs.evolve(
            task, config=attrs.evolve(task.config, head_options={**task.config.head_options, **_plain(data[task.name])})
        )
        for task in config.tasks
    )
    resolved = attrs.evolve(config, shared=attrs.evolve(config.shared, output_dir=output_dir), tasks=tasks)
    files = {name: os.path.join(output_dir, name) for name in ("config.yaml", "metrics.json", "loss.png")}
    predictions_files = {
        name: os.path.join(output_dir, "predictions", name + data[name].prediction_suffix(splits[name][split]))
        for name, (split, _) in predictions.items()
    }
    if trainer.is_world_process_zero():
        resolved.to_yaml(os.path.join(staging, RUN_CONFIG_NAME))
        publish_directory(staging, model_dir)
        for name, (split, decoded) in predictions.items():
            os.makedirs(os.path.dirname(predictions_files[name]), exist_ok=True)
            with replacing(predictions_files[name]) as temporary:
                data[name].write_predictions(temporary, decoded, splits[name][split])
        for path, value in ((os.path.join(output_dir, "log_history.json"), trainer.state.log_history),):
            with replacing(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
                json.dump(value, handle, indent=2, default=float)
        with replacing(files["loss.png"]) as temporary:
            plot_task_losses(trainer.state.log_history, list(data), temporary, title=config.shared.run_name)
        resolved.to_yaml(files["config.yaml"])
        with replacing(files["metrics.json"]) as temporary, open(temporary, "w", encoding="utf-8") as handle:
            json.dump(metrics, handle, indent=2, ensure_ascii=False, default=float)
            handle.write("\n")
        checkpoints = trainer.args.output_dir
        if os.path.isdir(checkpoints) and not os.listdir(checkpoints):
            os.rmdir(checkpoints)
    trainer.accelerator.wait_for_everyone()
    return MultiTaskResult(
        output_dir,
        model_dir,
        metrics,
        files["metrics.json"],
        files["config.yaml"],
        files["loss.png"],
        predictions_files,
    )


def _plain(data: TaskData) -> dict[str, Any]:
    """The data's head options as YAML-friendly values (label ids as plain ints)."""
    options = data.head_options()
    if "id2label" in options:
        options["id2label"] = {int(key): value for key, value in options["id2label"].items()}
    return options


# --- using a trained multi-task model -----------------------------------------------------------------------------
def load_multitask_run(model: str, task: str) -> tuple[TaskRun, TaskData, Any]:
    """One task of a saved multi-task run: its configuration, its task data (with the model's labels) and its
    single-task model (the saved backbone and that task's head).

    Args:
        model: a multi-task run's output directory or its ``model/`` directory.
        task: the task's name.

    Raises:
        DataError: no model saved by :func:`run_multitask` there.
        MultiTaskError: the run trained one task, or none called ``task``.
    """
    from archit.modeling.multitask import MultiTaskModel
    from archit.simple.run import RUN_CONFIG_NAME

    directory = next(
        (path for path in (model, os.path.join(model, "model")) if os.path.isfile(os.path.join(path, RUN_CONFIG_NAME))),
        None,
    )
    if directory is None:
        raise DataError(
            f"{model} holds no {RUN_CONFIG_NAME} (nor does its model/): pass the output directory of a multi-task "
            "`archit train` run, or its model/ directory."
        )
    path = os.path.join(directory, RUN_CONFIG_NAME)
    values = RunConfiguration.read_yaml(path)
    if "tasks" not in values:
        raise MultiTaskError(f"{model} was trained on one task ({values.get('task')}), not several; drop --task.")
    run = MultiTaskRunConfiguration.from_dict(values, origin=path, check_files=False).task(task)
    trained = MultiTaskModel.from_pretrained(directory).task_model(task)
    id2label = trained.config.id2label or {}
    labels = [id2label[key] for key in sorted(id2label, key=int)] if run.config.head_options.get("id2label") else None
    data = get_task_data(run.config.task, run.config, load_tokenizer(directory), labels)
    return run, data, trained


def _task_data_for_file(
    model: str, task: str, batch_size: int | None, encoding: str | None, delimiter: str | None
) -> tuple[TaskData, Any]:
    """One task's data, its configuration given the batch size, encoding and delimiter that are set, and its
    model."""
    run, data, trained = load_multitask_run(model, task)
    changes: dict[str, Any] = {
        key: value
        for key, value in (("encoding", encoding), ("delimiter", delimiter), ("eval_batch_size", batch_size))
        if value is not None
    }
    data.config = attrs.evolve(run.config, **changes)
    return data, trained


def predict_task(
    model: str,
    task: str,
    data_file: str,
    output_file: str | None = None,
    batch_size: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> tuple[str | None, dict[str, float]]:
    """Predict a data file with one task of a trained multi-task model; score it when the file has gold labels.

    Returns:
        The predictions file (``None`` on processes other than the main one) and the metrics (``{}`` without
        gold labels).

    Raises:
        DataError, MultiTaskError: see :func:`load_multitask_run`; an unusable data file.
    """
    data, trained = _task_data_for_file(model, task, batch_size, encoding, delimiter)
    path = output_file or os.path.splitext(data_file)[0] + f".{task}.predictions"
    result = predict_file(
        data, trained, data_file, lambda suffix: path if path.endswith(suffix) else path + suffix, loss=False
    )
    return result.output_file, result.scores if result.output_file is not None else {}


def evaluate_task(
    model: str,
    task: str,
    data_file: str,
    batch_size: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> dict[str, float | None]:
    """Score one task of a trained multi-task model on a labelled data file.

    Raises:
        DataError: the file holds no gold labels; see :func:`load_multitask_run`.
        MultiTaskError: see :func:`load_multitask_run`.
    """
    data, trained = _task_data_for_file(model, task, batch_size, encoding, delimiter)
    result = predict_file(data, trained, data_file)
    if not result.scores:
        raise DataError(f"{data_file} holds no gold labels to evaluate against; use `archit predict` instead.")
    return {"loss": result.loss, **result.scores}
