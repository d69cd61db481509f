"""Metrics: each checked against hand-worked cases and, where a simple definition exists, against it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archit.errors import DataError
from archit.simple.metrics import (
    accuracy,
    correlations,
    entities,
    entity_scores,
    entity_scores_by_type,
    is_bio_label_set,
    macro_f1,
    multi_label_scores,
    normalize_answer,
    perplexity,
    squad_scores,
    token_f1,
)


def test_accuracy_and_macro_f1_by_hand() -> None:
    predictions = ["a", "a", "b", "c"]
    references = ["a", "b", "b", "b"]
    assert accuracy(predictions, references) == 0.5
    # F1: a = 2*1/(2+1), b = 2*1/(1+3), c = 0
    assert macro_f1(predictions, references) == pytest.approx((2 / 3 + 2 / 4 + 0) / 3)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30))
def test_macro_f1_matches_precision_recall_definition(pairs: list[tuple[int, int]]) -> None:
    predictions, references = zip(*pairs, strict=True)
    labels = set(predictions) | set(references)
    scores = []
    for label in labels:
        tp = sum(p == r == label for p, r in pairs)
        precision = tp / max(sum(p == label for p in predictions), 1)
        recall = tp / max(sum(r == label for r in references), 1)
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    assert macro_f1(predictions, references) == pytest.approx(sum(scores) / len(scores))


def test_length_mismatch_is_a_data_error() -> None:
    with pytest.raises(DataError, match="2 predictions for 1 references"):
        accuracy([1, 2], [1])


def test_multi_label_scores() -> None:
    scores = multi_label_scores([[1, 0, 1], [0, 1, 0]], [[1, 0, 0], [0, 1, 0]])
    assert scores["accuracy"] == 0.5
    assert scores["micro_f1"] == pytest.approx(2 * 2 / (3 + 2))
    assert scores["macro_f1"] == pytest.approx((1 + 1 + 0) / 3)


def test_correlations_use_scipy_and_survive_constant_input() -> None:
    scores = correlations([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0])
    assert scores["spearman"] == pytest.approx(1.0)
    assert 0.95 < scores["pearson"] < 1.0
    assert correlations([1.0, 1.0], [0.0, 1.0])["pearson"] == 0.0


def test_entities_follow_conlleval_chunking() -> None:
    assert entities(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 1), ("LOC", 3, 3)]
    # conlleval: I- after O starts an entity; a type change ends one; B- after B- splits.
    assert entities(["O", "I-ORG", "I-LOC", "B-LOC", "B-LOC"]) == [
        ("ORG", 1, 1),
        ("LOC", 2, 2),
        ("LOC", 3, 3),
        ("LOC", 4, 4),
    ]
    assert entities(["S-PER", "B-LOC", "E-LOC", "O"]) == [("PER", 0, 0), ("LOC", 1, 2)]


def test_entity_scores_partial_matches_count_as_wrong() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "O"]]
    scores = entity_scores(predicted, gold)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    by_type = entity_scores_by_type(predicted, gold)
    assert by_type["PER"]["f1"] == 0.0 and by_type["LOC"]["f1"] == 1.0


def test_entity_scores_reject_ragged_sequences() -> None:
    with pytest.raises(DataError, match="Sequence 0 has 1 predicted tags for 2 gold tags"):
        entity_scores([["O"]], [["O", "O"]])


def test_bio_label_set_detection() -> None:
    assert is_bio_label_set(["O", "B-PER", "I-PER"])
    assert not is_bio_label_set(["NOUN", "VERB"])
    assert not is_bio_label_set(["O"])


def test_squad_normalisation_and_scores() -> None:
    assert normalize_answer("The  Cat, sat!") == "cat sat"
    assert token_f1("the cat sat", "a cat sat down") == pytest.approx(2 * 1 * (2 / 3) / (1 + 2 / 3))
    scores = squad_scores(
        {"q1": "Denver Broncos", "q2": "", "q3": "Paris"},
        {"q1": ["the Denver Broncos", "Broncos"], "q2": [], "q3": ["London"]},
    )
    assert scores["exact"] == pytest.approx(200 / 3)
    assert scores["HasAns_total"] == 2 and scores["NoAns_total"] == 1
    assert scores["NoAns_exact"] == 100.0 and scores["HasAns_exact"] == 50.0


def test_squad_missing_prediction() -> None:
    with pytest.raises(DataError, match="'q2'"):
        squad_scores({"q1": ""}, {"q1": [], "q2": ["x"]})


def test_perplexity() -> None:
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(7.0)) == pytest.approx(7.0)
    assert perplexity(1e6) == math.inf
