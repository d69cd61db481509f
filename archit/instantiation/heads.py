"""ArchIt's head-config names, re-exported from archit.modeling.heads."""

from archit.modeling.heads import (  # noqa: F401
    CausalLMHeadConfig,
    DependencyParsingHeadConfig,
    ExtractiveAQAHeadConfig,
    ExtractiveQAHeadConfig,
    HeadConfig,
    MaskedLMHeadConfig,
    SequenceClassificationHeadConfig,
    TokenClassificationHeadConfig,
)
