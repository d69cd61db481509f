"""The tasks: each a ``PreTrainedModel`` binding a head to a loss and label shapes."""

from archit.modeling.tasks.base import LoadingReport, ModelWithHead
from archit.modeling.tasks.classification import (
    ForMultiLabelSequenceClassification,
    ForSequenceRegression,
    ForSingleAnswerMultipleChoice,
    ForSingleLabelSequenceClassification,
    ForSingleLabelTokenClassification,
)
from archit.modeling.tasks.configuration import ArchitConfig
from archit.modeling.tasks.dependency_parsing import DependencyParsingOutput, ForDependencyParsing
from archit.modeling.tasks.language_modeling import ForCausalLM, ForMaskedLM
from archit.modeling.tasks.question_answering import (
    ExtractiveAQAOutput,
    ForExtractiveAQA,
    ForExtractiveQA,
    ForExtractiveQuestionAnswering,
    ForExtractiveQuestionAnsweringWithAnswerability,
)

__all__ = [
    "ArchitConfig",
    "DependencyParsingOutput",
    "ExtractiveAQAOutput",
    "ForCausalLM",
    "ForDependencyParsing",
    "ForExtractiveAQA",
    "ForExtractiveQA",
    "ForExtractiveQuestionAnswering",
    "ForExtractiveQuestionAnsweringWithAnswerability",
    "ForMaskedLM",
    "ForMultiLabelSequenceClassification",
    "ForSequenceRegression",
    "ForSingleAnswerMultipleChoice",
    "ForSingleLabelSequenceClassification",
    "ForSingleLabelTokenClassification",
    "LoadingReport",
    "ModelWithHead",
]
