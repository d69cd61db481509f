"""Model-independent pieces of graph-based dependency parsing: biaffine scoring, tree decoding and the loss.

They live in the dependency-parsing task package (:mod:`archit.modeling.tasks.dependency_parsing`); this package
keeps the old import path."""

from archit.modeling.tasks.dependency_parsing.biaffine import MLP, Biaffine, SharedDropout
from archit.modeling.tasks.dependency_parsing.decoding import (
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
from archit.modeling.tasks.dependency_parsing.loss import arc_label_loss
from archit.modeling.tasks.losses import IGNORE_INDEX

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
