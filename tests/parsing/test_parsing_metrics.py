"""UAS, LAS, UCM, LCM on hand-computed cases, from sentences and from batches of ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from archit.errors import DataError
from archit.simple.formats.conllu import ConlluSentence, LabelVocabulary, read_conllu
from archit.simple.metrics.parsing import AttachmentMetric, attachment_scores, universal_deprel

FIXTURE = Path(__file__).parent.parent / "fixtures" / "en_tiny.conllu"


def _gold_and_pred() -> tuple[list[ConlluSentence], list[ConlluSentence]]:
    """Three gold sentences (9, 2 and 7 words) and predictions with hand-placed errors."""
    sentences = read_conllu(FIXTURE)
    gold = [sentences[3], sentences[9], sentences[5]]
    # She was given a book by her teacher .
    heads = list(gold[0].heads)
    deprels = list(gold[0].deprels)
    deprels[0] = "nsubj"  # nsubj:pass -> nsubj: same universal relation, still correct
    deprels[7] = "obl"  # obl:agent -> obl: still correct
    heads[4] = 8  # book attached to teacher: head and label wrong
    deprels[6] = "det"  # her: right head, wrong relation
    # Thanks ! : all correct; Where did you put the keys ? : one wrong relation
    last = list(gold[2].deprels)
    last[6] = "dep"
    pred = [
        gold[0].with_predictions(heads, deprels),
        gold[1].with_predictions(gold[1].heads, gold[1].deprels),
        gold[2].with_predictions(gold[2].heads, last),
    ]
    return gold, pred


def test_scores_by_conll18_conventions() -> None:
    gold, pred = _gold_and_pred()
    scores = attachment_scores(gold, pred)
    # 18 words: 17 right heads; 15 right heads and universal relations; punctuation counted
    assert scores.n_words == 18 and scores.n_sentences == 3
    assert scores.uas == pytest.approx(17 / 18)
    assert scores.las == pytest.approx(15 / 18)
    assert scores.ucm == pytest.approx(2 / 3)
    assert scores.lcm == pytest.approx(1 / 3)
    assert scores.as_dict() == {"uas": scores.uas, "las": scores.las, "ucm": scores.ucm, "lcm": scores.lcm}
    perfect = attachment_scores(gold, gold)
    assert (perfect.uas, perfect.las, perfect.ucm, perfect.lcm) == (1.0, 1.0, 1.0, 1.0)
    assert attachment_scores([], []).uas == 0.0


def test_multiword_tokens_and_empty_nodes_are_not_words() -> None:
    sentences = read_conllu(FIXTURE)
    scores = attachment_scores(sentences[1:3], sentences[1:3])
    assert scores.n_words == 5 + 7


def test_mismatched_inputs_raise() -> None:
    gold, pred = _gold_and_pred()
    with pytest.raises(DataError, match="3 gold sentences but 2 predicted"):
        attachment_scores(gold, pred[:2])
    with pytest.raises(DataError, match="Sentence 1 has the words"):
        attachment_scores(gold, [pred[1], pred[0], pred[2]])


def test_universal_deprel() -> None:
    assert universal_deprel("nsubj:pass") == "nsubj"
    assert universal_deprel("obl") == "obl"
    assert universal_deprel("acl:relcl:x") == "acl"


def _batch(sentences: list[ConlluSentence], vocab: LabelVocabulary) -> tuple[torch.Tensor, torch.Tensor]:
    seq_len = max(len(s) for s in sentences) + 1
    heads = torch.zeros(len(sentences), seq_len, dtype=torch.long)
    rels = torch.zeros(len(sentences), seq_len, dtype=torch.long)
    for b, sentence in enumerate(sentences):
        heads[b, 1 : len(sentence) + 1] = torch.tensor(sentence.heads)
        rels[b, 1 : len(sentence) + 1] = torch.tensor(vocab.encode(sentence.deprels))
    return heads, rels


def test_attachment_metric_on_batches_matches_the_sentence_scores() -> None:
    gold, pred = _gold_and_pred()
    vocab = LabelVocabulary.from_sentences(gold + pred)
    arcs, rels = _batch(gold, vocab)
    arc_preds, rel_preds = _batch(pred, vocab)
    lens = torch.tensor([len(s) for s in gold])
    positions = torch.arange(arcs.shape[1])
    mask = positions.gt(0) & positions.le(lens.unsqueeze(1))
    metric = AttachmentMetric(vocab.labels)
    metric.update(arc_preds[:2], rel_preds[:2], arcs[:2], rels[:2], mask[:2])
    metric.update(arc_preds[2:], rel_preds[2:], arcs[2:], rels[2:], mask[2:])
    assert metric.compute() == attachment_scores(gold, pred)
    # without labels, relation ids are compared as they are: nsubj:pass != nsubj, obl:agent != obl
    by_id = AttachmentMetric()
    by_id.update(arc_preds, rel_preds, arcs, rels, mask)
    assert by_id.compute().las == pytest.approx(13 / 18)
    assert "uas=0.9444" in repr(by_id)
    by_id.reset()
    assert by_id.compute().n_words == 0
