"""Token classification, sequence classification (single-label, multi-label, regression), multiple choice."""

from archit.modeling.tasks.classification.config import SequenceClassificationHeadConfig, TokenClassificationHeadConfig
from archit.modeling.tasks.classification.head import SequenceClassificationHead, TokenClassificationHead
from archit.modeling.tasks.classification.model import (
    ForMultiLabelSequenceClassification,
    ForSequenceRegression,
    ForSingleAnswerMultipleChoice,
    ForSingleLabelSequenceClassification,
    ForSingleLabelTokenClassification,
)
from archit.modeling.tasks.registration import register_task

__all__ = [
    "ForMultiLabelSequenceClassification",
    "ForSequenceRegression",
    "ForSingleAnswerMultipleChoice",
    "ForSingleLabelSequenceClassification",
    "ForSingleLabelTokenClassification",
    "SequenceClassificationHead",
    "SequenceClassificationHeadConfig",
    "TokenClassificationHead",
    "TokenClassificationHeadConfig",
]

register_task(ForSingleLabelTokenClassification)
register_task(ForSingleLabelSequenceClassification)
register_task(ForMultiLabelSequenceClassification)
register_task(ForSequenceRegression)
register_task(ForSingleAnswerMultipleChoice)
