"""arc_label_loss: value, masking, ignored labels and malformed gold."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional

from archit.errors import DataError
from archit.modeling.parsing import arc_label_loss

N_RELS = 3


def _batch() -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(0)
    s_arc = torch.randn(2, 4, 4, generator=generator, requires_grad=True)
    s_rel = torch.randn(2, 4, 4, N_RELS, generator=generator, requires_grad=True)
    heads = torch.tensor([[0, 2, 0, 2], [0, 0, 1, 0]])
    rels = torch.tensor([[0, 1, 0, 2], [0, 2, 1, 0]])
    mask = torch.tensor([[False, True, True, True], [False, True, True, False]])
    return s_arc, s_rel, heads, rels, mask


def _expected(s_arc, s_rel, words: list[tuple[int, int, int, int]], n_words: list[int]) -> torch.Tensor:
    """Mean arc and label cross-entropy, each word choosing among ROOT and its sentence's other words."""
    arc = rel = 0.0
    for b, i, head, rel_id in words:
        candidates = [j for j in range(n_words[b] + 1) if j != i]
        arc = arc - torch.log_softmax(s_arc[b, i, candidates], -1)[candidates.index(head)]
        rel = rel - torch.log_softmax(s_rel[b, i, head], -1)[rel_id]
    return (arc + rel) / len(words)


def test_loss_is_the_mean_arc_plus_label_cross_entropy() -> None:
    s_arc, s_rel, heads, rels, mask = _batch()
    loss = arc_label_loss(s_arc, s_rel, heads, rels, mask)
    words = [(0, 1, 2, 1), (0, 2, 0, 0), (0, 3, 2, 2), (1, 1, 0, 2), (1, 2, 1, 1)]
    torch.testing.assert_close(loss, _expected(s_arc, s_rel, words, [3, 2]))
    loss.backward()
    assert s_arc.grad is not None and s_arc.grad[1, 3].eq(0).all() and s_arc.grad[0, 1].ne(0).any()


def test_ignored_heads_and_labels_leave_their_terms() -> None:
    """A word without a head is not an item; a word without a label is one, with its arc term only."""
    s_arc, s_rel, heads, rels, mask = _batch()
    heads[0, 3] = -100  # word out of both terms, but still a possible head for others
    rels[1, 1] = -100  # word out of the label term only
    loss = arc_label_loss(s_arc, s_rel, heads, rels, mask)
    arc_words = [(0, 1, 2), (0, 2, 0), (1, 1, 0), (1, 2, 1)]
    arc = sum(
        functional.cross_entropy(
            s_arc[b, i, [j for j in range(4 if b == 0 else 3) if j != i]][None],
            torch.tensor([[j for j in range(4 if b == 0 else 3) if j != i].index(h)]),
        )
        for b, i, h in arc_words
    ) / len(arc_words)
    rel_words = [(0, 1, 2, 1), (0, 2, 0, 0), (1, 2, 1, 1)]
    rel = sum(functional.cross_entropy(s_rel[b, i, h][None], torch.tensor([r])) for b, i, h, r in rel_words)
    rel = rel / len(arc_words)  # the unlabelled word is still an item
    torch.testing.assert_close(loss, arc + rel)


def test_no_counted_word_gives_zero_with_gradient() -> None:
    s_arc, s_rel, heads, rels, mask = _batch()
    loss = arc_label_loss(s_arc, s_rel, heads, rels, torch.zeros_like(mask))
    assert loss.item() == 0.0 and loss.requires_grad


@pytest.mark.parametrize(
    ("position", "head", "rel", "message"),
    [
        ((0, 1), 1, 0, "points to itself"),
        ((1, 1), 3, 0, "padding"),
        ((0, 1), -1, 0, "outside"),
        ((0, 2), 0, 3, "[0, 3)"),
    ],
)
def test_malformed_gold_raises(position: tuple[int, int], head: int, rel: int, message: str) -> None:
    s_arc, s_rel, heads, rels, mask = _batch()
    heads[position], rels[position] = head, rel
    with pytest.raises(DataError, match=message.replace("[", r"\[").replace(")", r"\)")):
        arc_label_loss(s_arc, s_rel, heads, rels, mask)
