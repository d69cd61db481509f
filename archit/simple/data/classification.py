"""Sequence classification (single-label, multi-label), regression and sentence pairs from CSV, TSV or JSONL.

Each record holds the text (``text_column``), optionally a second text (``text_pair_column``) and, for
training and evaluation, the label (``label_column``): a label name for single-label classification, a list
of names (or one string of names joined by ``label_separator``) for multi-label classification, a number for
regression.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TextIO

import numpy as np

from archit.errors import DataError
from archit.modeling.tasks.losses import IGNORE_INDEX
from archit.simple.data.base import (
    Example,
    Feature,
    Scorer,
    TaskData,
    chunked,
    register_task_data,
    write_jsonl_lines,
)
from archit.simple.data.files import iter_records, require
from archit.simple.metrics.classification import LabelCounts, correlations, multi_label_scores

__all__ = ["ClassificationScorer", "SequenceClassificationData"]

SINGLE, MULTI, REGRESSION = "sequence_classification", "multi_label_classification", "regression"


@register_task_data
class SequenceClassificationData(TaskData):
    """Data of ``sequence_classification``, ``multi_label_classification`` and ``regression``."""

    tasks = (SINGLE, MULTI, REGRESSION)
    formats = "CSV/TSV (header row) or JSONL: text column, optional text-pair column, label column"
    metrics = {
        SINGLE: "accuracy, macro F1",
        MULTI: "subset accuracy, micro and macro F1",
        REGRESSION: "Pearson, Spearman, MSE",
    }

    def read(self, path: str) -> list[Example]:
        return list(self._iter_examples(path))

    def read_chunks(self, path: str, size: int) -> Iterator[list[Example]]:
        return chunked(self._iter_examples(path), size)

    def _iter_examples(self, path: str) -> Iterator[Example]:
        """The file's examples, one at a time.

        Raises:
            DataError: a record lacks the text or has a bad label, or some records have a text pair and some do
                not, when the record at fault is reached.
        """
        config = self.config
        first: Example | None = None
        for line, record in iter_records(path, config.encoding, config.delimiter):
            example: Example = {"line": line, "text": str(require(path, line, record, config.text_column))}
            if config.text_pair_column and record.get(config.text_pair_column) not in (None, ""):
                example["text_pair"] = str(record[config.text_pair_column])
            if record.get(config.label_column) not in (None, ""):
                example["label"] = self._parse_label(path, line, record[config.label_column])
            first = first or example
            if ("text_pair" in example) != ("text_pair" in first):
                with_pair, without = (example, first) if "text_pair" in example else (first, example)
                raise DataError(
                    f"{path}, line {without['line']}: no text pair in column {config.text_pair_column!r}, while "
                    f"line {with_pair['line']} has one; give every record a pair or none."
                )
            yield example

    def _parse_label(self, path: str, line: int, value: Any) -> Any:
        if self.task == REGRESSION:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise DataError(f"{path}, line {line}: regression label {value!r} is not a number.") from None
            if not math.isfinite(number):
                raise DataError(f"{path}, line {line}: regression label {value!r} is not finite.")
            return number
        if self.task == MULTI:
            if isinstance(value, str):
                value = [part.strip() for part in value.split(self.config.label_separator) if part.strip()]
            if not isinstance(value, list):
                raise DataError(
                    f"{path}, line {line}: a multi-label label must be a list of names or a string of names "
                    f"joined by {self.config.label_separator!r}; found {value!r}."
                )
            return sorted({str(label) for label in value})
        if isinstance(value, (list, dict)):
            raise DataError(f"{path}, line {line}: a single-label label must be one name, found {value!r}.")
        return str(value)

    def example_labels(self, example: Example) -> Iterable[str]:
        if self.task == REGRESSION or "label" not in example:
            return ()
        return example["label"] if self.task == MULTI else (example["label"],)

    def head_options(self) -> dict[str, Any]:
        return {"num_labels": 1} if self.task == REGRESSION else super().head_options()

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        texts = [example["text"] for example in examples]
        pairs = [example.get("text_pair") for example in examples]
        has_pairs = all(pair is not None for pair in pairs) and bool(pairs)
        encodings = self.tokenizer(
            texts, pairs if has_pairs else None, truncation=True, max_length=self.config.max_seq_length
        )
        names = [name for name in self.tokenizer.model_input_names if name in encodings]
        features = []
        for index, example in enumerate(examples):
            feature: Feature = {name: encodings[name][index] for name in names}
            if "label" in example:
                feature["labels"] = self._label_value(example["label"])
            features.append(feature)
        return features

    def _label_value(self, label: Any) -> Any:
        if self.task == REGRESSION:
            return float(label)
        label2id = self.label2id
        if self.task == MULTI:
            vector = [0.0] * len(label2id)
            for name in label:
                if name in label2id:
                    vector[label2id[name]] = 1.0
            return vector
        return label2id.get(label, IGNORE_INDEX)

    def decode(
        self, outputs: Mapping[str, np.ndarray], features: Sequence[Feature], examples: Sequence[Example]
    ) -> list[Any]:
        logits = np.asarray(outputs["logits"], dtype=np.float64)
        if self.task == REGRESSION:
            return [float(row.reshape(-1)[0]) for row in logits]
        labels = self.labels or []
        if self.task == MULTI:
            return [[labels[i] for i in np.flatnonzero(row > 0.0)] for row in logits]  # sigmoid(x) > 0.5
        return [labels[int(i)] for i in logits.argmax(axis=-1)]

    def score(self, predictions: Sequence[Any], examples: Sequence[Example]) -> dict[str, float]:
        return self.scorer().score(predictions, examples)

    def scorer(self) -> ClassificationScorer:
        return ClassificationScorer(self.task, self.labels or [])

    def write_predictions_to(self, handle: TextIO, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        write_jsonl_lines(
            handle, ({**example, "prediction": p} for p, example in zip(predictions, examples, strict=True))
        )

    @property
    def main_metric(self) -> str:
        return {SINGLE: "accuracy", MULTI: "macro_f1", REGRESSION: "pearson"}[self.task]


class ClassificationScorer(Scorer):
    """Sequence classification scores added up chunk by chunk: label counts for single-label classification;
    the predicted and gold values alone (not the examples) for multi-label classification and regression, whose
    label set and correlations need them all.

    Args:
        task: ``sequence_classification``, ``multi_label_classification`` or ``regression``.
        labels: the model's label names.
    """

    def __init__(self, task: str, labels: Sequence[str]) -> None:
        self.task, self.labels = task, list(labels)
        self.counts = LabelCounts()
        self.predicted: list[Any] = []
        self.gold: list[Any] = []
        self.n_labelled = 0

    def add(self, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        pairs = [(p, e["label"]) for p, e in zip(predictions, examples, strict=True) if "label" in e]
        self.n_labelled += len(pairs)
        if self.task == SINGLE:
            self.counts.add([p for p, _ in pairs], [g for _, g in pairs])
        else:
            self.predicted += [p for p, _ in pairs]
            self.gold += [g for _, g in pairs]

    def result(self) -> dict[str, float]:
        if not self.n_labelled:
            return {}
        if self.task == REGRESSION:
            return correlations(self.predicted, self.gold)
        if self.task == MULTI:
            names = sorted({*self.labels, *(n for row in self.gold for n in row)})
            rows = [[[int(n in row) for n in names] for row in side] for side in (self.predicted, self.gold)]
            return multi_label_scores(rows[0], rows[1])
        return {"accuracy": self.counts.accuracy(), "macro_f1": self.counts.macro_f1()}
