"""Token classification: named entities from CoNLL/BIO files, part-of-speech tags from CoNLL-U files.

A CoNLL/BIO file has one token per line, its first column the word and its last column the tag
(``B-PER``, ``I-PER``, ``O``...); blank lines end sentences and ``-DOCSTART-`` lines are skipped. A line with
a single column is a word without a tag (data to predict). A ``.conllu`` file gives its words and the
column named by ``conllu_label_field`` (``upos`` by default).

Labels go on the first piece of each word; a word whose pieces were cut off by truncation is predicted
as ``O`` (or the first label when there is no ``O``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TextIO

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
from archit.simple.data.collate import Collator
from archit.simple.data.tokenization import (
    align_labels,
    encode_word_lists,
    first_piece_positions,
    log_empty_words,
)
from archit.simple.formats.conllu import ConlluSentence, iter_numbered_conllu
from archit.simple.metrics.classification import LabelCounts
from archit.simple.metrics.tagging import EntityCounts, is_bio_label_set
from archit.simple.textfiles import DEFAULT_ENCODING, iter_lines

__all__ = [
    "TagScorer",
    "TokenClassificationData",
    "iter_bio",
    "iter_numbered_sentences",
    "read_bio",
    "read_numbered_conllu",
]

CONLLU_SUFFIXES = (".conllu",)


def read_bio(path: str, encoding: str = DEFAULT_ENCODING) -> list[Example]:
    """Sentences of a CoNLL/BIO file: ``{"line", "words", "tags"}`` (``tags`` absent when untagged).

    Raises:
        DataError: the file is missing or not valid in ``encoding``, a sentence mixes tagged and untagged lines,
            or the file holds no sentence.
    """
    return list(iter_bio(path, encoding))


def iter_bio(path: str, encoding: str = DEFAULT_ENCODING) -> Iterator[Example]:
    """:func:`read_bio` one sentence at a time, the file read as the sentences are taken.

    Raises:
        DataError: as :func:`read_bio`, when the sentence at fault (or the end of an empty file) is reached.
    """
    current: list[tuple[int, list[str]]] = []
    n_sentences = 0

    def sentence() -> Example:
        widths = {len(columns) > 1 for _, columns in current}
        if len(widths) > 1:
            line = next(number for number, columns in current if len(columns) == 1)
            raise DataError(f"{path}, line {line}: a word without a tag in a sentence whose other words have tags.")
        example: Example = {"line": current[0][0], "words": [columns[0] for _, columns in current]}
        if widths == {True}:
            example["tags"] = [columns[-1] for _, columns in current]
        current.clear()
        return example

    for number, line in iter_lines(path, encoding):
        columns = line.split()
        if not columns:
            if current:
                n_sentences += 1
                yield sentence()
        elif columns[0] != "-DOCSTART-":
            current.append((number, columns))
    if current:
        n_sentences += 1
        yield sentence()
    if not n_sentences:
        raise DataError(f"{path}: the file holds no sentences (one word per line, blank lines between sentences).")


CONLLU_COLUMNS = {"upos": 3, "xpos": 4, "deprel": 7}
"""The CoNLL-U columns token classification can tag, by field name."""


def _word_lines(sentence: ConlluSentence) -> list[int]:
    """Indices in ``sentence.lines`` of its word lines (not comments, multiword ranges or empty nodes)."""
    return [k for k, line in enumerate(sentence.lines) if line.split("\t", 1)[0].isdigit()]


def _iter_conllu(path: str, field: str, encoding: str) -> Iterator[Example]:
    """Sentences of a CoNLL-U file: ``{"line", "words", "tags", "sentence"}`` (``tags`` absent when the field
    holds only ``_``)."""
    column = CONLLU_COLUMNS[field]
    for start, sentence in iter_numbered_sentences(path, encoding):
        values = [sentence.lines[k].split("\t")[column] for k in _word_lines(sentence)]
        example: Example = {"line": start, "words": list(sentence.forms), "sentence": sentence}
        if any(value != "_" for value in values):
            example["tags"] = values
        yield example


def read_numbered_conllu(path: str, encoding: str = DEFAULT_ENCODING) -> list[tuple[int, ConlluSentence]]:
    """``(first line, sentence)`` for each sentence of a CoNLL-U file.

    Raises:
        DataError: the file is missing, not valid in ``encoding`` or malformed, or holds no sentence.
    """
    return list(iter_numbered_sentences(path, encoding))


def iter_numbered_sentences(path: str, encoding: str) -> Iterator[tuple[int, ConlluSentence]]:
    """:func:`read_numbered_conllu` one sentence at a time.

    Raises:
        DataError: as :func:`read_numbered_conllu`, when the sentence at fault (or the end of the file) is reached.
    """
    empty = True
    for numbered in iter_numbered_conllu(path, encoding):
        empty = False
        yield numbered
    if empty:
        raise DataError(f"{path}: the file holds no sentences.")


def _with_column(sentence: ConlluSentence, column: int, values: Sequence[str]) -> str:
    """The sentence as CoNLL-U text with one column of its words replaced."""
    lines = list(sentence.lines)
    for k, value in zip(_word_lines(sentence), values, strict=True):
        columns = lines[k].split("\t")
        columns[column] = value
        lines[k] = "\t".join(columns)
    return "\n".join(lines) + "\n\n"


@register_task_data
class TokenClassificationData(TaskData):
    """Data of ``token_classification``: CoNLL/BIO or CoNLL-U in, JSONL or CoNLL-U predictions out."""

    tasks = ("token_classification",)
    formats = "CoNLL/BIO (word ... tag per line) for NER; CoNLL-U (UPOS column) for tagging"
    metrics = {"token_classification": "accuracy; entity P/R/F1 (BIO tags) or macro F1"}
    predictions = "CoNLL-U (from CoNLL-U) or JSONL"

    def read(self, path: str) -> list[Example]:
        return list(self._iter_examples(path))

    def read_chunks(self, path: str, size: int) -> Iterator[list[Example]]:
        return chunked(self._iter_examples(path), size)

    def _iter_examples(self, path: str) -> Iterator[Example]:
        if path.lower().endswith(CONLLU_SUFFIXES):
            return _iter_conllu(path, self.config.conllu_label_field, self.config.encoding)
        return iter_bio(path, self.config.encoding)

    def example_labels(self, example: Example) -> Iterable[str]:
        return example.get("tags", ())

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        label2id = self.label2id
        sentences = [example["words"] for example in examples]
        encodings = encode_word_lists(self.tokenizer, sentences, self.config.max_seq_length)
        features, empty_words = [], []
        for example, (inputs, word_ids, empty) in zip(examples, encodings, strict=True):
            empty_words += [(example.get("line"), example["words"][index]) for index in empty]
            feature: Feature = {**inputs, "word_ids": word_ids}
            if "tags" in example:
                feature["labels"] = align_labels(word_ids, [label2id.get(tag, IGNORE_INDEX) for tag in example["tags"]])
            features.append(feature)
        log_empty_words(empty_words, sum(len(example["words"]) for example in examples), self.tokenizer)
        return features

    def collator(self, training: bool = False) -> Collator:
        return Collator(self.tokenizer, side="right")  # outputs are read back by position

    @property
    def fallback_label(self) -> str:
        """The prediction for words without a piece in the model's input (cut off by truncation)."""
        labels = self.labels or ["O"]
        return "O" if "O" in labels else labels[0]

    def decode(
        self, outputs: Mapping[str, np.ndarray], features: Sequence[Feature], examples: Sequence[Example]
    ) -> list[list[str]]:
        logits = outputs["logits"]
        labels = self.labels or []
        predictions = []
        for index, (feature, example) in enumerate(zip(features, examples, strict=True)):
            positions = first_piece_positions(feature["word_ids"])
            predictions.append(
                [
                    labels[int(np.argmax(logits[index, positions[word]]))] if word in positions else self.fallback_label
                    for word in range(len(example["words"]))
                ]
            )
        return predictions

    @property
    def is_bio(self) -> bool:
        """Whether the labels are entity tags (scored by entities) rather than plain tags."""
        return is_bio_label_set(self.labels or [])

    def score(self, predictions: Sequence[list[str]], examples: Sequence[Example]) -> dict[str, float]:
        return self.scorer().score(predictions, examples)

    def scorer(self) -> TagScorer:
        return TagScorer(self.is_bio)

    def prediction_suffix(self, examples: Sequence[Example]) -> str:
        return ".conllu" if examples and "sentence" in examples[0] else ".jsonl"

    def write_predictions_to(
        self, handle: TextIO, predictions: Sequence[list[str]], examples: Sequence[Example]
    ) -> None:
        if examples and "sentence" in examples[0]:
            column = CONLLU_COLUMNS[self.config.conllu_label_field]
            for predicted, example in zip(predictions, examples, strict=True):
                handle.write(_with_column(example["sentence"], column, predicted))
            return
        write_jsonl_lines(
            handle,
            (
                {key: value for key, value in {**example, "prediction": p}.items() if key != "sentence"}
                for p, example in zip(predictions, examples, strict=True)
            ),
        )

    @property
    def main_metric(self) -> str:
        return "f1" if self.is_bio else "accuracy"


class TagScorer(Scorer):
    """Token classification scores added up chunk by chunk: accuracy over words, and entity precision, recall
    and F1 for entity tags or macro F1 over tags otherwise.

    Args:
        is_bio: whether the labels are entity tags.
    """

    def __init__(self, is_bio: bool) -> None:
        self.is_bio = is_bio
        self.tags = LabelCounts()
        self.entities = EntityCounts()
        self.n_tagged = 0

    def add(self, predictions: Sequence[list[str]], examples: Sequence[Example]) -> None:
        pairs = [(p, e["tags"]) for p, e in zip(predictions, examples, strict=True) if "tags" in e]
        self.n_tagged += len(pairs)
        self.tags.add([tag for predicted, _ in pairs for tag in predicted], [tag for _, gold in pairs for tag in gold])
        if self.is_bio:
            self.entities.add([p for p, _ in pairs], [g for _, g in pairs])

    def result(self) -> dict[str, float]:
        if not self.n_tagged:
            return {}
        scores = {"accuracy": self.tags.accuracy()}
        if self.is_bio:
            scores.update(self.entities.scores())
        else:
            scores["macro_f1"] = self.tags.macro_f1()
        return scores
