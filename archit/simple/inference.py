"""Using a trained model: ``load_run`` a saved run, ``predict`` a data file, ``evaluate`` on a labelled one.

A saved run is a directory written by :func:`~archit.simple.run.run_simple` (or its ``model/`` directory), or a
Hugging Face Hub repository holding one; its ``archit_run.yaml`` gives the task and the data settings.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import transformers

from archit.errors import DataError
from archit.resolution.checkpoints import checkpoint_file
from archit.simple.config import RunConfiguration
from archit.simple.data import TaskData, get_task_data, load_tokenizer
from archit.simple.prediction import predict_file
from archit.simple.run import RUN_CONFIG_NAME
from archit.simple.textfiles import DEFAULT_ENCODING

__all__ = ["evaluate", "load_run", "predict"]


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
        hub_options: dict[str, Any] = {
            key: value for key, value in (("revision", revision), ("subfolder", subfolder)) if value
        }
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


def _for_file(
    config: RunConfiguration, data: TaskData, batch_size: int | None, encoding: str, delimiter: str | None
) -> None:
    """Give ``data`` the run's configuration with the batch size and the data file's encoding and delimiter. The
    encoding and delimiter describe the file at hand, so they are not taken from the training run."""
    changes: dict[str, Any] = {"encoding": encoding, "delimiter": delimiter}
    if batch_size is not None:
        changes["eval_batch_size"] = batch_size
    data.config = attrs.evolve(config, **changes)


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
    _for_file(config, data, batch_size, encoding, delimiter)
    result = predict_file(
        data,
        trained,
        data_file,
        lambda suffix: output_file or os.path.splitext(data_file)[0] + ".predictions" + suffix,
        loss=False,
    )
    return result.output_file, result.scores if result.output_file is not None else {}


def evaluate(
    model: str,
    data_file: str,
    batch_size: int | None = None,
    revision: str | None = None,
    encoding: str = DEFAULT_ENCODING,
    delimiter: str | None = None,
) -> dict[str, float | None]:
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
    _for_file(config, data, batch_size, encoding, delimiter)
    result = predict_file(data, trained, data_file)
    if not result.scores:
        raise DataError(f"{data_file} holds no gold labels to evaluate against; use `archit predict` instead.")
    return {"loss": result.loss, **result.scores}
