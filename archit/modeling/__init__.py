"""Backbones behind one interface, heads, tasks and the factory that puts them together."""

# Importing archit.modeling.native registers archit's own families (LSTM, GRU, RNN) with transformers.
import archit.modeling.native  # noqa: F401
from archit.modeling.base_models import BaseModel, base_model_class
from archit.modeling.factory import ArchitFactory, register_task
from archit.modeling.multitask import MultiTaskConfig, MultiTaskModel
from archit.modeling.wrappers import (
    ArchitWrapper,
    BackboneOutput,
    GenericWrapper,
    get_wrapper_class,
    is_wrapped,
    register_wrapper,
    unwrap,
    wrap,
)

__all__ = [
    "ArchitFactory",
    "ArchitWrapper",
    "BackboneOutput",
    "BaseModel",
    "GenericWrapper",
    "MultiTaskConfig",
    "MultiTaskModel",
    "base_model_class",
    "get_wrapper_class",
    "is_wrapped",
    "register_task",
    "register_wrapper",
    "unwrap",
    "wrap",
]
