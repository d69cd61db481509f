"""Alias of :mod:`archit.modeling.tasks.dependency_parsing.loss`, kept for existing imports."""

from archit.modeling.tasks.dependency_parsing.loss import arc_label_loss
from archit.modeling.tasks.losses import IGNORE_INDEX

__all__ = ["IGNORE_INDEX", "arc_label_loss"]
