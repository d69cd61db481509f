"""Alias of :mod:`archit.modeling.tasks.classification` (the head configs and heads of classification),
kept for existing imports."""

from archit.modeling.tasks.classification.config import SequenceClassificationHeadConfig, TokenClassificationHeadConfig
from archit.modeling.tasks.classification.head import SequenceClassificationHead, TokenClassificationHead

__all__ = [
    "SequenceClassificationHead",
    "SequenceClassificationHeadConfig",
    "TokenClassificationHead",
    "TokenClassificationHeadConfig",
]
