"""Entity-level precision, recall and F1 of BIO tag sequences, as the CoNLL-2000 ``conlleval`` script counts them.

An entity counts as found only when its type, first and last token all match a gold entity. Chunks are read
with conlleval's rules, so ill-formed sequences score as they do there: an ``I-X`` after ``O`` or after
another type starts an entity. ``BIOES`` (``E-``, ``S-``) tags are read as well. A tag without a prefix other
than ``O`` is read as ``I-`` of that type (the IO scheme).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from archit.errors import DataError

__all__ = ["Entity", "EntityCounts", "entities", "entity_scores", "entity_scores_by_type", "is_bio_label_set"]

Entity = tuple[str, int, int]
"""An entity: ``(type, first token, last token)``, token indices inclusive."""

_PREFIXES = ("B", "I", "E", "S")


def _split(tag: str) -> tuple[str, str]:
    """``"B-PER"`` gives ``("B", "PER")``; ``"O"`` gives ``("O", "")``; ``"PER"`` gives ``("I", "PER")``."""
    if tag in ("O", ""):
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if sep and prefix in _PREFIXES:
        return prefix, kind
    return "I", tag


def _ends(previous: str, previous_type: str, current: str, current_type: str) -> bool:
    """Whether a chunk ends just before the current token (conlleval's ``endOfChunk``)."""
    if previous in ("E", "S"):
        return True
    if previous in ("B", "I") and current in ("B", "S", "O"):
        return True
    return previous != "O" and previous_type != current_type


def _starts(previous: str, previous_type: str, current: str, current_type: str) -> bool:
    """Whether a chunk starts at the current token (conlleval's ``startOfChunk``)."""
    if current in ("B", "S"):
        return True
    if previous in ("E", "S", "O") and current in ("E", "I"):
        return True
    return current != "O" and previous_type != current_type


def entities(tags: Sequence[str]) -> list[Entity]:
    """The entities of one tag sequence, in order.

    Args:
        tags: one tag per token, such as ``["B-PER", "I-PER", "O", "B-LOC"]``.

    Returns:
        ``(type, first, last)`` triples, e.g. ``[("PER", 0, 1), ("LOC", 3, 3)]``.
    """
    found: list[Entity] = []
    start: int | None = None
    previous, previous_type = "O", ""
    for index, tag in enumerate([*tags, "O"]):
        current, current_type = _split(tag)
        if start is not None and _ends(previous, previous_type, current, current_type):
            found.append((previous_type, start, index - 1))
            start = None
        if _starts(previous, previous_type, current, current_type):
            start = index
        previous, previous_type = current, current_type
    return found


class EntityCounts:
    """Per entity type ``[correct, predicted, gold]``, added up over batches of sequences: the scores are those
    of every sequence added, as if scored at once."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}
        self.n_sequences = 0

    def add(self, predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> None:
        """Count the entities of more sequences.

        Raises:
            DataError: the numbers of sequences, or of tags in a sequence, differ.
        """
        if len(predictions) != len(references):
            raise DataError(f"Got {len(predictions)} predicted sequences for {len(references)} gold sequences.")
        for number, (predicted_tags, gold_tags) in enumerate(zip(predictions, references, strict=True)):
            if len(predicted_tags) != len(gold_tags):
                raise DataError(
                    f"Sequence {self.n_sequences + number} has {len(predicted_tags)} predicted tags for "
                    f"{len(gold_tags)} gold tags."
                )
            predicted, gold = set(entities(predicted_tags)), set(entities(gold_tags))
            for kind, *_ in predicted | gold:
                self.counts.setdefault(kind, [0, 0, 0])
            for kind, *_ in predicted & gold:
                self.counts[kind][0] += 1
            for kind, *_ in predicted:
                self.counts[kind][1] += 1
            for kind, *_ in gold:
                self.counts[kind][2] += 1
        self.n_sequences += len(references)

    def scores(self) -> dict[str, float]:
        """Micro-averaged entity precision, recall and F1 (conlleval's overall line)."""
        return _scores(*(sum(count[i] for count in self.counts.values()) for i in range(3)))

    def scores_by_type(self) -> dict[str, dict[str, float]]:
        """:meth:`scores` for each entity type separately (conlleval's per-type lines)."""
        return {kind: _scores(*count) for kind, count in sorted(self.counts.items())}


def _scores(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_scores(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro-averaged entity precision, recall and F1 over all sequences (conlleval's overall line).

    Raises:
        DataError: the numbers of sequences, or of tags in a sequence, differ.
    """
    counts = EntityCounts()
    counts.add(predictions, references)
    return counts.scores()


def entity_scores_by_type(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> dict[str, dict[str, float]]:
    """:func:`entity_scores` for each entity type separately (conlleval's per-type lines)."""
    counts = EntityCounts()
    counts.add(predictions, references)
    return counts.scores_by_type()


def is_bio_label_set(labels: Iterable[str]) -> bool:
    """Whether labels look like entity tags: every one is ``O`` or ``B-``/``I-``/``E-``/``S-`` plus a type, and
    at least one starts with ``B-`` or ``S-``."""
    labels = list(labels)
    prefixed = [label.partition("-") for label in labels if label != "O"]
    return (
        bool(prefixed)
        and all(sep and prefix in _PREFIXES and kind for prefix, sep, kind in prefixed)
        and any(prefix in ("B", "S") for prefix, _, _ in prefixed)
    )
