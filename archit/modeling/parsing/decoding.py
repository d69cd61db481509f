"""Alias of :mod:`archit.modeling.tasks.dependency_parsing.decoding`, kept for existing imports."""

from archit.modeling.tasks.dependency_parsing import decoding as _decoding
from archit.modeling.tasks.dependency_parsing.decoding import *  # noqa: F403

__all__ = [*_decoding.__all__]
