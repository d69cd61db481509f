"""The generation cache of recurrent backbones: the state after the tokens seen so far.

A transformer's cache grows by one key and value per token; a recurrent network's cache is its state, of fixed
size, replaced at each step. :class:`RecurrentCache` is a :class:`transformers.Cache` so that ``generate()`` on
transformers 4.57 and 5.x passes it back unchanged and reorders it for beam search; it holds one tuple of state
tensors per layer (``(h, c)`` for an LSTM, ``(h,)`` for a GRU or RNN) and the number of tokens it has seen,
which is what ``generate()`` reads through :meth:`RecurrentCache.get_seq_length` to slice its inputs.

``generate()`` creates an empty ``DynamicCache`` for every model that does not opt out; :func:`as_recurrent_cache`
turns that empty cache into a :class:`RecurrentCache` on the first forward pass. :class:`CachedBackboneMixin` is
the forward pass of the native backbones that carry one (recurrent and adapted modules).
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import Cache, PretrainedConfig
from transformers.modeling_outputs import BaseModelOutputWithPast

from archit._compat import CACHE_NAME, merge_cache_arguments
from archit.errors import RecurrentStateError

__all__ = ["CachedBackboneMixin", "RecurrentCache", "RecurrentStateError", "as_recurrent_cache"]

State = tuple[torch.Tensor, ...]


class RecurrentCache(Cache):
    """The recurrent state of each layer, after :meth:`get_seq_length` tokens.

    Args:
        batch_dim: the batch axis of every state tensor (1 for :mod:`torch.nn` recurrent modules, whose states
            are ``(num_directions, batch_size, hidden_size)``).
    """

    is_compileable = False

    def __init__(self, batch_dim: int = 1) -> None:
        super().__init__(layers=[])
        self.states: list[State | None] = []
        self.seen_tokens = 0
        self.batch_dim = batch_dim

    def __repr__(self) -> str:
        return f"{type(self).__name__}(layers={len(self.states)}, seen_tokens={self.seen_tokens})"

    def __len__(self) -> int:
        return len(self.states)

    # --- state -------------------------------------------------------------------------------------
    def get_state(self, layer_idx: int) -> State | None:
        """The state of layer ``layer_idx``, or ``None`` before it has seen a token."""
        return self.states[layer_idx] if layer_idx < len(self.states) else None

    def update_state(self, state: State, layer_idx: int) -> None:
        """Replace the state of layer ``layer_idx``."""
        while len(self.states) <= layer_idx:
            self.states.append(None)
        self.states[layer_idx] = tuple(state)

    def advance(self, num_tokens: int) -> None:
        """Count ``num_tokens`` more tokens as seen (once per forward pass, after every layer is updated)."""
        self.seen_tokens += num_tokens

    # --- what generate() calls --------------------------------------------------------------------
    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Number of tokens the state has absorbed."""
        return self.seen_tokens

    def get_max_length(self, layer_idx: int | None = None) -> int:
        """-1: a recurrent state has no maximum length."""
        return -1

    def get_max_cache_shape(self, layer_idx: int = 0) -> int:
        """-1: a recurrent state has no maximum length (the transformers 4.57 name)."""
        return -1

    @property
    def is_initialized(self) -> bool:
        return bool(self.states)

    @property
    def is_sliding(self) -> list[bool]:
        return [False] * len(self.states)

    @property
    def max_batch_size(self) -> int:
        first = next((state for state in self.states if state is not None), None)
        return -1 if first is None else first[0].shape[self.batch_dim]

    def _map(self, function: Any) -> None:
        self.states = [None if state is None else tuple(function(t) for t in state) for state in self.states]

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Keep the states of the batch rows ``beam_idx`` (beam search), in that order."""
        self._map(lambda t: t.index_select(self.batch_dim, beam_idx.to(t.device)))

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only the batch rows ``indices``."""
        self.reorder_cache(indices)

    def batch_repeat_interleave(self, repeats: int) -> None:
        """Repeat every batch row ``repeats`` times (for ``num_return_sequences`` on a given cache)."""
        self._map(lambda t: t.repeat_interleave(repeats, dim=self.batch_dim))

    def crop(self, max_length: int) -> None:
        """Keep the first ``max_length`` tokens (negative: drop that many); only a no-op crop is possible.

        Raises:
            RecurrentStateError: the crop would drop tokens (assisted generation); a recurrent state cannot
                forget its last tokens.
        """
        target = self.seen_tokens + max_length if max_length < 0 else max_length
        if target < self.seen_tokens:
            raise RecurrentStateError(
                f"Cannot crop a recurrent state from {self.seen_tokens} to {target} tokens: the state has no "
                "per-token entries to drop. Assisted and speculative decoding need a key/value cache; generate "
                "without an assistant model."
            )

    def reset(self) -> None:
        """Forget every state, as before the first token."""
        self.states = []
        self.seen_tokens = 0


def as_recurrent_cache(cache: Any, use_cache: bool, batch_dim: int = 1) -> RecurrentCache | None:
    """The cache a recurrent forward pass continues from and updates.

    Args:
        cache: a :class:`RecurrentCache` (returned by the previous step), an empty transformers
            ``Cache`` (``generate()`` creates a ``DynamicCache`` before the first step), or ``None``.
        use_cache: create a new cache when none is given.
        batch_dim: the batch axis of the state tensors of a new cache.

    Returns:
        The cache to read and update, or ``None`` when there is none and ``use_cache`` is false.

    Raises:
        RecurrentStateError: ``cache`` is a non-empty cache of another kind.
    """
    if isinstance(cache, RecurrentCache):
        return cache
    if cache is None or (isinstance(cache, Cache) and cache.get_seq_length() == 0):
        return RecurrentCache(batch_dim=batch_dim) if use_cache else None
    raise RecurrentStateError(
        f"A recurrent backbone continues from a RecurrentCache; got a {type(cache).__name__} that "
        "already holds tokens. Pass the cache the previous forward pass returned, or None."
    )


class CachedBackboneMixin:
    """The ``forward`` of a native backbone whose cache is a :class:`RecurrentCache`: the arguments transformers'
    callers pass, the cache under either of its names, the output. Put it before ``PreTrainedModel`` in the bases.

    Subclasses implement :meth:`_inputs`, :meth:`_cache` and :meth:`_encode`.
    """

    config: PretrainedConfig

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        cache: RecurrentCache | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        inputs_embeds: torch.Tensor | None = None,
        past_key_values: RecurrentCache | None = None,
        **kwargs: Any,
    ) -> BaseModelOutputWithPast | tuple:
        """Run the backbone over the tokens, continuing from ``cache`` when given.

        Args:
            input_ids: ``(batch_size, seq_len)`` token ids.
            attention_mask: ``(batch_size, seq_len)`` or ``(batch_size, past_len + seq_len)``, 1 for real tokens
                and 0 for padding.
            cache: the cache a previous call returned (or an empty transformers ``Cache``).
            use_cache: return the state as the cache (``config.use_cache`` when ``None``); ignored by a backbone
                whose state cannot be continued (bidirectional, non-causal).
            output_hidden_states: also return the embeddings and what follows them (see the class).
            return_dict: return a :class:`~transformers.modeling_outputs.BaseModelOutputWithPast` (default).
            inputs_embeds: ``(batch_size, seq_len, embedding_size)`` instead of ``input_ids``, where the backbone
                takes them.
            past_key_values: the cache's name before transformers 5.24 (give one of the two).
            **kwargs: accepted for compatibility with transformers' callers (``position_ids``...) and ignored.

        Returns:
            ``last_hidden_state`` ``(batch_size, seq_len, hidden_size)``, the updated :class:`RecurrentCache`
            (under transformers' cache name) and ``hidden_states`` on request.

        Raises:
            ModelInputError: inputs the backbone does not take (neither or both of ``input_ids`` and
                ``inputs_embeds``; ``inputs_embeds`` for a module that embeds its tokens itself).
            RecurrentStateError: a non-empty cache to a backbone whose state cannot be continued, or a
                key/value cache.
        """
        inputs = self._inputs(input_ids, inputs_embeds)
        use_cache = bool(self.config.use_cache if use_cache is None else use_cache)
        cache = self._cache(merge_cache_arguments(cache, past_key_values), use_cache)
        hidden, hidden_states = self._encode(inputs, attention_mask, cache, bool(output_hidden_states))
        if cache is not None:
            cache.advance(inputs.shape[1])
        output = BaseModelOutputWithPast(
            last_hidden_state=hidden,
            hidden_states=hidden_states if output_hidden_states else None,
            **{CACHE_NAME: cache},
        )
        return output if (self.config.return_dict if return_dict is None else return_dict) else output.to_tuple()

    def _inputs(self, input_ids: torch.LongTensor | None, inputs_embeds: torch.Tensor | None) -> torch.Tensor:
        """What :meth:`_encode` reads, ``(batch_size, seq_len, ...)``: the token ids or their embeddings.

        Raises:
            ModelInputError: inputs the backbone does not take.
        """
        raise NotImplementedError

    def _cache(self, cache: Any, use_cache: bool) -> RecurrentCache | None:
        """The cache to continue from and update (see :func:`as_recurrent_cache`), ``None`` for none.

        Raises:
            RecurrentStateError: a non-empty cache the backbone cannot continue.
        """
        raise NotImplementedError

    def _encode(
        self, inputs: torch.Tensor, attention_mask: torch.Tensor | None, cache: RecurrentCache | None, keep_all: bool
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """The last hidden states ``(batch_size, seq_len, hidden_size)`` of :meth:`_inputs`, reading and updating
        ``cache``, and the tuple of hidden states when ``keep_all``."""
        raise NotImplementedError
