"""Dependency parsing scores: UAS, LAS, UCM and LCM over words.

Conventions of the CoNLL 2018 shared task evaluation (``conll18_ud_eval.py``): every word counts, punctuation
included; multiword-token ranges and empty nodes are not words; LAS compares only the universal part of DEPREL
(``nsubj:pass`` matches ``nsubj``). Unlike that script, gold and predicted tokenisation must be identical (a
parser that reads gold words), so precision, recall and F1 are all the same accuracy. UCM and LCM are the shares
of sentences whose words are all attached (and labelled) correctly. All scores are fractions in ``[0, 1]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from archit.errors import DataError
from archit.simple.formats.conllu import ConlluSentence

__all__ = ["AttachmentCounts", "AttachmentMetric", "AttachmentScores", "attachment_scores", "universal_deprel"]


def universal_deprel(deprel: str) -> str:
    """The universal part of a relation: ``nsubj:pass`` -> ``nsubj``."""
    return deprel.split(":", 1)[0]


@dataclasses.dataclass(frozen=True)
class AttachmentScores:
    """Attachment scores of a set of sentences.

    Attributes:
        uas: share of words with the correct head.
        las: share of words with the correct head and universal relation.
        ucm: share of sentences with every head correct.
        lcm: share of sentences with every head and universal relation correct.
        n_words: the number of words scored.
        n_sentences: the number of sentences scored.
    """

    uas: float
    las: float
    ucm: float
    lcm: float
    n_words: int
    n_sentences: int

    def as_dict(self) -> dict[str, float]:
        """``{"uas": ..., "las": ..., "ucm": ..., "lcm": ...}``, e.g. for a Trainer's ``compute_metrics``."""
        return {"uas": self.uas, "las": self.las, "ucm": self.ucm, "lcm": self.lcm}


def _scores(n_uas: int, n_las: int, n_ucm: int, n_lcm: int, n_words: int, n_sentences: int) -> AttachmentScores:
    return AttachmentScores(
        uas=n_uas / max(n_words, 1),
        las=n_las / max(n_words, 1),
        ucm=n_ucm / max(n_sentences, 1),
        lcm=n_lcm / max(n_sentences, 1),
        n_words=n_words,
        n_sentences=n_sentences,
    )


def attachment_scores(gold: Sequence[ConlluSentence], pred: Sequence[ConlluSentence]) -> AttachmentScores:
    """UAS, LAS, UCM and LCM of predicted sentences against gold ones.

    Args:
        gold: the gold sentences.
        pred: the predicted sentences, same words in the same order.

    Returns:
        The scores (0 for an empty set).

    Raises:
        DataError: if the two differ in number of sentences or in the words of a sentence.
    """
    counts = AttachmentCounts()
    counts.add(gold, pred)
    return counts.scores()


class AttachmentCounts:
    """The counts behind :func:`attachment_scores`, added up over batches of sentences: :meth:`scores` are those
    of every sentence added, as if scored at once."""

    def __init__(self) -> None:
        self.n_uas = self.n_las = self.n_ucm = self.n_lcm = self.n_words = self.n_sentences = 0

    def add(self, gold: Sequence[ConlluSentence], pred: Sequence[ConlluSentence]) -> None:
        """Count more sentences (the next ones of the file, for the sentence numbers of errors).

        Raises:
            DataError: if the two differ in number of sentences or in the words of a sentence.
        """
        if len(gold) != len(pred):
            raise DataError(
                f"{len(gold)} gold sentences but {len(pred)} predicted ones; score predictions made on the gold file."
            )
        for k, (gold_sentence, pred_sentence) in enumerate(zip(gold, pred, strict=True)):
            if gold_sentence.forms != pred_sentence.forms:
                raise DataError(
                    f"Sentence {self.n_sentences + k + 1} has the words {gold_sentence.forms} in gold but "
                    f"{pred_sentence.forms} predicted; the scores need the gold tokenisation (multiword tokens "
                    "split as in the gold file)."
                )
            arcs = [g == p for g, p in zip(gold_sentence.heads, pred_sentence.heads, strict=True)]
            rels = [
                arc and universal_deprel(g) == universal_deprel(p)
                for arc, g, p in zip(arcs, gold_sentence.deprels, pred_sentence.deprels, strict=True)
            ]
            self.n_uas, self.n_las, self.n_words = (
                self.n_uas + sum(arcs),
                self.n_las + sum(rels),
                self.n_words + len(arcs),
            )
            self.n_ucm, self.n_lcm = self.n_ucm + all(arcs), self.n_lcm + all(rels)
        self.n_sentences += len(gold)

    def scores(self) -> AttachmentScores:
        """The scores of every sentence added."""
        return _scores(self.n_uas, self.n_las, self.n_ucm, self.n_lcm, self.n_words, self.n_sentences)


class AttachmentMetric:
    """UAS, LAS, UCM and LCM accumulated over batches of predicted and gold ids, e.g. during evaluation.

    Args:
        labels: the label of each relation id (a ``LabelVocabulary``'s ``labels``); if given, LAS compares the
            universal parts of the relations, as :func:`attachment_scores` does; otherwise the ids.
    """

    def __init__(self, labels: Sequence[str] | None = None) -> None:
        self.labels = None if labels is None else list(labels)
        # [n_rels]: the id of each relation's universal part
        self._universal: torch.Tensor | None = None
        if self.labels is not None:
            parts = {part: i for i, part in enumerate(dict.fromkeys(map(universal_deprel, self.labels)))}
            self._universal = torch.tensor([parts[universal_deprel(label)] for label in self.labels])
        self.reset()

    def __repr__(self) -> str:
        scores = self.compute()
        return f"{self.__class__.__name__}(uas={scores.uas:.4f}, las={scores.las:.4f}, n_words={scores.n_words})"

    def reset(self) -> None:
        """Forget every batch seen."""
        self.n_uas = self.n_las = self.n_ucm = self.n_lcm = self.n_words = self.n_sentences = 0

    def update(
        self,
        arc_preds: torch.Tensor,
        rel_preds: torch.Tensor,
        arcs: torch.Tensor,
        rels: torch.Tensor,
        mask: torch.Tensor,
    ) -> None:
        """Add a batch.

        Args:
            arc_preds: ``[batch_size, seq_len]``, predicted heads.
            rel_preds: ``[batch_size, seq_len]``, predicted relation ids.
            arcs: ``[batch_size, seq_len]``, gold heads.
            rels: ``[batch_size, seq_len]``, gold relation ids.
            mask: ``[batch_size, seq_len]``, true at the words to score (false at ROOT and padding).
        """
        mask = mask.bool()
        if self._universal is not None:
            universal = self._universal.to(rel_preds.device)
            rel_preds, rels = universal[rel_preds.masked_fill(~mask, 0)], universal[rels.masked_fill(~mask, 0)]
        # [batch_size, seq_len]: correct heads, correct heads and relations, at words only
        arc_hits = arc_preds.eq(arcs) & mask
        rel_hits = arc_hits & rel_preds.eq(rels)
        lens = mask.sum(1)
        nonempty = lens.gt(0)
        self.n_uas += int(arc_hits.sum())
        self.n_las += int(rel_hits.sum())
        self.n_ucm += int((arc_hits.sum(1).eq(lens) & nonempty).sum())
        self.n_lcm += int((rel_hits.sum(1).eq(lens) & nonempty).sum())
        self.n_words += int(lens.sum())
        self.n_sentences += int(nonempty.sum())

    def compute(self) -> AttachmentScores:
        """The scores of every batch since the last :meth:`reset`."""
        return _scores(self.n_uas, self.n_las, self.n_ucm, self.n_lcm, self.n_words, self.n_sentences)
