"""Heads map hidden states to logits; their configs are attrs classes serialised into the model config."""

from archit.modeling.heads.base import HeadConfig, HeadSpec, head_config_from_dict, register_head_config
from archit.modeling.heads.classification import (
    SequenceClassificationHead,
    SequenceClassificationHeadConfig,
    TokenClassificationHead,
    TokenClassificationHeadConfig,
)
from archit.modeling.heads.dependency_parsing import DependencyParsingHead, DependencyParsingHeadConfig
from archit.modeling.heads.language_modeling import (
    CausalLMHead,
    CausalLMHeadConfig,
    MaskedLMHead,
    MaskedLMHeadConfig,
    register_head_factory,
)
from archit.modeling.heads.question_answering import (
    ExtractiveAQAHead,
    ExtractiveAQAHeadConfig,
    ExtractiveQAHead,
    ExtractiveQAHeadConfig,
)

__all__ = [
    "CausalLMHead",
    "CausalLMHeadConfig",
    "DependencyParsingHead",
    "DependencyParsingHeadConfig",
    "ExtractiveAQAHead",
    "ExtractiveAQAHeadConfig",
    "ExtractiveQAHead",
    "ExtractiveQAHeadConfig",
    "HeadConfig",
    "HeadSpec",
    "MaskedLMHead",
    "MaskedLMHeadConfig",
    "SequenceClassificationHead",
    "SequenceClassificationHeadConfig",
    "TokenClassificationHead",
    "TokenClassificationHeadConfig",
    "head_config_from_dict",
    "register_head_config",
    "register_head_factory",
]
