"""Language-modelling metrics."""

from __future__ import annotations

import math

__all__ = ["perplexity"]


def perplexity(mean_loss: float) -> float:
    """``exp`` of the mean token cross-entropy (in nats); ``inf`` when that overflows or the loss is not finite."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf
