"""Alias of :mod:`archit.modeling.tasks.dependency_parsing` (the parser's head config and head), kept for existing
imports."""

from archit.modeling.tasks.dependency_parsing.config import SUBWORD_POOLING, DependencyParsingHeadConfig
from archit.modeling.tasks.dependency_parsing.head import DependencyParsingHead, ScalarMix, pool_words

__all__ = ["DependencyParsingHead", "DependencyParsingHeadConfig", "SUBWORD_POOLING", "ScalarMix", "pool_words"]
