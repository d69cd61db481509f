"""archit's CoNLL-U reader/writer, entity scoring and SQuAD scoring against their maintained counterparts.

archit keeps its own three (benchmarks/maintained_libraries.py measures the speed; the reasons are in each
test's docstring); these tests show they give the maintained libraries' figures: the ``conllu`` package's
reading of the real Turkish treebanks, ``seqeval``'s default (conlleval) mode on random tag sequences, and the
official SQuAD v2.0 script's scores on random answers.
"""

from __future__ import annotations

import importlib.util
import os
import warnings

import conllu
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities, precision_recall_fscore_support

from archit.simple.formats.conllu import format_conllu, parse_conllu
from archit.simple.metrics import entities, entity_scores, entity_scores_by_type, squad_scores
from tests.simple import official_squad_v2

TREEBANKS = ("web.conllu", "wiki.conllu")


def _treebank(name: str) -> bytes:
    """A treebank file of the ``turkish-treebanks`` package (site-packages/data/), which scripts/setup.sh installs."""
    spec = importlib.util.find_spec("data")
    directories = list(spec.submodule_search_locations or []) if spec is not None else []
    for directory in directories:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                return handle.read()
    raise FileNotFoundError(f"{name} of the turkish-treebanks package; run scripts/setup.sh")


@pytest.mark.parametrize("name", TREEBANKS)
def test_conllu_round_trip_of_real_treebanks_and_conllu_package_reading(name: str) -> None:
    """archit writes back every byte it read. The ``conllu`` package reads the same words but does not round
    trip: it keeps FEATS in a dict, so the treebanks' repeated features (``PersonNumber=A3sg|...|
    PersonNumber=V3sg``) lose one value; and it parses about five times slower."""
    raw = _treebank(name)
    text = raw.decode("utf-8")
    sentences = parse_conllu(text)
    # The files omit the blank line that ends the last sentence; the writer always ends a sentence with one.
    assert not raw.endswith(b"\n")
    assert format_conllu(sentences).encode("utf-8") == raw + b"\n\n"
    reference = conllu.parse(text)
    assert len(sentences) == len(reference) > 2000
    for sentence, token_list in zip(sentences, reference, strict=True):
        words = [token for token in token_list if isinstance(token["id"], int)]
        assert sentence.ids == [token["id"] for token in words]
        assert sentence.forms == [token["form"] for token in words]
        assert sentence.upos == [token["upos"] for token in words]
        assert sentence.heads == [token["head"] for token in words]
        assert sentence.deprels == [token["deprel"] for token in words]
        assert sentence.comments == [line for line in token_list.serialize().splitlines() if line.startswith("#")]


def test_conllu_round_trip_keeps_multiword_tokens_empty_nodes_and_comments() -> None:
    text = (
        "# newdoc id = d1\n# sent_id = 1\n# text = vámonos al mar\n"
        "1-2\tvámonos\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "1\tvamos\tir\tVERB\t_\tMood=Imp|Mood=Ind\t0\troot\t_\t_\n"
        "2\tnos\tnosotros\tPRON\t_\t_\t1\tobj\t_\t_\n"
        "2.1\tya\t_\tADV\t_\t_\t_\t_\t1:advmod\t_\n"
        "3-4\tal\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "3\ta\ta\tADP\t_\t_\t5\tcase\t_\t_\n"
        "4\tel\tel\tDET\t_\t_\t5\tdet\t_\t_\n"
        "5\tmar\tmar\tNOUN\t_\t_\t1\tobl\t_\tSpaceAfter=No\n\n"
    )
    (sentence,) = parse_conllu(text)
    assert format_conllu([sentence]) == text
    (token_list,) = conllu.parse(text)
    words = [token for token in token_list if isinstance(token["id"], int)]
    assert (sentence.forms, sentence.heads) == ([t["form"] for t in words], [t["head"] for t in words])


TYPES = ("PER", "LOC", "geo-loc")
TAGS = st.sampled_from(["O", *(f"{prefix}-{kind}" for prefix in "BIES" for kind in TYPES)])


@st.composite
def tagged_pairs(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    """Predicted and gold tag sequences of equal lengths, ill-formed ones included (``I-`` after ``O``...)."""
    lengths = draw(st.lists(st.integers(0, 12), min_size=1, max_size=6))
    predictions = [draw(st.lists(TAGS, min_size=n, max_size=n)) for n in lengths]
    references = [draw(st.lists(TAGS, min_size=n, max_size=n)) for n in lengths]
    return predictions, references


@settings(max_examples=150, deadline=None)
@given(tagged_pairs())
def test_entity_scores_equal_seqeval_default_mode(pairs: tuple[list[list[str]], list[list[str]]]) -> None:
    """seqeval's default mode chunks as conlleval does, and so does archit, for BIO and BIOES tags alike.
    (archit reads a tag without prefix, ``PER``, as ``I-PER``; seqeval would read it as type ``ER``. seqeval's
    ``mode="strict"`` is a different, scheme-checking measure.)"""
    predictions, references = pairs
    for tags in predictions + references:
        assert entities(tags) == [(kind, start, end) for kind, start, end in get_entities(tags)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns about zero divisions and ill-formed sequences
        precision, recall, f1, _ = precision_recall_fscore_support(references, predictions, average="micro")
        by_type = classification_report(references, predictions, output_dict=True, zero_division=0)
    scores = entity_scores(predictions, references)
    assert (scores["precision"], scores["recall"], scores["f1"]) == pytest.approx((precision, recall, f1), abs=1e-12)
    for kind, type_scores in entity_scores_by_type(predictions, references).items():
        expected = by_type[kind]
        assert type_scores == pytest.approx(
            {"precision": expected["precision"], "recall": expected["recall"], "f1": expected["f1-score"]}, abs=1e-12
        )


ANSWERS = st.sampled_from(["", " ", "the", "A.", "cat", "The cat", "the  Cat!", "black cat", "a black, cat", "dog"])


@st.composite
def squad_cases(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Predictions and gold answers of a few questions; unanswerable ones (``[]`` or ``[""]``) among them."""
    n_questions = draw(st.integers(1, 8))
    references = {f"q{i}": draw(st.lists(ANSWERS, max_size=3)) for i in range(n_questions)}
    predictions = {key: draw(ANSWERS) for key in references}
    return predictions, references


@settings(max_examples=300, deadline=None)
@given(squad_cases())
def test_squad_scores_equal_the_official_v2_script(case: tuple[dict[str, str], dict[str, list[str]]]) -> None:
    """Every figure, ``HasAns_*`` and ``NoAns_*`` included, is the official script's. archit's references give
    the answer texts of each question, ``""`` standing for "no answer"; the script's data has no such answers."""
    predictions, references = case
    qas = [{"id": key, "answers": [{"text": text} for text in golds if text]} for key, golds in references.items()]
    expected = official_squad_v2.evaluate([{"paragraphs": [{"qas": qas}]}], predictions)
    assert squad_scores(predictions, references) == dict(expected)


def test_squad_answer_that_normalises_to_nothing_is_still_answerable() -> None:
    # the official script: bool(qa["answers"]); the answer "the" normalises to "" yet the question has one
    scores = squad_scores({"q1": "", "q2": "x"}, {"q1": ["the"], "q2": []})
    assert scores["HasAns_total"] == 1.0 and scores["HasAns_exact"] == 100.0
    assert scores["NoAns_total"] == 1.0 and scores["NoAns_exact"] == 0.0
