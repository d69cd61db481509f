"""Heads map hidden states to logits; their configs are attrs classes serialised into the model config.

What every head shares is in :mod:`archit.modeling.heads.base`. Each task's head config and head live in its
package under :mod:`archit.modeling.tasks`; their names are read from there on first use (a task package
imports the head base, so importing it here eagerly would be circular).
"""

import importlib
from typing import Any

from archit.modeling.heads.base import HeadConfig, HeadSpec, head_config_from_dict, register_head_config

_TASK_PACKAGES = {
    "SequenceClassificationHead": "classification",
    "SequenceClassificationHeadConfig": "classification",
    "TokenClassificationHead": "classification",
    "TokenClassificationHeadConfig": "classification",
    "DependencyParsingHead": "dependency_parsing",
    "DependencyParsingHeadConfig": "dependency_parsing",
    "CausalLMHead": "language_modeling",
    "CausalLMHeadConfig": "language_modeling",
    "MaskedLMHead": "language_modeling",
    "MaskedLMHeadConfig": "language_modeling",
    "register_head_factory": "language_modeling",
    "ExtractiveAQAHead": "question_answering",
    "ExtractiveAQAHeadConfig": "question_answering",
    "ExtractiveQAHead": "question_answering",
    "ExtractiveQAHeadConfig": "question_answering",
}

__all__ = ["HeadConfig", "HeadSpec", "head_config_from_dict", "register_head_config", *_TASK_PACKAGES]


def __getattr__(name: str) -> Any:
    if name not in _TASK_PACKAGES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"archit.modeling.tasks.{_TASK_PACKAGES[name]}"), name)


def __dir__() -> list[str]:
    return __all__
