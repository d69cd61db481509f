"""Masked and causal language modelling, and the family head factories that reuse pretrained LM heads."""

from archit.modeling.tasks.language_modeling.config import CausalLMHeadConfig, MaskedLMHeadConfig
from archit.modeling.tasks.language_modeling.head import (
    HEAD_FACTORIES,
    CausalLMHead,
    MaskedLMHead,
    RegisteredHeadFactory,
    build_lm_head,
    lm_head_checkpoint_prefixes,
    register_head_factory,
)
from archit.modeling.tasks.language_modeling.model import ForCausalLM, ForMaskedLM
from archit.modeling.tasks.registration import register_task

__all__ = [
    "CausalLMHead",
    "CausalLMHeadConfig",
    "ForCausalLM",
    "ForMaskedLM",
    "HEAD_FACTORIES",
    "MaskedLMHead",
    "MaskedLMHeadConfig",
    "RegisteredHeadFactory",
    "build_lm_head",
    "lm_head_checkpoint_prefixes",
    "register_head_factory",
]

register_task(ForMaskedLM)
register_task(ForCausalLM)
