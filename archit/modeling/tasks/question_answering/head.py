"""Extractive question answering heads: span start/end logits, optionally with an answerability classifier."""

from __future__ import annotations

import torch
from torch import nn

from archit.modeling.heads.base import (
    pool,
    resolve_pooling,
)
from archit.modeling.tasks.question_answering.config import ExtractiveAQAHeadConfig, ExtractiveQAHeadConfig
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput

__all__ = ["ExtractiveAQAHead", "ExtractiveQAHead"]


class ExtractiveQAHead(nn.Module):
    """``[batch_size, seq_len, hidden_size]`` → start and end logits, each ``[batch_size, seq_len]``."""

    def __init__(self, backbone: ArchitWrapper, config: ExtractiveQAHeadConfig) -> None:
        super().__init__()
        dropout = backbone.hidden_dropout_prob if config.dropout is None else config.dropout
        self.dropout = nn.Dropout(dropout)
        self.qa_outputs = nn.Linear(backbone.hidden_size, 2)

    def forward(self, encoded: BackboneOutput, attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """``(start_logits, end_logits)``; subclasses add their logits after these."""
        # [batch_size, seq_len, 2] → two [batch_size, seq_len]
        start_logits, end_logits = self.qa_outputs(self.dropout(encoded.last_hidden_state)).unbind(dim=-1)
        return start_logits.contiguous(), end_logits.contiguous()


class ExtractiveAQAHead(ExtractiveQAHead):
    """Adds ``answerability_logits`` ``[batch_size, 2]`` (index 1: the question has an answer)."""

    def __init__(self, backbone: ArchitWrapper, config: ExtractiveAQAHeadConfig) -> None:
        super().__init__(backbone, config)
        self.pooling = resolve_pooling(backbone, config.pooling)
        self.answerability = nn.Linear(backbone.hidden_size, 2)

    def forward(
        self, encoded: BackboneOutput, attention_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        start_logits, end_logits = super().forward(encoded, attention_mask)
        pooled = pool(encoded.last_hidden_state, attention_mask, self.pooling, encoded.pooler_output)
        return start_logits, end_logits, self.answerability(self.dropout(pooled))
