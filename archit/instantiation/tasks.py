"""ArchIt's task names (``ForDependencyParsing``...), re-exported from archit.modeling.tasks."""

import archit.modeling.factory  # noqa: F401 (registers archit with transformers' Auto classes)
from archit.modeling.tasks import (  # noqa: F401
    ForCausalLM,
    ForDependencyParsing,
    ForExtractiveAQA,
    ForExtractiveQA,
    ForMaskedLM,
    ForMultiLabelSequenceClassification,
    ForSequenceRegression,
    ForSingleAnswerMultipleChoice,
    ForSingleLabelSequenceClassification,
    ForSingleLabelTokenClassification,
)
