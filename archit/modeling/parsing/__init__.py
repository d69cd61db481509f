"""Model-independent pieces of graph-based dependency parsing: biaffine scoring, tree decoding and the loss."""

from archit.modeling.parsing.biaffine import MLP, Biaffine, SharedDropout
from archit.modeling.parsing.decoding import (
    ALGORITHMS,
    MIN,
    chu_liu_edmonds,
    decode,
    decode_labels,
    eisner,
    find_cycle,
    greedy,
    head_mask,
    is_projective,
    is_tree,
    is_well_formed,
    lengths,
    mst,
    tree_score,
)
from archit.modeling.parsing.loss import IGNORE_INDEX, arc_label_loss

__all__ = [
    "ALGORITHMS",
    "IGNORE_INDEX",
    "MIN",
    "MLP",
    "Biaffine",
    "SharedDropout",
    "arc_label_loss",
    "chu_liu_edmonds",
    "decode",
    "decode_labels",
    "eisner",
    "find_cycle",
    "greedy",
    "head_mask",
    "is_projective",
    "is_tree",
    "is_well_formed",
    "lengths",
    "mst",
    "tree_score",
]
