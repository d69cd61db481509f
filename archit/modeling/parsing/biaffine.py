"""Alias of :mod:`archit.modeling.tasks.dependency_parsing.biaffine`, kept for existing imports."""

from archit.modeling.tasks.dependency_parsing.biaffine import MLP, Biaffine, SharedDropout

__all__ = ["Biaffine", "MLP", "SharedDropout"]
