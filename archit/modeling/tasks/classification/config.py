"""Head configs of token and sequence classification (sequence classification also serves regression,
multi-label classification and multiple choice)."""

from __future__ import annotations

import attrs

from archit.modeling.heads.base import POOLING_METHODS, HeadConfig, one_of, positive_int, register_head_config

__all__ = ["SequenceClassificationHeadConfig", "TokenClassificationHeadConfig"]


@register_head_config
@attrs.define(kw_only=True)
class TokenClassificationHeadConfig(HeadConfig):
    """A linear layer over each token's hidden state.

    Args:
        num_labels: number of classes (>= 1).
    """

    num_labels: int = attrs.field(default=2, validator=positive_int, metadata={"help": "number of token classes"})


@register_head_config
@attrs.define(kw_only=True)
class SequenceClassificationHeadConfig(HeadConfig):
    """Pool the sequence to one vector, then dense + tanh + linear (RoBERTa's classification head).

    Args:
        num_labels: number of classes, or of regression targets (>= 1).
        pooling: ``auto`` (``last`` on causal backbones, else ``first``), ``first``, ``last``, ``mean``, or
            ``pooler`` (the backbone's own pooler, where it has one; then no extra dense layer).
    """

    num_labels: int = attrs.field(default=2, validator=positive_int, metadata={"help": "number of classes"})
    pooling: str = attrs.field(
        default="auto", validator=one_of(POOLING_METHODS), metadata={"help": "how the sequence is pooled"}
    )
