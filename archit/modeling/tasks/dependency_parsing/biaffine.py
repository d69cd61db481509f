"""Biaffine scoring for graph-based dependency parsing (Dozat & Manning, 2017), after SuPar's ``affine.py``.

A parser projects each word's hidden state twice with an :class:`MLP` (once as a dependent, once as a head) and
scores every dependent-head pair with a :class:`Biaffine` layer: ``n_out=1`` for arcs, ``n_out=n_rels`` for labels.
"""

from __future__ import annotations

import torch
from torch import nn

from archit.errors import HeadConfigError


class SharedDropout(nn.Module):
    """Dropout whose mask is shared along the sequence axis, so a feature is dropped for every word at once.

    Args:
        p: the probability of an element to be zeroed.
        batch_first: whether inputs are ``[batch_size, seq_len, *]`` (else ``[seq_len, batch_size, *]``).

    Raises:
        HeadConfigError: ``p`` is not in [0, 1).
    """

    def __init__(self, p: float = 0.5, batch_first: bool = True) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise HeadConfigError(f"The dropout probability must lie in [0, 1), found {p}.")
        self.p = p
        self.batch_first = batch_first

    def __repr__(self) -> str:
        s = f"p={self.p}"
        if not self.batch_first:
            s += f", batch_first={self.batch_first}"
        return f"{self.__class__.__name__}({s})"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Drop features, with one mask per sequence.

        Args:
            x: ``[batch_size, seq_len, *]`` (or ``[seq_len, batch_size, *]`` if not ``batch_first``).

        Returns:
            A tensor of the same shape as ``x``.
        """
        if not self.training or self.p == 0.0:
            return x
        seq_dim = 1 if self.batch_first else 0
        # [batch_size, 1, *]: one mask per sequence, broadcast over seq_len
        mask = x.new_empty(x.select(seq_dim, 0).shape).bernoulli_(1 - self.p) / (1 - self.p)
        return x * mask.unsqueeze(seq_dim)


class MLP(nn.Module):
    """A linear layer followed by LeakyReLU(0.1) and :class:`SharedDropout`, as in SuPar.

    Args:
        n_in: the size of each input feature.
        n_out: the size of each output feature.
        dropout: the dropout ratio on the output.
        activation: whether to apply the LeakyReLU.
    """

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0, activation: bool = True) -> None:
        super().__init__()
        self.n_in = n_in
        self.n_out = n_out
        self.linear = nn.Linear(n_in, n_out)
        self.activation = nn.LeakyReLU(negative_slope=0.1) if activation else nn.Identity()
        self.dropout = SharedDropout(p=dropout)
        self.reset_parameters()

    def __repr__(self) -> str:
        s = f"n_in={self.n_in}, n_out={self.n_out}"
        if self.dropout.p > 0:
            s += f", dropout={self.dropout.p}"
        if isinstance(self.activation, nn.Identity):
            s += ", activation=False"
        return f"{self.__class__.__name__}({s})"

    def reset_parameters(self) -> None:
        """Orthogonal weight, zero bias."""
        nn.init.orthogonal_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project the last dimension.

        Args:
            x: ``[batch_size, seq_len, n_in]``.

        Returns:
            ``[batch_size, seq_len, n_out]``.
        """
        return self.dropout(self.activation(self.linear(x)))


class Biaffine(nn.Module):
    """Biaffine layer: the score of the pair ``(x_i, y_j)`` is ``[x_i; 1]^T W [y_j; 1] / n_in ** scale``.

    With ``x`` the dependent representations and ``y`` the head representations, ``s[b, i, j]`` is the score
    of head ``j`` for dependent ``i``, the layout the decoders in :mod:`archit.modeling.parsing.decoding` read.

    Args:
        n_in: the size of the input features.
        n_out: the number of output channels (1 for arcs, ``n_rels`` for labels).
        bias_x: whether to append a constant 1 to ``x``.
        bias_y: whether to append a constant 1 to ``y``.
        scale: the scores are divided by ``n_in ** scale``.
    """

    def __init__(self, n_in: int, n_out: int = 1, bias_x: bool = True, bias_y: bool = True, scale: float = 0.0) -> None:
        super().__init__()
        self.n_in = n_in
        self.n_out = n_out
        self.bias_x = bias_x
        self.bias_y = bias_y
        self.scale = scale
        self.weight = nn.Parameter(torch.empty(n_out, n_in + bias_x, n_in + bias_y))
        self.reset_parameters()

    def __repr__(self) -> str:
        s = f"n_in={self.n_in}"
        if self.n_out != 1:
            s += f", n_out={self.n_out}"
        if not self.bias_x:
            s += f", bias_x={self.bias_x}"
        if not self.bias_y:
            s += f", bias_y={self.bias_y}"
        if self.scale != 0:
            s += f", scale={self.scale}"
        return f"{self.__class__.__name__}({s})"

    def reset_parameters(self) -> None:
        """Zero weights (Dozat & Manning's choice): every pair starts with the same score."""
        nn.init.zeros_(self.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Score every pair of positions.

        Args:
            x: ``[batch_size, seq_len, n_in]``, e.g. dependent representations.
            y: ``[batch_size, seq_len, n_in]``, e.g. head representations.

        Returns:
            ``[batch_size, n_out, seq_len, seq_len]``, squeezed to ``[batch_size, seq_len, seq_len]`` if
            ``n_out == 1``.
        """
        if self.bias_x:
            x = torch.cat((x, torch.ones_like(x[..., :1])), -1)
        if self.bias_y:
            y = torch.cat((y, torch.ones_like(y[..., :1])), -1)
        # [batch_size, n_out, seq_len, seq_len]: score of the pair (x_i, y_j) in channel o
        s = torch.einsum("bxi,oij,byj->boxy", x, self.weight, y)
        if self.scale != 0:
            s = s / self.n_in**self.scale
        return s.squeeze(1) if self.n_out == 1 else s
