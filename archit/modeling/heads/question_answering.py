"""Alias of :mod:`archit.modeling.tasks.question_answering` (the head configs and heads of extractive QA),
kept for existing imports."""

from archit.modeling.tasks.question_answering.config import ExtractiveAQAHeadConfig, ExtractiveQAHeadConfig
from archit.modeling.tasks.question_answering.head import ExtractiveAQAHead, ExtractiveQAHead

__all__ = ["ExtractiveAQAHead", "ExtractiveAQAHeadConfig", "ExtractiveQAHead", "ExtractiveQAHeadConfig"]
