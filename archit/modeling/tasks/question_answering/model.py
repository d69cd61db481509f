"""Extractive question answering, with and without an answerability classifier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers.modeling_outputs import QuestionAnsweringModelOutput
from transformers.utils import ModelOutput

from archit.modeling.heads.base import HeadConfig, HeadSpec, checked_head_config
from archit.modeling.tasks.base import ModelWithHead
from archit.modeling.tasks.losses import ItemCount, check_labels, mean_over_items
from archit.modeling.tasks.question_answering.config import ExtractiveAQAHeadConfig, ExtractiveQAHeadConfig
from archit.modeling.tasks.question_answering.head import ExtractiveAQAHead, ExtractiveQAHead
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


def _span_losses(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    start_positions: torch.Tensor | None,
    end_positions: torch.Tensor | None,
    attention_mask: torch.Tensor | None,
) -> torch.Tensor | None:
    """``[batch_size]``: the mean of start and end cross-entropy of each example, in float32, over the positions
    of real tokens (padding is no candidate, so the loss does not depend on how much a batch pads). A position
    outside the sequence (clamped, as in transformers) or on padding contributes nothing. ``None`` unless both
    positions are given.

    Raises:
        DataError: a position tensor has the wrong shape or dtype.
    """
    if start_positions is None or end_positions is None:
        return None
    batch_size, seq_len = start_logits.shape
    check_labels(start_positions, (batch_size,), floating=False, argument="start_positions")
    check_labels(end_positions, (batch_size,), floating=False, argument="end_positions")
    padding = None if attention_mask is None else attention_mask.eq(0)
    losses = []
    for logits, positions in ((start_logits, start_positions), (end_logits, end_positions)):
        logits, positions = logits.float(), positions.clamp(0, seq_len)
        if padding is not None:
            # [batch_size]: whether the gold position is a padding token
            on_padding = padding.gather(1, positions.clamp(max=seq_len - 1).unsqueeze(1)).squeeze(1)
            positions = positions.masked_fill(on_padding, seq_len)
            logits = logits.masked_fill(padding, torch.finfo(logits.dtype).min)
        losses.append(nn.functional.cross_entropy(logits, positions, ignore_index=seq_len, reduction="none"))
    return (losses[0] + losses[1]) / 2


def _mean_loss(losses: torch.Tensor | None, num_items_in_batch: ItemCount) -> torch.Tensor | None:
    """The mean of the examples' ``losses`` (divided by ``num_items_in_batch`` when given); ``None`` without."""
    return None if losses is None else mean_over_items(losses.sum(), losses.numel(), num_items_in_batch)


def _count_examples(batch: Mapping[str, Any], *keys: str) -> torch.Tensor | None:
    """The examples of a batch (the items of the QA losses): the length of the first of ``keys`` it holds."""
    labels = next((batch[key] for key in keys if batch.get(key) is not None), None)
    return None if labels is None else torch.tensor(labels.shape[0], device=labels.device)


class ForExtractiveQuestionAnswering(ModelWithHead):
    """Answer spans in a context (ArchIt's ``ForExtractiveQA``). Labels: ``start_positions`` and
    ``end_positions``, ``[batch_size]``. The loss is the mean over examples of their start and end cross-entropy.

    "QuestionAnswering" in the class name is how transformers' ``Trainer`` knows the positions are labels.
    """

    task_name = "extractive_qa"
    head_config_class = ExtractiveQAHeadConfig
    hf_auto_class = "AutoModelForQuestionAnswering"
    hf_auto_default = True

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        config = checked_head_config(type(self).__name__, head_config, ExtractiveQAHeadConfig)
        return HeadSpec(ExtractiveQAHead(backbone, config))

    def forward(  # type: ignore[override]  # other inputs than the shared forward of label-only tasks
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        start_positions: torch.LongTensor | None = None,
        end_positions: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        num_items_in_batch: ItemCount = None,
        **kwargs: Any,
    ) -> QuestionAnsweringModelOutput:
        """Returns ``start_logits`` and ``end_logits`` ``[batch_size, seq_len]``; the span loss with positions
        (divided by ``num_items_in_batch`` when given, see :mod:`~archit.modeling.tasks.losses`)."""
        encoded, (start_logits, end_logits) = self.encode_and_score(
            input_ids, attention_mask, token_type_ids, output_hidden_states, **kwargs
        )
        losses = _span_losses(start_logits, end_logits, start_positions, end_positions, attention_mask)
        return QuestionAnsweringModelOutput(
            loss=_mean_loss(losses, num_items_in_batch),
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=encoded.hidden_states,
        )

    def count_loss_items(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """The examples (the span loss is a mean over examples)."""
        return _count_examples(batch, "start_positions")


class ForExtractiveQuestionAnsweringWithAnswerability(ModelWithHead):
    """Extractive QA that also says whether the context answers the question at all (ArchIt's
    ``ForExtractiveAQA``).

    Labels: ``start_positions``, ``end_positions`` (0 for unanswerable questions, as in SQuAD 2.0) and
    ``answerable`` ``[batch_size]`` (1 answerable, 0 not). The loss is the mean over examples of their span
    loss plus their answerability cross-entropy.
    """

    task_name = "extractive_aqa"
    head_config_class = ExtractiveAQAHeadConfig
    hf_auto_class = "AutoModelForQuestionAnswering"
    reuses_hf_heads = False  # no XForY class has an answerability layer

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        config = checked_head_config(type(self).__name__, head_config, ExtractiveAQAHeadConfig)
        return HeadSpec(ExtractiveAQAHead(backbone, config))

    def forward(  # type: ignore[override]  # other inputs than the shared forward of label-only tasks
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        start_positions: torch.LongTensor | None = None,
        end_positions: torch.LongTensor | None = None,
        answerable: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        num_items_in_batch: ItemCount = None,
        **kwargs: Any,
    ) -> ExtractiveAQAOutput:
        """Returns span logits and ``answerability_logits`` ``[batch_size, 2]``; the summed loss with labels
        (divided by ``num_items_in_batch`` when given, see :mod:`~archit.modeling.tasks.losses`)."""
        encoded, (start_logits, end_logits, answerability_logits) = self.encode_and_score(
            input_ids, attention_mask, token_type_ids, output_hidden_states, **kwargs
        )
        # [batch_size]: each example's loss
        losses = _span_losses(start_logits, end_logits, start_positions, end_positions, attention_mask)
        if answerable is not None:
            check_labels(answerable, answerability_logits.shape[:1], floating=False, argument="answerable")
            answerability = nn.functional.cross_entropy(answerability_logits.float(), answerable, reduction="none")
            losses = answerability if losses is None else losses + answerability
        return ExtractiveAQAOutput(
            loss=_mean_loss(losses, num_items_in_batch),
            start_logits=start_logits,
            end_logits=end_logits,
            answerability_logits=answerability_logits,
            hidden_states=encoded.hidden_states,
        )

    def count_loss_items(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """The examples (the loss is a mean over examples)."""
        return _count_examples(batch, "start_positions", "answerable")


ForExtractiveQA = ForExtractiveQuestionAnswering
ForExtractiveAQA = ForExtractiveQuestionAnsweringWithAnswerability
