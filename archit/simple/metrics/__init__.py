"""Metrics of every task the runscripts train: classification, regression, entity tagging, SQuAD, language
modelling and dependency parsing."""

from archit.simple.metrics.classification import (
    LabelCounts,
    accuracy,
    correlations,
    f1_per_label,
    macro_f1,
    multi_label_scores,
)
from archit.simple.metrics.language_modeling import perplexity
from archit.simple.metrics.parsing import (
    AttachmentCounts,
    AttachmentMetric,
    AttachmentScores,
    attachment_scores,
    universal_deprel,
)
from archit.simple.metrics.squad import exact_match, normalize_answer, squad_scores, token_f1
from archit.simple.metrics.tagging import EntityCounts, entities, entity_scores, entity_scores_by_type, is_bio_label_set

__all__ = [
    "AttachmentCounts",
    "AttachmentMetric",
    "AttachmentScores",
    "EntityCounts",
    "LabelCounts",
    "attachment_scores",
    "universal_deprel",
    "accuracy",
    "correlations",
    "entities",
    "entity_scores",
    "entity_scores_by_type",
    "exact_match",
    "f1_per_label",
    "is_bio_label_set",
    "macro_f1",
    "multi_label_scores",
    "normalize_answer",
    "perplexity",
    "squad_scores",
    "token_f1",
]
