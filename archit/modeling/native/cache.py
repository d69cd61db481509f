"""The generation cache of recurrent backbones: the state after the tokens seen so far.

A transformer's cache grows by one key and value per token; a recurrent network's cache is its state, of fixed
size, replaced at each step. :class:`RecurrentCache` is a :class:`transformers.Cache` so that ``generate()`` on
transformers 4.57 and 5.x passes it back unchanged and reorders it for beam search; it holds one tuple of state
tensors per layer (``(h, c)`` for an LSTM, ``(h,)`` for a GRU or RNN) and the number of tokens it has seen,
which is what ``generate()`` reads through :meth:`RecurrentCache.get_seq_length` to slice its inputs.

``generate()`` creates an empty ``DynamicCache`` for every model that does not opt out; :func:`as_recurrent_cache`
turns that empty cache into a :class:`RecurrentCache` on the first forward pass.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import Cache

from archit.errors import RecurrentStateError

__all__ = ["RecurrentCache", "RecurrentStateError", "as_recurrent_cache"]

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
