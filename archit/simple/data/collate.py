"""Padding features into batches, on the side the tokenizer pads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch

from archit.errors import DataError
from archit.modeling.tasks.losses import IGNORE_INDEX

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["MODEL_INPUT_KEYS", "Collator", "pad_nested"]

MODEL_INPUT_KEYS = (
    "input_ids",
    "attention_mask",
    "token_type_ids",
    "labels",
    "start_positions",
    "end_positions",
    "answerable",
)
"""Feature keys that go into the model; every other key is bookkeeping and stays out of the batch."""


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, (list, tuple)):
        if not value:
            return depth + 1
        value, depth = value[0], depth + 1
    return depth


def _max_length(values: Sequence[Any], depth: int) -> int:
    if depth == 1:
        return max((len(value) for value in values), default=0)
    return max((_max_length(value, depth - 1) for value in values), default=0)


def _pad(value: list[Any], depth: int, length: int, pad_value: Any, side: str) -> list[Any]:
    if depth > 1:
        return [_pad(item, depth - 1, length, pad_value, side) for item in value]
    padding = [pad_value] * (length - len(value))
    return padding + list(value) if side == "left" else list(value) + padding


def pad_nested(values: Sequence[Any], pad_value: Any, side: str = "right") -> list[Any]:
    """Pad the innermost lists of equally nested lists to one length.

    Args:
        values: one (possibly nested) list per feature, e.g. ``[n_choices][seq_len]`` ids.
        pad_value: the value appended (or prepended).
        side: ``"right"`` or ``"left"``.

    Raises:
        DataError: the outer lengths differ (e.g. two questions with different numbers of choices).
    """
    depth = _depth(values[0]) if values else 0
    if depth > 1 and len({len(value) for value in values}) > 1:
        raise DataError(f"Cannot batch features of different outer lengths {sorted({len(v) for v in values})}.")
    length = _max_length(values, depth) if depth else 0
    return [_pad(value, depth, length, pad_value, side) if depth else value for value in values]


class Collator:
    """Pads the model keys of a list of features and stacks them into tensors.

    Args:
        tokenizer: gives the pad id (``pad_token_id``, else ``eos_token_id``, else 0) and the padding side.
        keys: the feature keys that go into the batch; the rest are dropped.
        pad_values: pad value of each key; ``input_ids`` defaults to the pad id, ``labels`` to ``-100``,
            every other key to 0.
        side: ``"left"`` or ``"right"``; by default the tokenizer's ``padding_side``. Tasks whose outputs are
            read back by position (token labels, answer spans, language modelling) pad on the right.
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        keys: Sequence[str] = MODEL_INPUT_KEYS,
        pad_values: Mapping[str, Any] | None = None,
        side: str | None = None,
    ) -> None:
        pad_id = tokenizer.pad_token_id
        if pad_id is None:
            pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        self.keys = tuple(keys)
        self.side: str = side if side else str(getattr(tokenizer, "padding_side", "right"))
        self.pad_values = {"input_ids": pad_id, "labels": IGNORE_INDEX, **(pad_values or {})}

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        """The batch: one tensor per model key present in the first feature."""
        batch = {}
        for key in self.keys:
            if key not in features[0]:
                continue
            values = pad_nested([feature[key] for feature in features], self.pad_values.get(key, 0), self.side)
            batch[key] = torch.tensor(values, dtype=torch.float32 if _is_float(values) else torch.long)
        return batch


def _is_float(values: Any) -> bool:
    while isinstance(values, (list, tuple)):
        if any(isinstance(value, float) for value in values):
            return True
        values = values[0] if values else None
    return isinstance(values, float)
