"""Sequence classification (single-label, multi-label), regression and sentence pairs from CSV, TSV or JSONL.

Each record holds the text (``text_column``), optionally a second text (``text_pair_column``) and, for
training and evaluation, the label (``label_column``): a label name for single-label classification, a list
of names (or one string of names joined by ``label_separator``) for multi-label classification, a number for
regression.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from archit.errors import DataError
from archit.modeling.tasks.losses import IGNORE_INDEX
from archit.simple.data.base import Example, Feature, TaskData, register_task_data, write_jsonl
from archit.simple.data.files import read_records, require
from archit.simple.metrics.classification import accuracy, correlations, macro_f1, multi_label_scores

__all__ = ["SequenceClassificationData"]

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
        config = self.config
        examples = []
        for line, record in read_records(path, config.encoding, config.delimiter):
            example: Example = {"line": line, "text": str(require(path, line, record, config.text_column))}
            if config.text_pair_column and record.get(config.text_pair_column) not in (None, ""):
                example["text_pair"] = str(record[config.text_pair_column])
            if record.get(config.label_column) not in (None, ""):
                example["label"] = self._parse_label(path, line, record[config.label_column])
            examples.append(example)
        with_pair = [example for example in examples if "text_pair" in example]
        if with_pair and len(with_pair) < len(examples):
            line = next(example["line"] for example in examples if "text_pair" not in example)
            raise DataError(
                f"{path}, line {line}: no text pair in column {config.text_pair_column!r}, while "
                f"{len(with_pair)} other records have one; give every record a pair or none."
            )
        return examples

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
        pairs = [(p, e["label"]) for p, e in zip(predictions, examples, strict=True) if "label" in e]
        if not pairs:
            return {}
        predicted, gold = [p for p, _ in pairs], [g for _, g in pairs]
        if self.task == REGRESSION:
            return correlations(predicted, gold)
        if self.task == MULTI:
            names = sorted({*(self.labels or []), *(n for row in gold for n in row)})
            rows = [[[int(n in row) for n in names] for row in side] for side in (predicted, gold)]
            return multi_label_scores(rows[0], rows[1])
        return {"accuracy": accuracy(predicted, gold), "macro_f1": macro_f1(predicted, gold)}

    def write_predictions(self, path: str, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        write_jsonl(path, [{**example, "prediction": p} for p, example in zip(predictions, examples, strict=True)])

    @property
    def main_metric(self) -> str:
        return {SINGLE: "accuracy", MULTI: "macro_f1", REGRESSION: "pearson"}[self.task]
