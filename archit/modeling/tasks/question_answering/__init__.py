"""Extractive question answering, with and without an answerability classifier."""

from archit.modeling.tasks.question_answering.config import ExtractiveAQAHeadConfig, ExtractiveQAHeadConfig
from archit.modeling.tasks.question_answering.head import ExtractiveAQAHead, ExtractiveQAHead
from archit.modeling.tasks.question_answering.model import (
    ExtractiveAQAOutput,
    ForExtractiveAQA,
    ForExtractiveQA,
    ForExtractiveQuestionAnswering,
    ForExtractiveQuestionAnsweringWithAnswerability,
)
from archit.modeling.tasks.registration import register_task

__all__ = [
    "ExtractiveAQAHead",
    "ExtractiveAQAHeadConfig",
    "ExtractiveAQAOutput",
    "ExtractiveQAHead",
    "ExtractiveQAHeadConfig",
    "ForExtractiveAQA",
    "ForExtractiveQA",
    "ForExtractiveQuestionAnswering",
    "ForExtractiveQuestionAnsweringWithAnswerability",
]

register_task(ForExtractiveQA)
register_task(ForExtractiveAQA)
