"""Multiple choice from JSON Lines: a text, its candidate continuations and the index of the right one.

Each record holds the text (``text_column``), the list of choices (``choices_column``) and, for training
and evaluation, the label (``label_column``): the index of the right choice, or its text. Every record of a
file has the same number of choices. Each choice is encoded after the text as a sentence pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import numpy as np

from archit.errors import DataError
from archit.simple.data.base import Example, Feature, TaskData, register_task_data, write_jsonl_lines
from archit.simple.data.files import read_jsonl, require
from archit.simple.metrics.classification import accuracy

__all__ = ["MultipleChoiceData"]


@register_task_data
class MultipleChoiceData(TaskData):
    """Data of ``multiple_choice``."""

    tasks = ("multiple_choice",)
    formats = "JSONL: text column, list of choices, label = index (or text) of the right choice"
    metrics = {"multiple_choice": "accuracy"}

    def read(self, path: str) -> list[Example]:
        config = self.config
        examples: list[Example] = []
        for line, record in read_jsonl(path, config.encoding):
            choices = require(path, line, record, config.choices_column)
            if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
                raise DataError(
                    f"{path}, line {line}: {config.choices_column!r} must be a list of two or more strings."
                )
            if examples and len(choices) != len(examples[0]["choices"]):
                raise DataError(
                    f"{path}, line {line}: {len(choices)} choices where line {examples[0]['line']} has "
                    f"{len(examples[0]['choices'])}; every record needs the same number of choices."
                )
            example: Example = {"line": line, "text": str(require(path, line, record, config.text_column))}
            example["choices"] = choices
            if record.get(config.label_column) is not None:
                example["label"] = self._label_index(path, line, record[config.label_column], choices)
            examples.append(example)
        if not examples:
            raise DataError(f"{path}: the file holds no examples.")
        return examples

    @staticmethod
    def _label_index(path: str, line: int, label: Any, choices: list[str]) -> int:
        if isinstance(label, str) and label in choices:
            return choices.index(label)
        if isinstance(label, str) and label.isdigit():
            label = int(label)
        if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < len(choices):
            raise DataError(
                f"{path}, line {line}: label {label!r} is neither a choice index from 0 to {len(choices) - 1} "
                "nor the text of a choice."
            )
        return label

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        texts = [example["text"] for example in examples for _ in example["choices"]]
        choices = [choice for example in examples for choice in example["choices"]]
        encodings = self.tokenizer(texts, choices, truncation=True, max_length=self.config.max_seq_length)
        names = [name for name in self.tokenizer.model_input_names if name in encodings]
        features, position = [], 0
        for example in examples:
            count = len(example["choices"])
            feature: Feature = {name: encodings[name][position : position + count] for name in names}
            if "label" in example:
                feature["labels"] = example["label"]
            features.append(feature)
            position += count
        return features

    def decode(
        self, outputs: Mapping[str, np.ndarray], features: Sequence[Feature], examples: Sequence[Example]
    ) -> list[int]:
        return [int(index) for index in np.asarray(outputs["logits"]).argmax(axis=-1)]

    def score(self, predictions: Sequence[int], examples: Sequence[Example]) -> dict[str, float]:
        pairs = [(p, e["label"]) for p, e in zip(predictions, examples, strict=True) if "label" in e]
        return {"accuracy": accuracy(*zip(*pairs, strict=True))} if pairs else {}

    def write_predictions_to(self, handle: TextIO, predictions: Sequence[int], examples: Sequence[Example]) -> None:
        write_jsonl_lines(
            handle,
            (
                {**example, "prediction": p, "predicted_choice": example["choices"][p]}
                for p, example in zip(predictions, examples, strict=True)
            ),
        )

    @property
    def main_metric(self) -> str:
        return "accuracy"
