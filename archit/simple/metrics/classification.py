"""Classification and regression metrics: accuracy, macro F1, multi-label scores, Pearson and Spearman."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

from archit.errors import DataError

__all__ = ["LabelCounts", "accuracy", "correlations", "f1_per_label", "macro_f1", "multi_label_scores"]


def _check_lengths(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise DataError(
            f"Got {len(predictions)} predictions for {len(references)} references; score one prediction per reference."
        )


def accuracy(predictions: Sequence[Hashable], references: Sequence[Hashable]) -> float:
    """The fraction of predictions equal to their reference (0.0 when there are none).

    Raises:
        DataError: the two sequences differ in length.
    """
    _check_lengths(predictions, references)
    if not references:
        return 0.0
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / len(references)


class LabelCounts:
    """Per-label counts of single-label predictions, added up over batches: :meth:`accuracy`, :meth:`f1_per_label`
    and :meth:`macro_f1` are those of every prediction added, as if scored at once."""

    def __init__(self) -> None:
        self.correct = self.total = 0
        self.true_positives: dict[Hashable, int] = {}
        self.predicted: dict[Hashable, int] = {}
        self.gold: dict[Hashable, int] = {}

    def add(self, predictions: Sequence[Hashable], references: Sequence[Hashable]) -> None:
        """Count more predictions against their references.

        Raises:
            DataError: the two sequences differ in length.
        """
        _check_lengths(predictions, references)
        for prediction, reference in zip(predictions, references, strict=True):
            self.predicted[prediction] = self.predicted.get(prediction, 0) + 1
            self.gold[reference] = self.gold.get(reference, 0) + 1
            if prediction == reference:
                self.true_positives[prediction] = self.true_positives.get(prediction, 0) + 1
                self.correct += 1
        self.total += len(references)

    def accuracy(self) -> float:
        """The fraction of predictions equal to their reference (0.0 when there are none)."""
        return self.correct / self.total if self.total else 0.0

    def f1_per_label(self) -> dict[Hashable, float]:
        """F1 of each label that occurs in the predictions or the references."""
        return {
            label: _f1(self.true_positives.get(label, 0), self.predicted.get(label, 0), self.gold.get(label, 0))
            for label in {*self.predicted, *self.gold}
        }

    def macro_f1(self) -> float:
        """The unweighted mean of :meth:`f1_per_label`."""
        scores = self.f1_per_label()
        return sum(scores.values()) / len(scores) if scores else 0.0


def f1_per_label(predictions: Sequence[Hashable], references: Sequence[Hashable]) -> dict[Hashable, float]:
    """F1 of each label that occurs in the predictions or the references.

    A label that is never predicted and never gold does not appear; one that is predicted but never gold
    (or the reverse) scores 0.

    Raises:
        DataError: the two sequences differ in length.
    """
    counts = LabelCounts()
    counts.add(predictions, references)
    return counts.f1_per_label()


def macro_f1(predictions: Sequence[Hashable], references: Sequence[Hashable]) -> float:
    """The unweighted mean of :func:`f1_per_label` (scikit-learn's ``f1_score(average="macro")``)."""
    counts = LabelCounts()
    counts.add(predictions, references)
    return counts.macro_f1()


def multi_label_scores(predictions: Sequence[Sequence[int]], references: Sequence[Sequence[int]]) -> dict[str, float]:
    """Scores of multi-label predictions given as 0/1 rows, one column per label.

    Returns:
        ``accuracy`` (subset accuracy: every label of the row right), ``micro_f1`` over all label
        decisions, and ``macro_f1`` (the mean over labels of each label's F1 on its positive class).

    Raises:
        DataError: the rows differ in number or in width.
    """
    _check_lengths(predictions, references)
    if not references:
        return {"accuracy": 0.0, "micro_f1": 0.0, "macro_f1": 0.0}
    width = len(references[0])
    if any(len(row) != width for row in [*predictions, *references]):
        raise DataError(f"Every multi-label row must have {width} columns, one per label.")
    columns = []
    for label in range(width):
        pairs = [(bool(p[label]), bool(r[label])) for p, r in zip(predictions, references, strict=True)]
        columns.append((sum(p and r for p, r in pairs), sum(p for p, _ in pairs), sum(r for _, r in pairs)))
    micro = _f1(sum(c[0] for c in columns), sum(c[1] for c in columns), sum(c[2] for c in columns))
    subset = sum([bool(x) for x in p] == [bool(x) for x in r] for p, r in zip(predictions, references, strict=True))
    return {
        "accuracy": subset / len(references),
        "micro_f1": micro,
        "macro_f1": sum(_f1(*column) for column in columns) / width,
    }


def correlations(predictions: Sequence[float], references: Sequence[float]) -> dict[str, float]:
    """Pearson and Spearman correlation (scipy), plus the mean squared error.

    A correlation that is undefined (fewer than two points, or a constant side) is reported as 0.0.

    Raises:
        DataError: the two sequences differ in length.
    """
    from scipy import stats

    _check_lengths(predictions, references)
    result = {"mse": sum((p - r) ** 2 for p, r in zip(predictions, references, strict=True)) / max(len(references), 1)}
    if len(references) < 2 or len(set(predictions)) < 2 or len(set(references)) < 2:
        return {"pearson": 0.0, "spearman": 0.0, **result}
    pearson = float(stats.pearsonr(predictions, references)[0])
    spearman = float(stats.spearmanr(predictions, references)[0])
    return {
        "pearson": 0.0 if math.isnan(pearson) else pearson,
        "spearman": 0.0 if math.isnan(spearman) else spearman,
        **result,
    }


def _f1(true_positives: int, predicted: int, gold: int) -> float:
    """F1 from counts: ``2 tp / (predicted + gold)``, 0 when both are 0."""
    return 2 * true_positives / (predicted + gold) if predicted + gold else 0.0
