"""Shared pieces of the native-backbone tests: a corpus, and a Transformer and a stateful RNN in plain PyTorch
(the tiny recurrent configs are in tests/tiny_configs.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (PyTorch's convention)
from torch import nn

from tests.tiny_configs import VOCAB_SIZE

CORPUS = [
    "the cat sat on the mat and the dog sat on the log.",
    "a cat and a dog went to the park to play in the sun.",
    "the dog ran after the cat and the cat ran up a tree.",
    "in the park the sun was warm and the grass was green.",
    "the cat saw a bird in the tree and the bird flew away.",
    "the dog sat down on the grass and went to sleep in the sun.",
    "a bird sang in the tree while the cat sat on the mat.",
    "the sun went down and the cat and the dog went home to sleep.",
] * 4
"""A small, repetitive English text: enough for a tiny language model to learn something in a few steps."""


class Block(nn.Module):
    """Pre-norm self-attention and feed-forward block."""

    def __init__(self, d_model: int, num_heads: int, ff_size: int, causal: bool) -> None:
        super().__init__()
        self.num_heads, self.causal = num_heads, causal
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv, self.out = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff_size), nn.GELU(), nn.Linear(ff_size, d_model))

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, width = hidden.shape
        # [3, batch, heads, length, head_dim]
        qkv = self.qkv(self.norm1(hidden)).view(batch, length, 3, self.num_heads, width // self.num_heads)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)
        # [batch, 1, 1 or length, length]: which keys each query may attend to
        allowed = mask[:, None, None, :].bool()
        if self.causal:
            allowed = allowed & torch.ones(length, length, dtype=torch.bool, device=hidden.device).tril()
        attended = F.scaled_dot_product_attention(query, key, value, attn_mask=allowed)
        hidden = hidden + self.out(attended.transpose(1, 2).reshape(batch, length, width))
        return hidden + self.ff(self.norm2(hidden))


class TinyTransformer(nn.Module):
    """A Transformer in plain PyTorch: token and position embeddings, pre-norm blocks, final LayerNorm.

    Positions count real tokens only, so left padding does not shift them.
    """

    def __init__(
        self,
        vocab_size: int = VOCAB_SIZE,
        d_model: int = 32,
        num_layers: int = 2,
        num_heads: int = 4,
        ff_size: int = 37,
        max_len: int = 64,
        dropout: float = 0.1,
        causal: bool = False,
    ) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.positions = nn.Embedding(max_len, d_model)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, num_heads, ff_size, causal) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        hidden = self.dropout(self.tokens(input_ids) + self.positions(positions))
        for block in self.blocks:
            hidden = block(hidden, mask)
        return self.norm(hidden)


class TinyStatefulRNN(nn.Module):
    """A user GRU that carries its own state: ``forward(..., state=None) -> (hidden_states, state)``."""

    def __init__(self, vocab_size: int = VOCAB_SIZE, hidden_size: int = 20) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input_ids: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        # the adapter keeps states batch first; torch.nn.GRU wants [layers, batch, hidden]
        hidden, new_state = self.gru(self.embed(input_ids), None if state is None else state.transpose(0, 1))
        return hidden, new_state.transpose(0, 1)
