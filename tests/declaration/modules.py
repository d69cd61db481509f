"""User-style modules for the declaration tests: importable, with constructor arguments."""

from __future__ import annotations

import torch
from torch import nn


class CoolNewEmbeddingMatrix(nn.Module):
    """An embedding matrix that scales its output; keeps its arguments as attributes (introspectable)."""

    def __init__(self, vocab_size: int, hidden_size: int, scale: float = 1.0) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.scale = scale
        self.weight = nn.Parameter(torch.randn(vocab_size, hidden_size) * 0.02)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return nn.functional.embedding(input_ids, self.weight) * self.scale
