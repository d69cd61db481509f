"""What every task's data does, and the registry that maps task names to it.

A :class:`TaskData` reads a task's files into examples (plain dicts, each remembering its line), builds
the label list from the training examples, turns examples into features (lists of ids a collator pads),
turns the model's outputs back into one prediction per example, scores predictions against the examples'
gold labels and writes a predictions file. Prediction streams a file: :meth:`TaskData.read_chunks` gives its
examples a chunk at a time, a :class:`Scorer` adds up each chunk's scores, and
:meth:`TaskData.write_predictions_to` appends each chunk's predictions.
"""

from __future__ import annotations

import abc
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

import numpy as np

from archit.errors import DataError, UnknownTaskError
from archit.registry import Registry
from archit.simple.data.collate import Collator
from archit.simple.textfiles import create_text

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from archit.simple.config import RunConfiguration

__all__ = [
    "TASK_DATA",
    "Example",
    "Feature",
    "KeptScorer",
    "Scorer",
    "TaskData",
    "chunked",
    "get_task_data",
    "register_task_data",
    "registered_tasks",
    "task_data_class",
    "write_jsonl",
    "write_jsonl_lines",
]

Example = dict[str, Any]
"""One example as read from a file; ``"line"`` holds the line (1-based) it starts on."""
Feature = dict[str, Any]
"""One model input: lists of ids under the names the model takes, plus bookkeeping keys the collator drops."""

TASK_DATA: Registry[type[TaskData]] = Registry(
    "task data reader",
    UnknownTaskError,
    "Add one with @archit.simple.data.register_task_data on a TaskData subclass, or use the task from Python.",
)
"""The :class:`TaskData` class of each task that the runscripts can read data for."""


class Scorer(abc.ABC):
    """The scores of a file's predictions, added up chunk by chunk: the result is that of scoring the whole file
    at once (counts are summed, never averages of chunks)."""

    @abc.abstractmethod
    def add(self, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        """Add the predictions of some examples (the next ones of the file)."""

    @abc.abstractmethod
    def result(self) -> dict[str, float]:
        """The metrics of every prediction added (``{}`` when no example had gold labels)."""

    def score(self, predictions: Sequence[Any], examples: Sequence[Example]) -> dict[str, float]:
        """:meth:`add` then :meth:`result`: the metrics of one set of predictions."""
        self.add(predictions, examples)
        return self.result()


class KeptScorer(Scorer):
    """A :class:`Scorer` that keeps every prediction and example and scores them together at the end, for tasks
    whose metrics need the whole file at once.

    Args:
        score: the task data's :meth:`TaskData.score`.
    """

    def __init__(self, score: Callable[[Sequence[Any], Sequence[Example]], dict[str, float]]) -> None:
        self._score = score
        self.predictions: list[Any] = []
        self.examples: list[Example] = []

    def add(self, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        self.predictions += predictions
        self.examples += examples

    def result(self) -> dict[str, float]:
        return self._score(self.predictions, self.examples)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last one shorter), taken from ``items`` as they are needed."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class TaskData(abc.ABC):
    """Reading, featurising, decoding, scoring and writing for one task.

    Args:
        task: the archit task name (one of :attr:`tasks`).
        config: the run configuration (column names, maximum sequence length, answer length...).
        tokenizer: the tokenizer of the checkpoint; see :func:`archit.simple.data.load_tokenizer`.
        labels: the label names, when the task has them and they are known (from a trained model's config).

    Class attributes:
        tasks: the task names this class serves.
        formats: the input files it reads, for ``archit tasks``.
        metrics: the metrics it reports, by task name, for ``archit tasks``.
        predictions: the format of its predictions file, for ``archit tasks``.
    """

    tasks: ClassVar[tuple[str, ...]] = ()
    formats: ClassVar[str] = ""
    metrics: ClassVar[dict[str, str]] = {}
    predictions: ClassVar[str] = "JSONL"

    def __init__(
        self,
        task: str,
        config: RunConfiguration,
        tokenizer: PreTrainedTokenizerBase,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.task = task
        self.config = config
        self.tokenizer = tokenizer
        self.labels: list[str] | None = list(labels) if labels is not None else None

    # --- reading ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def read(self, path: str) -> list[Example]:
        """Read a data file into examples.

        Raises:
            DataError: the file is missing or malformed; the message names the file and line.
        """

    def read_chunks(self, path: str, size: int) -> Iterator[list[Example]]:
        """The examples of a data file, ``size`` at a time, read as they are needed.

        By default the whole file is read at once and given in chunks; a task whose reader streams overrides
        this, so that predicting a file holds one chunk of it at a time.

        Raises:
            DataError: as :meth:`read`, when the chunk at fault is reached.
        """
        return chunked(self.read(path), size)

    def example_labels(self, example: Example) -> Iterable[str]:
        """The label names an example holds (none for tasks without label names)."""
        return ()

    def fit_labels(self, examples: Sequence[Example]) -> None:
        """Set :attr:`labels` to the sorted label names of the training examples (left as they are when the
        task has no label names), so that runs on the same data agree."""
        labels = sorted({label for example in examples for label in self.example_labels(example)})
        if labels:
            self.labels = labels

    def head_options(self) -> dict[str, Any]:
        """The head fields this data implies (``num_labels``, ``id2label``, ``label2id``)."""
        if self.labels is None:
            return {}
        return {
            "num_labels": len(self.labels),
            "id2label": dict(enumerate(self.labels)),
            "label2id": {label: index for index, label in enumerate(self.labels)},
        }

    @property
    def label2id(self) -> dict[str, int]:
        """Index of each label name."""
        return {label: index for index, label in enumerate(self.labels or [])}

    # --- features --------------------------------------------------------------------------------------
    @abc.abstractmethod
    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        """Tokenise examples into features; examples without gold labels give features without ``labels``."""

    def collator(self, training: bool = False) -> Callable[[list[Feature]], dict[str, Any]]:
        """The function that pads a list of features into a batch of tensors."""
        return Collator(self.tokenizer)

    # --- predictions -----------------------------------------------------------------------------------
    @property
    def output_names(self) -> tuple[str, ...]:
        """The model outputs :meth:`decode` reads."""
        return ("logits",)

    @property
    def prediction_names(self) -> tuple[str, ...]:
        """Names of the arrays :meth:`decode` reads, in the order :meth:`reduce_outputs` returns them."""
        return self.output_names

    def reduce_outputs(self, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        """What to keep of one batch's model outputs for :meth:`decode` (by default the :attr:`output_names`).

        Raises:
            DataError: the model returned none of a needed output.
        """
        missing = [name for name in self.output_names if outputs.get(name) is None]
        if missing:
            raise DataError(
                f"Task {self.task} decodes model outputs {', '.join(self.output_names)}, but the model returned no "
                f"{', '.join(missing)} (it returned {', '.join(k for k, v in outputs.items() if v is not None)})."
            )
        return {name: outputs[name] for name in self.output_names}

    @abc.abstractmethod
    def decode(
        self, outputs: Mapping[str, np.ndarray], features: Sequence[Feature], examples: Sequence[Example]
    ) -> list[Any]:
        """One prediction per example from the model outputs of the features (stacked, ``-100``-padded)."""

    @abc.abstractmethod
    def score(self, predictions: Sequence[Any], examples: Sequence[Example]) -> dict[str, float]:
        """Metrics of the predictions against the examples' gold labels (``{}`` when they have none)."""

    def scorer(self) -> Scorer:
        """A :class:`Scorer` that adds up the scores of a file chunk by chunk; by default one that keeps every
        chunk and calls :meth:`score` at the end."""
        return KeptScorer(self.score)

    def prediction_suffix(self, examples: Sequence[Example]) -> str:
        """Extension of the predictions file written for these examples (``.jsonl`` unless the task writes
        its input format back)."""
        return ".jsonl"

    def write_predictions(self, path: str, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        """Write one record per example with its prediction (and its gold label when it has one) to a new file
        (UTF-8 without a byte-order mark, LF line ends)."""
        with create_text(path) as handle:
            self.write_predictions_to(handle, predictions, examples)

    @abc.abstractmethod
    def write_predictions_to(self, handle: TextIO, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        """Append one record per example with its prediction (and its gold label when it has one) to an open
        predictions file; a file written chunk by chunk is the file written at once."""

    @property
    def main_metric(self) -> str:
        """The metric that picks the best checkpoint and drives early stopping."""
        return "loss"

    @property
    def greater_is_better(self) -> bool:
        """Whether a larger :attr:`main_metric` is better."""
        return self.main_metric != "loss"


def register_task_data(cls: type[TaskData]) -> type[TaskData]:
    """Class decorator binding each of ``cls.tasks`` to ``cls``.

    Raises:
        RegistrationError: another class already reads one of those tasks.
    """
    for task in cls.tasks:
        TASK_DATA.register(cls, task)
    return cls


def task_data_class(task: str) -> type[TaskData]:
    """The :class:`TaskData` class of a task.

    Raises:
        UnknownTaskError: no data class serves that task; the message lists the tasks that have one.
    """
    return TASK_DATA.get(task)


def get_task_data(
    task: str, config: RunConfiguration, tokenizer: PreTrainedTokenizerBase, labels: Sequence[str] | None = None
) -> TaskData:
    """An instance of the task's :class:`TaskData`."""
    return task_data_class(task)(task, config, tokenizer, labels)


def registered_tasks() -> dict[str, type[TaskData]]:
    """Every task with a data class, in name order."""
    return dict(TASK_DATA.items())


def write_jsonl(path: str, records: Iterable[Mapping[str, Any]]) -> None:
    """Write one JSON object per line (UTF-8 without a byte-order mark, LF line ends, non-ASCII kept)."""
    with create_text(path) as handle:
        write_jsonl_lines(handle, records)


def write_jsonl_lines(handle: TextIO, records: Iterable[Mapping[str, Any]]) -> None:
    """Append one JSON object per line to an open text file (non-ASCII kept)."""
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
