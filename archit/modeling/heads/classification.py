"""Token and sequence classification heads (sequence classification also serves regression, multi-label
classification and multiple choice)."""

from __future__ import annotations

import attrs
import torch
from torch import nn

from archit.modeling.heads.base import (
    POOLING_METHODS,
    HeadConfig,
    one_of,
    pool,
    positive_int,
    register_head_config,
    resolve_pooling,
)
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput

__all__ = [
    "SequenceClassificationHead",
    "SequenceClassificationHeadConfig",
    "TokenClassificationHead",
    "TokenClassificationHeadConfig",
]


def _dropout(config: HeadConfig, backbone: ArchitWrapper) -> float:
    return backbone.hidden_dropout_prob if config.dropout is None else config.dropout


@register_head_config
@attrs.define(kw_only=True)
class TokenClassificationHeadConfig(HeadConfig):
    """A linear layer over each token's hidden state.

    Args:
        num_labels: number of classes (>= 1).
    """

    num_labels: int = attrs.field(default=2, validator=positive_int, metadata={"help": "number of token classes"})


@register_head_config
@attrs.define(kw_only=True)
class SequenceClassificationHeadConfig(HeadConfig):
    """Pool the sequence to one vector, then dense + tanh + linear (RoBERTa's classification head).

    Args:
        num_labels: number of classes, or of regression targets (>= 1).
        pooling: ``auto`` (``last`` on causal backbones, else ``first``), ``first``, ``last``, ``mean``, or
            ``pooler`` (the backbone's own pooler, where it has one; then no extra dense layer).
    """

    num_labels: int = attrs.field(default=2, validator=positive_int, metadata={"help": "number of classes"})
    pooling: str = attrs.field(
        default="auto", validator=one_of(POOLING_METHODS), metadata={"help": "how the sequence is pooled"}
    )


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
