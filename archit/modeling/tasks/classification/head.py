"""Token and sequence classification heads (sequence classification also serves regression, multi-label
classification and multiple choice)."""

from __future__ import annotations

import torch
from torch import nn

from archit.modeling.heads.base import (
    HeadConfig,
    pool,
    resolve_pooling,
)
from archit.modeling.tasks.classification.config import SequenceClassificationHeadConfig, TokenClassificationHeadConfig
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput

__all__ = [
    "SequenceClassificationHead",
    "TokenClassificationHead",
]


def _dropout(config: HeadConfig, backbone: ArchitWrapper) -> float:
    return backbone.hidden_dropout_prob if config.dropout is None else config.dropout


class TokenClassificationHead(nn.Module):
    """``[batch_size, seq_len, hidden_size]`` → ``[batch_size, seq_len, num_labels]``."""

    def __init__(self, backbone: ArchitWrapper, config: TokenClassificationHeadConfig) -> None:
        super().__init__()
        self.dropout = nn.Dropout(_dropout(config, backbone))
        self.classifier = nn.Linear(backbone.hidden_size, config.num_labels)

    def forward(self, encoded: BackboneOutput, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.classifier(self.dropout(encoded.last_hidden_state))


class SequenceClassificationHead(nn.Module):
    """``[batch_size, seq_len, hidden_size]`` → ``[batch_size, num_labels]``."""

    def __init__(self, backbone: ArchitWrapper, config: SequenceClassificationHeadConfig) -> None:
        super().__init__()
        self.pooling = resolve_pooling(backbone, config.pooling)
        hidden_size = backbone.hidden_size
        self.dropout = nn.Dropout(_dropout(config, backbone))
        self.dense = None if self.pooling == "pooler" else nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, config.num_labels)

    def forward(self, encoded: BackboneOutput, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        pooled = pool(encoded.last_hidden_state, attention_mask, self.pooling, encoded.pooler_output)
        if self.dense is not None:
            pooled = torch.tanh(self.dense(self.dropout(pooled)))
        return self.out_proj(self.dropout(pooled))
