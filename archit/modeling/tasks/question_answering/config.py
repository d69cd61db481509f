"""Head configs of extractive question answering, with and without an answerability classifier."""

from __future__ import annotations

import attrs

from archit.modeling.heads.base import POOLING_METHODS, HeadConfig, one_of, register_head_config

__all__ = ["ExtractiveAQAHeadConfig", "ExtractiveQAHeadConfig"]


@register_head_config
@attrs.define(kw_only=True)
class ExtractiveQAHeadConfig(HeadConfig):
    """A linear layer giving every token a span-start and a span-end score."""


@register_head_config
@attrs.define(kw_only=True)
class ExtractiveAQAHeadConfig(ExtractiveQAHeadConfig):
    """Span scores plus a two-way answerable / unanswerable classifier on the pooled sequence.

    Args:
        pooling: how the sequence is pooled for the answerability classifier (as in sequence classification).
    """

    pooling: str = attrs.field(
        default="auto", validator=one_of(POOLING_METHODS), metadata={"help": "pooling for answerability"}
    )
