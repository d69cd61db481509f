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
        dropout: dropout in the MLPs, shared by the words of a sentence (SuPar's 0.33); ``None``: the backbone's
            hidden dropout.
        word_dropout: dropout on the word vectors the MLPs read; ``None``: the backbone's hidden dropout (0.1 for
            BERT-like backbones, SuPar's dropout on a fine-tuned encoder's output).
        subword_pooling: how a word's subword vectors become one: ``first``, ``last`` or ``mean`` (SuPar's).
        scalar_mix_layers: mix the last N layers with learned softmax weights (1: the last layer only; 4, as
            SuPar: the backbone's last four hidden states, or all it has if it has fewer).
        decoder: ``mst`` (Chu-Liu/Edmonds), ``eisner`` (projective) or ``greedy`` (argmax; may not be a tree).
    """

    num_labels: int = attrs.field(default=2, validator=positive_int, metadata={"help": "number of relations"})
    arc_mlp_size: int = attrs.field(default=500, validator=positive_int, metadata={"help": "arc MLP width"})
    label_mlp_size: int = attrs.field(default=100, validator=positive_int, metadata={"help": "label MLP width"})
    dropout: float | None = attrs.field(default=0.33, metadata={"help": "dropout in the MLPs"})
    word_dropout: float | None = attrs.field(default=None, metadata={"help": "dropout on the word vectors"})
    subword_pooling: str = attrs.field(
        default="mean", validator=one_of(SUBWORD_POOLING), metadata={"help": "subwords → word pooling"}
    )
    scalar_mix_layers: int = attrs.field(
        default=4, validator=positive_int, metadata={"help": "mix of the last N backbone layers"}
    )
    decoder: str = attrs.field(default="mst", validator=one_of(ALGORITHMS), metadata={"help": "tree decoder"})

    @dropout.validator
    @word_dropout.validator
    def _check_dropout(self, attribute: attrs.Attribute, value: float | None) -> None:
        if value is not None and not 0.0 <= value < 1.0:
            raise HeadConfigError(f"DependencyParsingHeadConfig.{attribute.name} must be in [0, 1); got {value!r}.")
