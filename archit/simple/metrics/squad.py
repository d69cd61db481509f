"""SQuAD exact match and F1, with the normalisation of the official SQuAD v2.0 evaluation script.

Unanswerable questions have the empty string as their only gold answer: predicting ``""`` scores 1 on both
measures, anything else 0. The official script's ``HasAns_*`` and ``NoAns_*`` breakdowns are returned too; a
question is answerable when it has a gold answer, even one that normalises to nothing (``"the"``), as there.
``tests/simple/test_maintained_libraries.py`` checks every figure against the official script's logic.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Mapping, Sequence

from archit.errors import DataError

__all__ = ["exact_match", "normalize_answer", "squad_scores", "token_f1"]

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, and collapse white space (official script)."""
    text = "".join(character for character in text.lower() if character not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the two answers are equal after :func:`normalize_answer`, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """F1 of the normalised answers' bags of words; two empty answers score 1.0, one empty one 0.0."""
    predicted_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not predicted_tokens or not gold_tokens:
        return float(predicted_tokens == gold_tokens)
    common = collections.Counter(predicted_tokens) & collections.Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted_tokens), overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Exact match and F1 in percent, each the maximum over a question's gold answers, averaged over questions.

    Args:
        predictions: the predicted answer text of each question id (``""`` for "no answer").
        references: the gold answer texts of each question id; an empty list (or ``[""]``) for unanswerable
            questions.

    Returns:
        ``exact`` and ``f1`` over all questions, plus ``HasAns_exact``/``HasAns_f1``/``HasAns_total`` and
        ``NoAns_exact``/``NoAns_f1``/``NoAns_total`` for the answerable and unanswerable subsets that occur.

    Raises:
        DataError: a question id of the references has no prediction.
    """
    missing = [key for key in references if key not in predictions]
    if missing:
        raise DataError(f"{len(missing)} questions have no prediction, for example id {missing[0]!r}.")
    exact: dict[str, float] = {}
    f1: dict[str, float] = {}
    for key, golds in references.items():
        golds = [gold for gold in golds if normalize_answer(gold)] or [""]
        exact[key] = max(exact_match(predictions[key], gold) for gold in golds)
        f1[key] = max(token_f1(predictions[key], gold) for gold in golds)
    scores = _averages(exact, f1, list(references), "")
    for prefix, answerable in (("HasAns_", True), ("NoAns_", False)):
        # answerable as the official script counts it: a gold answer is given (``""`` standing for none)
        subset = [key for key, golds in references.items() if any(golds) == answerable]
        if subset:
            scores.update(_averages(exact, f1, subset, prefix))
    return scores


def _averages(exact: Mapping[str, float], f1: Mapping[str, float], keys: list[str], prefix: str) -> dict[str, float]:
    total = len(keys)
    return {
        f"{prefix}exact": 100.0 * sum(exact[key] for key in keys) / total if total else 0.0,
        f"{prefix}f1": 100.0 * sum(f1[key] for key in keys) / total if total else 0.0,
        f"{prefix}total": float(total),
    }
