"""Model-independent pieces of graph-based dependency parsing: biaffine scoring, tree decoding and the loss.

They live in the dependency-parsing task package (:mod:`archit.modeling.tasks.dependency_parsing`); this package
keeps the old import path."""

from archit.modeling.tasks.dependency_parsing import decoding as _decoding
from archit.modeling.tasks.dependency_parsing.biaffine import MLP, Biaffine, SharedDropout
from archit.modeling.tasks.dependency_parsing.decoding import *  # noqa: F403
from archit.modeling.tasks.dependency_parsing.loss import arc_label_loss
from archit.modeling.tasks.losses import IGNORE_INDEX

__all__ = ["IGNORE_INDEX", "MLP", "Biaffine", "SharedDropout", "arc_label_loss", *_decoding.__all__]
