"""Comparing a model's outputs with those of its saved and reloaded copy.

transformers 5.24 leaves loaded weights where the safetensors file put them, not always on the 64-byte
boundaries a fresh tensor gets; matrix-vector products over such weights take another SIMD path and may differ
in the last bits (seen: 1e-9 on logits of 0.01). So weights are compared bit for bit, and the outputs of a
reloaded model to 1e-5, the bound transformers' own tests use for save/load.
"""

from __future__ import annotations

import torch


def assert_same_outputs(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """``actual`` equals ``expected`` up to 1e-5 in every element (same shape and dtype)."""
    torch.testing.assert_close(actual, expected, rtol=0.0, atol=1e-5)
