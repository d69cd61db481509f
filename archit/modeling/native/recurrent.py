"""Pure PyTorch RNN, LSTM and GRU backbones that are real transformers ``PreTrainedModel``\\ s.

Each backbone is embeddings, dropout, ``num_hidden_layers`` single-layer :mod:`torch.nn` recurrent modules with
dropout between them, and, when embeddings are tied and the layers are wider than the embeddings, a projection
back to ``embedding_size``. Padding is handled exactly: the real tokens of each row are packed (wherever the
padding is, left or right) so that neither the outputs nor the final state depend on it. A unidirectional
backbone returns its state as a :class:`~archit.modeling.native.cache.RecurrentCache`, so ``generate()`` feeds
it one new token per step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from transformers import PreTrainedModel

from archit.errors import ModelInputError, RecurrentStateError
from archit.modeling.native.cache import CachedBackboneMixin, RecurrentCache, as_recurrent_cache
from archit.modeling.native.configuration import GRUConfig, LSTMConfig, RecurrentConfig, RNNConfig
from archit.modeling.wrappers import ArchitWrapper, family_fact

__all__ = [
    "GRUModel",
    "LSTMModel",
    "RNNModel",
    "RecurrentModel",
    "RecurrentPreTrainedModel",
    "RecurrentWrapper",
]

_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
State = tuple[torch.Tensor, ...]


@dataclass
class _Padding:
    """Where each row's real tokens are, to pack them and to put the outputs back.

    Args:
        lengths: ``(batch_size,)`` number of real tokens per row, on the CPU, at least 1.
        order: ``(batch_size, seq_len)`` positions with the real tokens first (in order), or ``None`` when every
            row already starts with its real tokens (right padding).
        empty: ``(batch_size,)`` rows without any real token, whose state must not change; ``None`` if none.
    """

    lengths: torch.Tensor
    order: torch.Tensor | None
    empty: torch.Tensor | None

    @classmethod
    def from_mask(cls, attention_mask: torch.Tensor | None, seq_len: int) -> _Padding | None:
        """The padding of the last ``seq_len`` positions of ``attention_mask``; ``None`` when there is none."""
        if attention_mask is None:
            return None
        # [batch_size, seq_len]: the mask of the tokens of this forward pass (generate passes the whole history)
        mask = attention_mask[:, -seq_len:].bool()
        if bool(mask.all()):
            return None
        counts = mask.sum(dim=1)
        # right padding: the first count positions are the real ones
        positions = torch.arange(seq_len, device=mask.device)
        right_padded = bool((mask == (positions[None, :] < counts[:, None])).all())
        order = None if right_padded else torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
        empty = counts == 0
        return cls(counts.clamp(min=1).cpu(), order, empty if bool(empty.any()) else None)

    def pack(self, hidden: torch.Tensor) -> PackedSequence:
        """``(batch_size, seq_len, width)`` → the real tokens of each row, packed."""
        if self.order is not None:
            hidden = hidden.gather(1, self.order[:, :, None].expand_as(hidden))
        return pack_padded_sequence(hidden, self.lengths, batch_first=True, enforce_sorted=False)

    def unpack(self, packed: PackedSequence, seq_len: int) -> torch.Tensor:
        """Packed outputs → ``(batch_size, seq_len, width)`` at the original positions, zeros at padding."""
        hidden, _ = pad_packed_sequence(packed, batch_first=True, total_length=seq_len)
        if self.order is not None:
            hidden = torch.empty_like(hidden).scatter_(1, self.order[:, :, None].expand_as(hidden), hidden)
        return hidden

    def keep_empty_rows(self, new: State, old: State | None) -> State:
        """The new state, except for rows without real tokens, which keep ``old`` (zeros when there is none)."""
        if self.empty is None:
            return new
        # [1, batch_size, 1]: batch is axis 1 of torch.nn recurrent states
        empty = self.empty[None, :, None]
        old = old if old is not None else tuple(torch.zeros_like(t) for t in new)
        return tuple(torch.where(empty, o, n) for n, o in zip(new, old, strict=True))


@contextlib.contextmanager
def _single_step_kernels(hidden: torch.Tensor) -> Iterator[None]:
    """Turn oneDNN off for one-token CPU steps (generation): its RNN kernel costs ~1 ms per call to set up,
    several times the step itself, while PyTorch's own kernel is fastest for one token. Longer inputs keep it."""
    switch = hidden.shape[1] == 1 and hidden.device.type == "cpu" and torch.backends.mkldnn.enabled
    if switch:
        torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        if switch:
            torch.backends.mkldnn.enabled = True


def _as_tuple(state: torch.Tensor | tuple[torch.Tensor, ...]) -> State:
    return state if isinstance(state, tuple) else (state,)


def _as_module_state(state: State | None) -> torch.Tensor | tuple[torch.Tensor, ...] | None:
    if state is None:
        return None
    return state if len(state) > 1 else state[0]


class RecurrentPreTrainedModel(PreTrainedModel):
    """Weight initialisation and class facts shared by the recurrent backbones.

    Embeddings and linear layers are drawn from ``N(0, initializer_range)``; recurrent input weights are
    Xavier-uniform, recurrent hidden-to-hidden weights orthogonal, biases zero.
    """

    config_class: type[RecurrentConfig] = RecurrentConfig
    base_model_prefix = "recurrent"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.RNNBase):
            for name, parameter in module.named_parameters(recurse=False):
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(parameter)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(parameter)
                else:
                    nn.init.zeros_(parameter)


class RecurrentModel(CachedBackboneMixin, RecurrentPreTrainedModel):
    """A stack of recurrent layers over token embeddings; the bare backbone (no head).

    Its ``forward`` (:class:`~archit.modeling.native.cache.CachedBackboneMixin`) takes ``input_ids`` or
    ``inputs_embeds``; padding, left or right, changes neither outputs nor state. ``hidden_states`` are the
    embeddings and each layer's output (and the projection's); a bidirectional backbone returns no cache.

    Args:
        config: the sizes; its class decides the cell (:class:`LSTMConfig`, :class:`GRUConfig`, :class:`RNNConfig`).
    """

    def __init__(self, config: RecurrentConfig) -> None:
        super().__init__(config)
        cell = _CELLS[config.cell]
        extra = {"nonlinearity": config.nonlinearity} if config.cell == "rnn" else {}
        self.embeddings = nn.Embedding(config.vocab_size, config.embedding_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.layers = nn.ModuleList(
            cell(
                config.embedding_size if index == 0 else config.recurrent_output_size,
                config.hidden_size,
                batch_first=True,
                bidirectional=config.bidirectional,
                **extra,
            )
            for index in range(config.num_hidden_layers)
        )
        needs_projection = config.output_size != config.recurrent_output_size
        self.projection = nn.Linear(config.recurrent_output_size, config.output_size) if needs_projection else None
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings = value

    def _inputs(self, input_ids: torch.LongTensor | None, inputs_embeds: torch.Tensor | None) -> torch.Tensor:
        if (input_ids is None) == (inputs_embeds is None):
            raise ModelInputError("Pass exactly one of input_ids and inputs_embeds to a recurrent backbone.")
        return self.embeddings(input_ids) if inputs_embeds is None else inputs_embeds

    def _encode(
        self, inputs: torch.Tensor, attention_mask: torch.Tensor | None, cache: RecurrentCache | None, keep_all: bool
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        padding = _Padding.from_mask(attention_mask, inputs.shape[1])
        with _single_step_kernels(inputs):
            hidden, all_hidden = self._run_layers(self.dropout(inputs), padding, cache, keep_all)
        if self.projection is not None:
            hidden = self.projection(hidden)
            all_hidden.append(hidden)
        return hidden, tuple(all_hidden)

    def _cache(self, cache: Any, use_cache: bool) -> RecurrentCache | None:
        if self.config.bidirectional and cache is not None and cache.get_seq_length() > 0:
            raise RecurrentStateError(
                f"{type(self).__name__} is bidirectional: its state after a prefix cannot be continued, since the "
                "right-to-left direction needs the whole sequence. Run it on full sequences with "
                "no cache."
            )
        return as_recurrent_cache(cache, use_cache and not self.config.bidirectional)

    # dynamo cannot trace torch.nn's recurrent modules over a PackedSequence: under torch.compile they run eagerly
    @torch.compiler.disable
    def _run_layers(
        self, hidden: torch.Tensor, padding: _Padding | None, cache: RecurrentCache | None, keep_all: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run every layer, reading and replacing each layer's state in ``cache``.

        Returns:
            The last layer's output ``(batch_size, seq_len, recurrent_output_size)`` and the list of the
            embeddings and every layer's output (only the last one unless ``keep_all``).
        """
        seq_len = hidden.shape[1]
        all_hidden = [hidden]
        # [batch_size, seq_len, width] on the fast path, the real tokens packed otherwise
        current: torch.Tensor | PackedSequence = hidden if padding is None else padding.pack(hidden)
        for index, layer in enumerate(self.layers):
            if index > 0:
                current = self._dropout(current)
            old_state = cache.get_state(index) if cache is not None else None
            current, state = layer(current, _as_module_state(old_state))
            if cache is not None:
                state = _as_tuple(state)
                cache.update_state(state if padding is None else padding.keep_empty_rows(state, old_state), index)
            if keep_all or index == len(self.layers) - 1:
                all_hidden.append(current if padding is None else padding.unpack(current, seq_len))
        return all_hidden[-1], all_hidden

    def _dropout(self, hidden: torch.Tensor | PackedSequence) -> torch.Tensor | PackedSequence:
        if isinstance(hidden, PackedSequence):
            return hidden._replace(data=self.dropout(hidden.data))
        return self.dropout(hidden)


class LSTMModel(RecurrentModel):
    """LSTM backbone; see :class:`RecurrentModel`."""

    config_class = LSTMConfig
    base_model_prefix = "lstm"


class GRUModel(RecurrentModel):
    """GRU backbone; see :class:`RecurrentModel`."""

    config_class = GRUConfig
    base_model_prefix = "gru"


class RNNModel(RecurrentModel):
    """Elman RNN backbone; see :class:`RecurrentModel`."""

    config_class = RNNConfig
    base_model_prefix = "rnn"


class RecurrentWrapper(ArchitWrapper):
    """The wrapper of the recurrent families: causality and width come from the config, not the family."""

    @family_fact
    def is_causal(self) -> bool:
        """A unidirectional backbone is causal; a bidirectional one is not."""
        return not self.config.bidirectional

    @family_fact
    def hidden_size(self) -> int:
        """Width of the hidden states ``encode`` returns (:attr:`RecurrentConfig.output_size`)."""
        return self.config.output_size
