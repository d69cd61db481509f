"""The training loss of a first-order biaffine parser: arc cross-entropy plus label cross-entropy at gold arcs."""

from __future__ import annotations

import torch
from torch.nn import functional

from archit.errors import DataError
from archit.modeling.tasks.dependency_parsing.decoding import MIN, head_mask
from archit.modeling.tasks.losses import IGNORE_INDEX


def arc_label_loss(
    s_arc: torch.Tensor,
    s_rel: torch.Tensor,
    heads: torch.Tensor,
    rels: torch.Tensor,
    mask: torch.Tensor,
    num_items_in_batch: torch.Tensor | int | None = None,
) -> torch.Tensor:
    """Cross-entropy over the heads of each word plus cross-entropy over the label of its gold arc, per word.

    Each word chooses among ROOT and the other words of its sentence (padding and self-loops are masked with a
    finite minimum). The loss is the sum over words of their arc and label terms, divided by the number of words
    (or by ``num_items_in_batch``, the words of a whole accumulated batch, which makes gradient accumulation
    exact). A word whose head is ``-100`` is left out (partial annotation); a word whose label is ``-100``
    contributes only its arc term. Scores are upcast to float32 first, whatever their dtype.

    Args:
        s_arc: ``[batch_size, seq_len, seq_len]``, the score of head ``j`` for dependent ``i``.
        s_rel: ``[batch_size, seq_len, seq_len, n_rels]``, the score of each label on the arc ``j -> i``.
        heads: ``[batch_size, seq_len]`` (long), the gold head of each word.
        rels: ``[batch_size, seq_len]`` (long), the gold label of each word.
        mask: ``[batch_size, seq_len]``, true at real words (false at ROOT, position 0, and padding).
        num_items_in_batch: the number of words to divide by; by default the words counted here.

    Returns:
        A float32 scalar tensor (0 with gradient if no word counts).

    Raises:
        DataError: if a counted word's gold head is itself, padding, or outside ``[0, seq_len)``, or its label
            lies outside ``[0, n_rels)``.
    """
    words = mask.bool()
    possible = head_mask(words)
    mask = words & heads.ne(IGNORE_INDEX)
    gold = heads.masked_fill(~mask, 0)
    seq_len, n_rels = s_arc.shape[1], s_rel.shape[-1]
    # [batch_size, seq_len]: the gold arc of each counted word is a possible arc
    valid = gold.ge(0) & gold.lt(seq_len) & possible.gather(2, gold.clamp(0, seq_len - 1).unsqueeze(2)).squeeze(2)
    if not valid[mask].all():
        raise DataError(
            "Every gold head in `heads` must be 0 (ROOT) or another word of the same sentence (or -100 to ignore "
            "the word); found a head that points to itself, to padding or outside the sequence. Check that heads "
            "are CoNLL-U word ids aligned to the positions of `mask`."
        )
    labelled = mask & rels.ne(IGNORE_INDEX)
    if not (rels.ge(0) & rels.lt(n_rels))[labelled].all():
        raise DataError(
            f"Every gold label in `rels` must lie in [0, {n_rels}) (the n_rels of `s_rel`) or be -100; found "
            f"{rels[labelled].min().item()}..{rels[labelled].max().item()}. Build label ids with the same label "
            "vocabulary as the head."
        )
    # [n_words, seq_len], [n_words]: the counted words only, in float32
    s_arc, heads = s_arc[mask].float().masked_fill(~possible[mask], MIN), gold[mask]
    # [n_words, seq_len, n_rels] -> [n_words, n_rels]: label scores at the gold arc of each word
    s_rel, rels = s_rel[mask], rels[mask]
    s_rel = s_rel[torch.arange(len(heads), device=heads.device), heads].float()
    arc_loss = functional.cross_entropy(s_arc, heads, reduction="sum")
    rel_loss = functional.cross_entropy(s_rel, rels, ignore_index=IGNORE_INDEX, reduction="sum")
    n_words = num_items_in_batch if num_items_in_batch is not None else max(len(heads), 1)
    return (arc_loss + rel_loss) / n_words
