"""Alias of :mod:`archit.modeling.tasks.dependency_parsing.decoding`, kept for existing imports."""

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

__all__ = [
    "ALGORITHMS",
    "MIN",
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
