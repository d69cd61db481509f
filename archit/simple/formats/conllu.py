"""CoNLL-U files (https://universaldependencies.org/format.html): reading, writing predictions, label vocabulary.

A sentence keeps every line it was read from (comments, multiword-token ranges such as ``1-2``, empty nodes
such as ``1.1`` and words), so writing it back gives the same bytes; writing predictions replaces only the HEAD
and DEPREL columns of its words. The words alone (multiword tokens and empty nodes excluded) are what a parser
sees and what :mod:`archit.simple.metrics.parsing` scores.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from archit.errors import DataError
from archit.simple.textfiles import DEFAULT_ENCODING, create_text, iter_lines

__all__ = [
    "ConlluSentence",
    "LabelVocabulary",
    "format_conllu",
    "iter_conllu",
    "iter_numbered_conllu",
    "parse_conllu",
    "read_conllu",
    "write_conllu",
]

N_COLUMNS = 10
ID, FORM, UPOS, HEAD, DEPREL = 0, 1, 3, 6, 7


@dataclasses.dataclass
class ConlluSentence:
    """One sentence: its words' annotation, plus the raw lines it was read from.

    Attributes:
        ids: the word ids, ``1 .. n``.
        forms: the word forms.
        upos: the universal part-of-speech tags.
        heads: the head of each word, 0 for the root.
        deprels: the dependency relation of each word, with its subtype (``nsubj:pass``).
        lines: every line of the sentence as read, without line ends; empty for a sentence built in code, which
            is then written with ``_`` in the columns it does not know.
    """

    ids: list[int]
    forms: list[str]
    upos: list[str]
    heads: list[int]
    deprels: list[str]
    lines: list[str] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def comments(self) -> list[str]:
        """The comment lines (``# sent_id = ...``, ``# text = ...``)."""
        return [line for line in self.lines if line.startswith("#")]

    def with_predictions(self, heads: Sequence[int], deprels: Sequence[str]) -> ConlluSentence:
        """A copy whose HEAD and DEPREL are the given predictions.

        Args:
            heads: one head per word.
            deprels: one relation per word.

        Raises:
            DataError: if the predictions do not have one entry per word.
        """
        if len(heads) != len(self) or len(deprels) != len(self):
            raise DataError(
                f"A sentence of {len(self)} words got {len(heads)} heads and {len(deprels)} relations; pass one "
                "per word (multiword tokens and empty nodes excluded)."
            )
        return dataclasses.replace(self, heads=[int(head) for head in heads], deprels=list(deprels))

    def to_conllu(self) -> str:
        """The sentence's lines with its current HEAD and DEPREL, each ending in a newline, then a blank line."""
        if not self.lines:
            lines = [
                "\t".join((str(i), form, "_", upos, "_", "_", str(head), deprel, "_", "_"))
                for i, form, upos, head, deprel in zip(
                    self.ids, self.forms, self.upos, self.heads, self.deprels, strict=True
                )
            ]
            return "\n".join(lines) + "\n\n"
        lines = list(self.lines)
        words = (k for k, line in enumerate(lines) if line.split("\t", 1)[0].isdigit())
        for k, head, deprel in zip(words, self.heads, self.deprels, strict=True):
            columns = lines[k].split("\t")
            columns[HEAD], columns[DEPREL] = str(head), deprel
            lines[k] = "\t".join(columns)
        return "\n".join(lines) + "\n\n"


def _parse_word(columns: list[str], where: str, expected_id: int) -> tuple[int, str, str, int, str]:
    """The id, form, UPOS, head and relation of one word line, checked."""
    if columns[ID] != str(expected_id):
        raise DataError(
            f"{where}: expected word id {expected_id}, found {columns[ID]!r}. Word ids must run 1, 2, 3, ... in "
            "each sentence (ranges like 1-2 and decimals like 1.1 are multiword tokens and empty nodes); check for "
            "a missing blank line between sentences."
        )
    try:
        head = int(columns[HEAD])
    except ValueError:
        raise DataError(
            f"{where}: HEAD (column 7) must be an integer word id, found {columns[HEAD]!r}. Every word needs a "
            "head, 0 for the root."
        ) from None
    return expected_id, columns[FORM], columns[UPOS], head, columns[DEPREL]


def _check_tree(heads: list[int], word_lines: list[int], source: str) -> None:
    """Raise if the heads of one sentence are out of range, have no root, or contain a cycle."""
    n = len(heads)
    for line, head in zip(word_lines, heads, strict=True):
        if not 0 <= head <= n:
            raise DataError(
                f"{source}, line {line}: HEAD {head} is out of range for a sentence of {n} words; it must be 0 "
                f"(root) or a word id in 1..{n}. Fix the HEAD column (7) of that line."
            )
    if 0 not in heads:
        raise DataError(
            f"{source}, line {word_lines[0]}: the sentence starting here has no root (no word with HEAD 0). Attach "
            "its main predicate to 0."
        )
    for start in range(1, n + 1):
        path, node = [], start
        while node != 0 and node not in path:
            path.append(node)
            node = heads[node - 1]
        if node != 0:
            cycle = path[path.index(node) :]
            lines = ", ".join(str(word_lines[word - 1]) for word in cycle)
            raise DataError(
                f"{source}, line {word_lines[cycle[0] - 1]}: the words {cycle} form a cycle (lines {lines}), so "
                "the sentence is not a tree. Fix the HEAD column (7) of one of those lines."
            )


def _sentence(lines: list[tuple[int, str]], source: str) -> ConlluSentence:
    """Build and check one sentence from its ``(line number, line)`` pairs."""
    ids: list[int] = []
    forms: list[str] = []
    upos: list[str] = []
    heads: list[int] = []
    deprels: list[str] = []
    word_lines: list[int] = []
    for number, line in lines:
        if line.startswith("#"):
            continue
        where = f"{source}, line {number}"
        columns = line.split("\t")
        if len(columns) != N_COLUMNS:
            raise DataError(
                f"{where}: expected {N_COLUMNS} tab-separated columns, found {len(columns)}. CoNLL-U separates "
                "columns with tabs (not spaces) and writes _ for an empty field."
            )
        if "-" in columns[ID] or "." in columns[ID]:
            continue
        word = _parse_word(columns, where, len(ids) + 1)
        columns_so_far: tuple[list[Any], ...] = (ids, forms, upos, heads, deprels)
        for values, value in zip(columns_so_far, word, strict=True):
            values.append(value)
        word_lines.append(number)
    if not ids:
        raise DataError(f"{source}, line {lines[0][0]}: a sentence block without any word; remove it or add its words.")
    _check_tree(heads, word_lines, source)
    return ConlluSentence(ids, forms, upos, heads, deprels, [line for _, line in lines])


def _iter_blocks(lines: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    """``(line number, line)`` pairs of each blank-line-separated block of lines without their line ends."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def parse_conllu(text: str, source: str = "<string>") -> list[ConlluSentence]:
    """The sentences of CoNLL-U text.

    Args:
        text: the content of a CoNLL-U file.
        source: the name used in error messages.

    Raises:
        DataError: a line has the wrong column count, a word id is out of sequence, a HEAD is not an integer or
            is out of range, or a sentence has no root or a cycle; the message gives the line number.
    """
    return [_sentence(block, source) for block in _iter_blocks(text.splitlines())]


def iter_conllu(path: str | os.PathLike[str], encoding: str = DEFAULT_ENCODING) -> Iterator[ConlluSentence]:
    """The sentences of a CoNLL-U file, one at a time (UTF-8 with or without a byte-order mark unless ``encoding``
    says otherwise; CRLF or LF line ends).

    Raises:
        DataError: the file does not exist, is not valid in ``encoding``, or is malformed (see :func:`parse_conllu`).
    """
    for _, sentence in iter_numbered_conllu(path, encoding):
        yield sentence


def iter_numbered_conllu(
    path: str | os.PathLike[str], encoding: str = DEFAULT_ENCODING
) -> Iterator[tuple[int, ConlluSentence]]:
    """``(first line, sentence)`` for each sentence of a CoNLL-U file, one at a time, the file read once.

    Raises:
        DataError: see :func:`iter_conllu`.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such CoNLL-U file.")
    for block in _iter_blocks(line for _, line in iter_lines(path, encoding)):
        yield block[0][0], _sentence(block, os.fspath(path))


def read_conllu(path: str | os.PathLike[str], encoding: str = DEFAULT_ENCODING) -> list[ConlluSentence]:
    """All sentences of a CoNLL-U file.

    Raises:
        DataError: see :func:`iter_conllu`.
    """
    return list(iter_conllu(path, encoding))


def format_conllu(sentences: Iterable[ConlluSentence]) -> str:
    """CoNLL-U text of the sentences, each followed by a blank line."""
    return "".join(sentence.to_conllu() for sentence in sentences)


def write_conllu(path: str | os.PathLike[str], sentences: Iterable[ConlluSentence]) -> None:
    """Write sentences as a CoNLL-U file (UTF-8 without a byte-order mark, ``\\n`` line ends).

    A file whose sentences each end with one blank line, read and written back unchanged, is byte-identical.
    """
    with create_text(path) as handle:
        for sentence in sentences:
            handle.write(sentence.to_conllu())


class LabelVocabulary:
    """Dependency relations and their ids, with an unknown label at id 0 for relations unseen in training.

    Args:
        labels: the known relations, in id order; the unknown label is put first if absent, duplicates dropped.
        unk: the unknown label.
    """

    def __init__(self, labels: Iterable[str], unk: str = "<unk>") -> None:
        self.unk = unk
        self._labels = tuple(dict.fromkeys([unk, *labels]))
        self._ids = {label: i for i, label in enumerate(self._labels)}

    @classmethod
    def from_sentences(cls, sentences: Iterable[ConlluSentence], unk: str = "<unk>") -> LabelVocabulary:
        """The sorted relations of (training) sentences, full relations with subtypes (``nsubj:pass``)."""
        return cls(sorted({deprel for sentence in sentences for deprel in sentence.deprels}), unk)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(n_labels={len(self)}, unk={self.unk!r})"

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, label: object) -> bool:
        return label in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelVocabulary) and self._labels == other._labels and self.unk == other.unk

    def __hash__(self) -> int:
        return hash((self._labels, self.unk))

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label in id order, the unknown label first."""
        return self._labels

    @property
    def unk_id(self) -> int:
        """The id of the unknown label (0)."""
        return 0

    @property
    def id2label(self) -> dict[int, str]:
        """``{id: label}``, as a Hugging Face config stores it."""
        return dict(enumerate(self._labels))

    @property
    def label2id(self) -> dict[str, int]:
        """``{label: id}``, as a Hugging Face config stores it."""
        return dict(self._ids)

    def encode(self, deprels: Sequence[str]) -> list[int]:
        """The ids of one sequence of relations; unseen ones map to the unknown id, with one warning.

        Returns:
            One id per relation.
        """
        return self.encode_all([deprels])[0]

    def encode_all(self, sequences: Iterable[Sequence[str]]) -> list[list[int]]:
        """The ids of many sequences of relations (one per sentence), with one warning for all unseen ones."""
        unseen: Counter[str] = Counter()
        ids = []
        for deprels in sequences:
            ids.append([self._ids.get(deprel, 0) for deprel in deprels])
            unseen.update(deprel for deprel in deprels if deprel not in self._ids)
        if unseen:
            examples = ", ".join(f"{label!r} ({count})" for label, count in unseen.most_common(5))
            warnings.warn(
                f"{sum(unseen.values())} relations of {len(unseen)} labels unseen in training map to {self.unk!r}: "
                f"{examples}{', ...' if len(unseen) > 5 else ''}. Their words count as wrong in LAS; build the "
                "vocabulary from data that covers them if they are real labels.",
                stacklevel=2,
            )
        return ids

    def encode_sentences(self, sentences: Iterable[ConlluSentence]) -> list[list[int]]:
        """The relation ids of each sentence's words, with one warning for all unseen relations."""
        return self.encode_all(sentence.deprels for sentence in sentences)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The labels of ids.

        Raises:
            DataError: if an id is outside ``[0, len(self))``.
        """
        labels = []
        for i in map(int, ids):
            if not 0 <= i < len(self):
                raise DataError(
                    f"Label id {i} is outside [0, {len(self)}); decode ids with the vocabulary the model was trained "
                    "with."
                )
            labels.append(self._labels[i])
        return labels
