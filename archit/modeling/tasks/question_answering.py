"""Extractive question answering, with and without an answerability classifier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers.modeling_outputs import QuestionAnsweringModelOutput
from transformers.utils import ModelOutput

from archit.modeling.heads.language_modeling import HeadSpec
from archit.modeling.heads.question_answering import (
    ExtractiveAQAHead,
    ExtractiveAQAHeadConfig,
    ExtractiveQAHead,
    ExtractiveQAHeadConfig,
)
from archit.modeling.tasks.base import ModelWithHead, check_labels
from archit.modeling.wrappers import ArchitWrapper

__all__ = [
    "ExtractiveAQAOutput",
    "ForExtractiveAQA",
    "ForExtractiveQA",
    "ForExtractiveQuestionAnswering",
    "ForExtractiveQuestionAnsweringWithAnswerability",
]


@dataclass
class ExtractiveAQAOutput(ModelOutput):
    """Output of :class:`ForExtractiveAQA`.

    Args:
        loss: span loss plus answerability loss, when positions and ``answerable`` are given.
        start_logits: ``(batch_size, seq_len)`` span-start scores.
        end_logits: ``(batch_size, seq_len)`` span-end scores.
        answerability_logits: ``(batch_size, 2)``; index 1 means the question has an answer.
        hidden_states: every layer's ``(batch_size, seq_len, hidden_size)``, on request.
    """

    loss: torch.FloatTensor | None = None
    start_logits: torch.FloatTensor | None = None
    end_logits: torch.FloatTensor | None = None
    answerability_logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def _span_loss(
    start_logits: torch.Tensor, end_logits: torch.Tensor, start_positions: torch.Tensor, end_positions: torch.Tensor
) -> torch.Tensor:
    """Mean of start and end cross-entropy; positions outside the sequence are clamped and ignored, as in HF."""
    batch_size, seq_len = start_logits.shape
    check_labels(start_positions, (batch_size,), floating=False, argument="start_positions")
    check_labels(end_positions, (batch_size,), floating=False, argument="end_positions")
    start_positions = start_positions.clamp(0, seq_len)
    end_positions = end_positions.clamp(0, seq_len)
    start_loss = nn.functional.cross_entropy(start_logits, start_positions, ignore_index=seq_len)
    end_loss = nn.functional.cross_entropy(end_logits, end_positions, ignore_index=seq_len)
    return (start_loss + end_loss) / 2


class ForExtractiveQuestionAnswering(ModelWithHead):
    """Answer spans in a context (ArchIt's ``ForExtractiveQA``). Labels: ``start_positions`` and
    ``end_positions``, ``[batch_size]``.

    "QuestionAnswering" in the class name is how transformers' ``Trainer`` knows the positions are labels.
    """

    task_name = "extractive_qa"
    head_config_class = ExtractiveQAHeadConfig
    hf_auto_class = "AutoModelForQuestionAnswering"

    def build_head(self, backbone: ArchitWrapper, head_config: ExtractiveQAHeadConfig) -> HeadSpec:
        return HeadSpec(ExtractiveQAHead(backbone, head_config))

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        start_positions: torch.LongTensor | None = None,
        end_positions: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        **kwargs: Any,
    ) -> QuestionAnsweringModelOutput:
        """Returns ``start_logits`` and ``end_logits`` ``[batch_size, seq_len]``; the span loss with positions."""
        encoded = self.backbone.encode(input_ids, attention_mask, token_type_ids, output_hidden_states, **kwargs)
        start_logits, end_logits = self.head(encoded, attention_mask)
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = _span_loss(start_logits, end_logits, start_positions, end_positions)
        return QuestionAnsweringModelOutput(
            loss=loss, start_logits=start_logits, end_logits=end_logits, hidden_states=encoded.hidden_states
        )


class ForExtractiveQuestionAnsweringWithAnswerability(ModelWithHead):
    """Extractive QA that also says whether the context answers the question at all (ArchIt's
    ``ForExtractiveAQA``).

    Labels: ``start_positions``, ``end_positions`` (0 for unanswerable questions, as in SQuAD 2.0) and
    ``answerable`` ``[batch_size]`` (1 answerable, 0 not).
    """

    task_name = "extractive_aqa"
    head_config_class = ExtractiveAQAHeadConfig

    def build_head(self, backbone: ArchitWrapper, head_config: ExtractiveAQAHeadConfig) -> HeadSpec:
        return HeadSpec(ExtractiveAQAHead(backbone, head_config))

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        start_positions: torch.LongTensor | None = None,
        end_positions: torch.LongTensor | None = None,
        answerable: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        **kwargs: Any,
    ) -> ExtractiveAQAOutput:
        """Returns span logits and ``answerability_logits`` ``[batch_size, 2]``; the summed loss with labels."""
        encoded = self.backbone.encode(input_ids, attention_mask, token_type_ids, output_hidden_states, **kwargs)
        start_logits, end_logits, answerability_logits = self.head(encoded, attention_mask)
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = _span_loss(start_logits, end_logits, start_positions, end_positions)
        if answerable is not None:
            check_labels(answerable, answerability_logits.shape[:1], floating=False, argument="answerable")
            answerability_loss = nn.functional.cross_entropy(answerability_logits, answerable)
            loss = answerability_loss if loss is None else loss + answerability_loss
        return ExtractiveAQAOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            answerability_logits=answerability_logits,
            hidden_states=encoded.hidden_states,
        )


ForExtractiveQA = ForExtractiveQuestionAnswering
ForExtractiveAQA = ForExtractiveQuestionAnsweringWithAnswerability
