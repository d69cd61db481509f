"""The biaffine dependency-parsing head (Dozat & Manning, 2017) over words pooled from subwords."""

from __future__ import annotations

import torch
from torch import nn

from archit.errors import ModelInputError
from archit.modeling.tasks.dependency_parsing.biaffine import MLP, Biaffine
from archit.modeling.tasks.dependency_parsing.config import DependencyParsingHeadConfig
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput

__all__ = ["DependencyParsingHead", "RootVector", "ScalarMix", "pool_words"]


class RootVector(nn.Module):
    """The learned representation of the ROOT word, ``weight`` ``[hidden_size]``. A module of its own, not a bare
    parameter of the head, so that PEFT can train and save it (``modules_to_save`` names modules)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(hidden_size))

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, batch_size: int) -> torch.Tensor:
        # [batch_size, 1, hidden_size]
        return self.weight.expand(batch_size, 1, -1)


class ScalarMix(nn.Module):
    """Softmax-weighted sum of N layers, times a learned scale (Peters et al., 2018)."""

    def __init__(self, n_layers: int) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(n_layers))
        self.gamma = nn.Parameter(torch.ones(()))

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weights)
        nn.init.ones_(self.gamma)

    def forward(self, layers: tuple[torch.Tensor, ...]) -> torch.Tensor:
        # [n_layers, batch_size, seq_len, hidden_size] → [batch_size, seq_len, hidden_size]
        stacked = torch.stack(layers)
        # a backbone with fewer hidden states than weights mixes all it has
        weights = self.weights[-len(layers) :].softmax(-1)
        return self.gamma * torch.einsum("l,lbsh->bsh", weights, stacked)


def pool_words(hidden_states: torch.Tensor, word_ids: torch.Tensor, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Pool subword vectors into word vectors.

    Args:
        hidden_states: ``[batch_size, seq_len, hidden_size]``.
        word_ids: ``[batch_size, seq_len]``, the 0-based word of each token, -1 for special tokens and padding.
        method: ``first``, ``last`` or ``mean``.

    Returns:
        Word vectors ``[batch_size, n_words, hidden_size]`` and their mask ``[batch_size, n_words]``.
    """
    batch_size, seq_len, hidden_size = hidden_states.shape
    n_words = max(int(word_ids.max()) + 1, 1)
    valid = word_ids.ge(0)
    # Tokens outside any word go to an extra slot n_words, dropped at the end.
    index = torch.where(valid, word_ids, n_words)
    counts = torch.zeros(batch_size, n_words + 1, device=word_ids.device).scatter_add_(1, index, valid.float())
    if method == "mean":
        sums = torch.zeros(batch_size, n_words + 1, hidden_size, dtype=hidden_states.dtype, device=hidden_states.device)
        sums.scatter_add_(1, index.unsqueeze(-1).expand(-1, -1, hidden_size), hidden_states)
        words = sums / counts.clamp(min=1).unsqueeze(-1).to(hidden_states.dtype)
    else:
        positions = torch.arange(seq_len, device=word_ids.device).expand(batch_size, -1)
        reduce, fill = ("amin", seq_len) if method == "first" else ("amax", -1)
        # [batch_size, n_words + 1]: the first (last) token position of each word
        chosen = torch.full((batch_size, n_words + 1), fill, device=word_ids.device, dtype=torch.long)
        chosen = chosen.scatter_reduce(1, index, positions, reduce=reduce, include_self=True).clamp(0, seq_len - 1)
        words = hidden_states.gather(1, chosen.unsqueeze(-1).expand(-1, -1, hidden_size))
    return words[:, :n_words], counts[:, :n_words].gt(0)


class DependencyParsingHead(nn.Module):
    """Words (with ROOT prepended) → arc scores ``[batch_size, n_words + 1, n_words + 1]`` and label scores
    ``[batch_size, n_words + 1, n_words + 1, num_labels]``; position 0 is ROOT."""

    def __init__(self, backbone: ArchitWrapper, config: DependencyParsingHeadConfig) -> None:
        super().__init__()
        hidden_size = backbone.hidden_size
        dropout = backbone.hidden_dropout_prob if config.dropout is None else config.dropout
        word_dropout = backbone.hidden_dropout_prob if config.word_dropout is None else config.word_dropout
        self.subword_pooling = config.subword_pooling
        self.decoder = config.decoder
        self.scalar_mix = ScalarMix(config.scalar_mix_layers) if config.scalar_mix_layers > 1 else None
        self.root = RootVector(hidden_size)
        self.dropout = nn.Dropout(word_dropout)
        self.arc_dep = MLP(hidden_size, config.arc_mlp_size, dropout)
        self.arc_head = MLP(hidden_size, config.arc_mlp_size, dropout)
        self.rel_dep = MLP(hidden_size, config.label_mlp_size, dropout)
        self.rel_head = MLP(hidden_size, config.label_mlp_size, dropout)
        self.arc_attention = Biaffine(config.arc_mlp_size, bias_x=True, bias_y=False)
        self.rel_attention = Biaffine(config.label_mlp_size, config.num_labels, bias_x=True, bias_y=True)

    @property
    def n_layers(self) -> int:
        """How many of the backbone's last layers the head reads."""
        return 1 if self.scalar_mix is None else self.scalar_mix.weights.numel()

    def _last_layers(
        self, hidden_states: tuple[torch.Tensor, ...], last_hidden_state: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """The backbone's last :attr:`n_layers` hidden states, back to the first of another shape than the last
        hidden state (CANINE's downsampled layers, the narrower embeddings of a native LSTM); the last hidden state
        alone when no hidden state has its shape (Gemma 3n stacks its AltUp streams in them)."""
        layers = hidden_states[-self.n_layers :]
        alike = 0
        while alike < len(layers) and layers[-alike - 1].shape == last_hidden_state.shape:
            alike += 1
        return layers[len(layers) - alike :] if alike else (last_hidden_state,)

    def forward(
        self, encoded: BackboneOutput, word_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Score every arc and label; returns ``(s_arc, s_rel, mask)`` with ``mask`` true at real words."""
        hidden = encoded.last_hidden_state
        if self.scalar_mix is not None:
            if encoded.hidden_states is None:
                raise ModelInputError(
                    "The parser's head mixes the backbone's last layers: encode with output_hidden_states=True."
                )
            hidden = self.scalar_mix(self._last_layers(encoded.hidden_states, hidden))
        words, word_mask = pool_words(hidden, word_ids, self.subword_pooling)
        batch_size = words.shape[0]
        # [batch_size, n_words + 1, hidden_size]: ROOT first
        words = self.dropout(torch.cat((self.root(batch_size), words), dim=1))
        mask = torch.cat((word_mask.new_zeros(batch_size, 1), word_mask), dim=1)
        # [batch_size, n_words + 1, n_words + 1]: score of head j for dependent i
        s_arc = self.arc_attention(self.arc_dep(words), self.arc_head(words))
        # [batch_size, n_words + 1, n_words + 1, num_labels]
        s_rel = self.rel_attention(self.rel_dep(words), self.rel_head(words))
        s_rel = s_rel.unsqueeze(1) if s_rel.dim() == 3 else s_rel
        return s_arc, s_rel.permute(0, 2, 3, 1), mask
