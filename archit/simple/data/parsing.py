"""Dependency parsing from CoNLL-U: every word gets a head and a relation; predictions are written as CoNLL-U.

Sentences are not truncated: the parser encodes long ones in overlapping windows. Each token carries the
index of its word (``word_ids``, -1 for special tokens and padding), so the head pools a word's pieces
whatever the tokenizer. Relations are numbered by the training file's :class:`LabelVocabulary` (unknown
relation first).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TextIO

import numpy as np

from archit.modeling.tasks.losses import IGNORE_INDEX
from archit.simple.data.base import Example, Feature, Scorer, TaskData, chunked, register_task_data
from archit.simple.data.collate import MODEL_INPUT_KEYS, Collator
from archit.simple.data.tagging import iter_numbered_sentences
from archit.simple.data.tokenization import encode_word_lists, log_empty_words
from archit.simple.formats.conllu import ConlluSentence, LabelVocabulary
from archit.simple.metrics.parsing import AttachmentCounts

__all__ = ["AttachmentScorer", "DependencyParsingData"]

UNTRUNCATED = 1_000_000
PARSING_KEYS = (*MODEL_INPUT_KEYS, "word_ids", "arc_labels", "rel_labels")


@register_task_data
class DependencyParsingData(TaskData):
    """Data of ``dep_parsing``."""

    tasks = ("dep_parsing",)
    formats = "CoNLL-U (HEAD and DEPREL columns)"
    metrics = {"dep_parsing": "UAS, LAS, UCM, LCM"}
    predictions = "CoNLL-U"

    def read(self, path: str) -> list[Example]:
        return list(self._iter_examples(path))

    def read_chunks(self, path: str, size: int) -> Iterator[list[Example]]:
        return chunked(self._iter_examples(path), size)

    def _iter_examples(self, path: str) -> Iterator[Example]:
        for line, sentence in iter_numbered_sentences(path, self.config.encoding):
            yield {"line": line, "words": list(sentence.forms), "sentence": sentence}

    def fit_labels(self, examples: Sequence[Example]) -> None:
        self.labels = list(LabelVocabulary.from_sentences(example["sentence"] for example in examples).labels)

    @property
    def vocabulary(self) -> LabelVocabulary:
        """The relation vocabulary (unknown relation first)."""
        return LabelVocabulary(self.labels[1:] if self.labels else [], unk=self.labels[0] if self.labels else "<unk>")

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        relations = self.vocabulary.encode_sentences(example["sentence"] for example in examples)
        encodings = encode_word_lists(self.tokenizer, [example["words"] for example in examples], UNTRUNCATED)
        features, empty_words = [], []
        for example, rel_ids, (inputs, word_ids, empty) in zip(examples, relations, encodings, strict=True):
            empty_words += [(example.get("line"), example["words"][index]) for index in empty]
            feature: Feature = {**inputs, "word_ids": [-1 if word is None else word for word in word_ids]}
            feature.update(arc_labels=list(example["sentence"].heads), rel_labels=rel_ids)
            features.append(feature)
        log_empty_words(empty_words, sum(len(example["words"]) for example in examples), self.tokenizer)
        return features

    def collator(self, training: bool = False) -> Collator:
        pad_values = {"word_ids": -1, "arc_labels": IGNORE_INDEX, "rel_labels": IGNORE_INDEX}
        return Collator(self.tokenizer, keys=PARSING_KEYS, pad_values=pad_values, side="right")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("arc_predictions", "rel_predictions")

    def decode(
        self, outputs: Mapping[str, np.ndarray], features: Sequence[Feature], examples: Sequence[Example]
    ) -> list[ConlluSentence]:
        labels = self.labels or []
        predictions = []
        for index, example in enumerate(examples):
            n_words = len(example["words"])
            heads = [int(head) for head in outputs["arc_predictions"][index][:n_words]]
            rels = [labels[int(rel)] for rel in outputs["rel_predictions"][index][:n_words]]
            predictions.append(example["sentence"].with_predictions(heads, rels))
        return predictions

    def score(self, predictions: Sequence[ConlluSentence], examples: Sequence[Example]) -> dict[str, float]:
        return self.scorer().score(predictions, examples)

    def scorer(self) -> AttachmentScorer:
        return AttachmentScorer()

    def prediction_suffix(self, examples: Sequence[Example]) -> str:
        return ".conllu"

    def write_predictions_to(
        self, handle: TextIO, predictions: Sequence[ConlluSentence], examples: Sequence[Example]
    ) -> None:
        for sentence in predictions:
            handle.write(sentence.to_conllu())

    @property
    def main_metric(self) -> str:
        return "las"


class AttachmentScorer(Scorer):
    """UAS, LAS, UCM and LCM added up chunk by chunk (:class:`~archit.simple.metrics.parsing.AttachmentCounts`)."""

    def __init__(self) -> None:
        self.counts = AttachmentCounts()

    def add(self, predictions: Sequence[ConlluSentence], examples: Sequence[Example]) -> None:
        self.counts.add([example["sentence"] for example in examples], list(predictions))

    def result(self) -> dict[str, float]:
        return self.counts.scores().as_dict()
