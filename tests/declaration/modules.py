"""User-style modules for the declaration tests: importable, with constructor arguments."""

from __future__ import annotations

import torch
from torch import nn


class CoolNewEmbeddingMatrix(nn.Module):
    """An embedding matrix that scales its output; keeps its arguments as attributes, so it is introspectable."""

    def __init__(self, vocab_size: int, hidden_size: int, scale: float = 1.0) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.scale = scale
        self.weight = nn.Parameter(torch.randn(vocab_size, hidden_size) * 0.02)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return nn.functional.embedding(input_ids, self.weight) * self.scale


class ScaledLinear(nn.Module):
    """A linear map with a fixed output factor; keeps no argument under its own name (needs recording)."""

    def __init__(self, n_in: int, n_out: int, factor: float = 1.0, bias: bool = True) -> None:
        super().__init__()
        self.inner = nn.Linear(n_in, n_out, bias=bias)
        self.register_buffer("factor_", torch.tensor(float(factor)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.factor_


class Residual(nn.Module):
    """Adds a wrapped module's output to its input; takes a module as constructor argument."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TinyNet(nn.Module):
    """A plain torch model (no config) with every container kind."""

    def __init__(self, dim: int = 8, depth: int = 3) -> None:
        super().__init__()
        self.dim = dim
        self.depth = depth
        self.embed = nn.Embedding(11, dim)
        self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(dim, dim), nn.GELU()) for _ in range(depth)])
        self.heads = nn.ModuleDict({"tag": nn.Linear(dim, 5), "score": nn.Linear(dim, 1)})
        self.norm = nn.LayerNorm(dim)

    def forward(self, input_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.embed(input_ids)
        for block in self.blocks:
            hidden = block(hidden)
        hidden = self.norm(hidden)
        return {name: head(hidden) for name, head in self.heads.items()}


class StandInWrapper:
    """Built like archit's ``ArchitWrapper``: a mixin that a class swap places before the HF class."""

    def encode(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self(input_ids).last_hidden_state

    @classmethod
    def wrap(cls, model: nn.Module) -> nn.Module:
        """Swap ``model``'s class in place, as the contract says: ``type(name, (Wrapper, HFClass), {...})``."""
        original = type(model)
        namespace = {"__module__": __name__, "_archit_unwrapped_class": original, "_archit_wrapper_class": cls}
        model.__class__ = type(original.__name__, (cls, original), namespace)
        return model
