"""The biaffine dependency parser's head config."""

from __future__ import annotations

import attrs

from archit.errors import HeadConfigError
from archit.modeling.heads.base import HeadConfig, one_of, positive_int, register_head_config
from archit.modeling.tasks.dependency_parsing.decoding import ALGORITHMS

__all__ = ["DependencyParsingHeadConfig", "SUBWORD_POOLING"]


SUBWORD_POOLING = ("first", "last", "mean")


@register_head_config
@attrs.define(kw_only=True)
class DependencyParsingHeadConfig(HeadConfig):
    """A biaffine arc scorer and a biaffine label scorer over word representations, with a ROOT vector.

    Args:
        num_labels: number of dependency relations.
        arc_mlp_size: width of the arc MLPs (head and dependent).
        label_mlp_size: width of the label MLPs.
        dropout: dropout on word representations and in the MLPs (SuPar's 0.33).
        subword_pooling: how a word's subword vectors become one: ``first``, ``last`` or ``mean``.
        scalar_mix_layers: mix the last N layers with learned softmax weights (1: the last layer only).
        decoder: ``mst`` (Chu-Liu/Edmonds), ``eisner`` (projective) or ``greedy`` (argmax; may not be a tree).
    """

    num_labels: int = attrs.field(default=2, validator=positive_int, metadata={"help": "number of relations"})
    arc_mlp_size: int = attrs.field(default=500, validator=positive_int, metadata={"help": "arc MLP width"})
    label_mlp_size: int = attrs.field(default=100, validator=positive_int, metadata={"help": "label MLP width"})
    dropout: float | None = attrs.field(default=0.33, metadata={"help": "dropout in the parser"})
    subword_pooling: str = attrs.field(
        default="first", validator=one_of(SUBWORD_POOLING), metadata={"help": "subwords → word pooling"}
    )
    scalar_mix_layers: int = attrs.field(
        default=1, validator=positive_int, metadata={"help": "mix of the last N backbone layers"}
    )
    decoder: str = attrs.field(default="mst", validator=one_of(ALGORITHMS), metadata={"help": "tree decoder"})

    @dropout.validator
    def _check_dropout(self, attribute: attrs.Attribute, value: float | None) -> None:
        if value is not None and not 0.0 <= value < 1.0:
            raise HeadConfigError(f"DependencyParsingHeadConfig.dropout must be in [0, 1); got {value!r}.")
