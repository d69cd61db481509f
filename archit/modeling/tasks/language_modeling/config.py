"""Head configs of masked and causal language modelling."""

from __future__ import annotations

import attrs

from archit.modeling.heads.base import HeadConfig, register_head_config

__all__ = ["CausalLMHeadConfig", "MaskedLMHeadConfig"]


@register_head_config
@attrs.define(kw_only=True)
class MaskedLMHeadConfig(HeadConfig):
    """Predict the vocabulary at every position; the decoder is tied to the input embeddings where the
    backbone's config ties them (``tie_word_embeddings``).

    Args:
        transform: a dense layer, the backbone's activation and a layer norm before the decoder (BERT and most
            encoders); ``False``: the decoder alone (XLM).
        transform_bias: biases in that dense layer and layer norm (ModernBERT's have none).
    """

    transform: bool = attrs.field(default=True, metadata={"help": "dense + activation + layer norm before the decoder"})
    transform_bias: bool = attrs.field(default=True, metadata={"help": "biases in the dense layer and layer norm"})


@register_head_config
@attrs.define(kw_only=True)
class CausalLMHeadConfig(HeadConfig):
    """Predict the next token at every position, with a linear layer tied like :class:`MaskedLMHeadConfig`."""
