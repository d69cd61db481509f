"""Alias of :mod:`archit.modeling.tasks.language_modeling` (the LM head configs, heads and family head factories),
kept for existing imports."""

from archit.modeling.heads.base import HeadSpec
from archit.modeling.tasks.language_modeling.config import CausalLMHeadConfig, MaskedLMHeadConfig
from archit.modeling.tasks.language_modeling.head import (
    HEAD_FACTORIES,
    CausalLMHead,
    HeadFactory,
    MaskedLMHead,
    RegisteredHeadFactory,
    build_lm_head,
    head_factory_key,
    lm_head_checkpoint_prefixes,
    register_head_factory,
)
from archit.modeling.ties import INPUT_EMBEDDINGS

__all__ = [
    "CausalLMHead",
    "CausalLMHeadConfig",
    "HEAD_FACTORIES",
    "HeadFactory",
    "HeadSpec",
    "INPUT_EMBEDDINGS",
    "MaskedLMHead",
    "MaskedLMHeadConfig",
    "RegisteredHeadFactory",
    "build_lm_head",
    "head_factory_key",
    "lm_head_checkpoint_prefixes",
    "register_head_factory",
]
