"""Token classification: named entities from CoNLL/BIO files, part-of-speech tags from CoNLL-U files.

A CoNLL/BIO file has one token per line, its first column the word and its last column the tag
(``B-PER``, ``I-PER``, ``O``...); blank lines end sentences and ``-DOCSTART-`` lines are skipped. A line with
a single column is a word without a tag (data to predict). A ``.conllu`` file gives its words and the
column named by ``conllu_label_field`` (``upos`` by default).

Labels go on the first piece of each word; a word whose pieces were cut off by truncation is predicted
as ``O`` (or the first label when there is no ``O``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from archit.errors import DataError
from archit.modeling.tasks.losses import IGNORE_INDEX
from archit.simple.data.base import Example, Feature, TaskData, register_task_data, write_jsonl
from archit.simple.data.collate import Collator
from archit.simple.data.tokenization import align_labels, encode_words, first_piece_positions, log_empty_words
from archit.simple.formats.conllu import ConlluSentence, read_conllu
from archit.simple.metrics.classification import accuracy, macro_f1
from archit.simple.metrics.tagging import entity_scores, is_bio_label_set
from archit.simple.textfiles import DEFAULT_ENCODING, create_text, iter_lines

__all__ = ["TokenClassificationData", "read_bio", "read_numbered_conllu"]

CONLLU_SUFFIXES = (".conllu",)


def read_bio(path: str, encoding: str = DEFAULT_ENCODING) -> list[Example]:
    """Sentences of a CoNLL/BIO file: ``{"line", "words", "tags"}`` (``tags`` absent when untagged).

    Raises:
        DataError: the file is missing or not valid in ``encoding``, a sentence mixes tagged and untagged lines,
            or the file holds no sentence.
    """
    sentences: list[Example] = []
    current: list[tuple[int, list[str]]] = []

    def close() -> None:
        if not current:
            return
        widths = {len(columns) > 1 for _, columns in current}
        if len(widths) > 1:
            line = next(number for number, columns in current if len(columns) == 1)
            raise DataError(f"{path}, line {line}: a word without a tag in a sentence whose other words have tags.")
        sentence: Example = {"line": current[0][0], "words": [columns[0] for _, columns in current]}
        if widths == {True}:
            sentence["tags"] = [columns[-1] for _, columns in current]
        sentences.append(sentence)
        current.clear()

    for number, line in iter_lines(path, encoding):
        columns = line.split()
        if not columns:
            close()
        elif columns[0] != "-DOCSTART-":
            current.append((number, columns))
    close()
    if not sentences:
        raise DataError(f"{path}: the file holds no sentences (one word per line, blank lines between sentences).")
    return sentences


CONLLU_COLUMNS = {"upos": 3, "xpos": 4, "deprel": 7}
"""The CoNLL-U columns token classification can tag, by field name."""


def _word_lines(sentence: ConlluSentence) -> list[int]:
    """Indices in ``sentence.lines`` of its word lines (not comments, multiword ranges or empty nodes)."""
    return [k for k, line in enumerate(sentence.lines) if line.split("\t", 1)[0].isdigit()]


def _read_conllu(path: str, field: str, encoding: str) -> list[Example]:
    """Sentences of a CoNLL-U file: ``{"line", "words", "tags", "sentence"}`` (``tags`` absent when the field
    holds only ``_``)."""
    column = CONLLU_COLUMNS[field]
    examples = []
    for start, sentence in read_numbered_conllu(path, encoding):
        values = [sentence.lines[k].split("\t")[column] for k in _word_lines(sentence)]
        example: Example = {"line": start, "words": list(sentence.forms), "sentence": sentence}
        if any(value != "_" for value in values):
            example["tags"] = values
        examples.append(example)
    return examples


def read_numbered_conllu(path: str, encoding: str = DEFAULT_ENCODING) -> list[tuple[int, ConlluSentence]]:
    """``(first line, sentence)`` for each sentence of a CoNLL-U file.

    Raises:
        DataError: the file is missing, not valid in ``encoding`` or malformed, or holds no sentence.
    """
    sentences = read_conllu(path, encoding)
    if not sentences:
        raise DataError(f"{path}: the file holds no sentences.")
    lines = [line for _, line in iter_lines(path, encoding)]
    starts = [n for n, line in enumerate(lines, 1) if line.strip() and (n == 1 or not lines[n - 2].strip())]
    return list(zip(starts, sentences, strict=True))


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
        if path.lower().endswith(CONLLU_SUFFIXES):
            return _read_conllu(path, self.config.conllu_label_field, self.config.encoding)
        return read_bio(path, self.config.encoding)

    def example_labels(self, example: Example) -> Iterable[str]:
        return example.get("tags", ())

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        label2id = self.label2id
        features, empty_words = [], []
        for example in examples:
            inputs, word_ids, empty = encode_words(self.tokenizer, example["words"], self.config.max_seq_length)
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
        pairs = [(p, e["tags"]) for p, e in zip(predictions, examples, strict=True) if "tags" in e]
        if not pairs:
            return {}
        flat_predicted = [tag for predicted, _ in pairs for tag in predicted]
        flat_gold = [tag for _, gold in pairs for tag in gold]
        scores = {"accuracy": accuracy(flat_predicted, flat_gold)}
        if self.is_bio:
            scores.update(entity_scores([p for p, _ in pairs], [g for _, g in pairs]))
        else:
            scores["macro_f1"] = macro_f1(flat_predicted, flat_gold)
        return scores

    def prediction_suffix(self, examples: Sequence[Example]) -> str:
        return ".conllu" if examples and "sentence" in examples[0] else ".jsonl"

    def write_predictions(self, path: str, predictions: Sequence[list[str]], examples: Sequence[Example]) -> None:
        if examples and "sentence" in examples[0]:
            self._write_conllu(path, predictions, examples)
            return
        write_jsonl(
            path,
            [
                {key: value for key, value in {**example, "prediction": p}.items() if key != "sentence"}
                for p, example in zip(predictions, examples, strict=True)
            ],
        )

    def _write_conllu(self, path: str, predictions: Sequence[list[str]], examples: Sequence[Example]) -> None:
        column = CONLLU_COLUMNS[self.config.conllu_label_field]
        with create_text(path) as handle:
            for predicted, example in zip(predictions, examples, strict=True):
                handle.write(_with_column(example["sentence"], column, predicted))

    @property
    def main_metric(self) -> str:
        return "f1" if self.is_bio else "accuracy"
