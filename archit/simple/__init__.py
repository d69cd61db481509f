"""Runscripts: run configurations, task data, metrics and the ``archit`` command.

``RunConfiguration`` and ``run_simple`` are imported on first use, so that ``archit --help`` and
``archit families`` start without loading the Trainer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archit.simple.config import RunConfiguration
    from archit.simple.inference import evaluate, predict
    from archit.simple.run import RunResult, run_simple

__all__ = ["RunConfiguration", "RunResult", "evaluate", "predict", "run_simple"]

_HOMES = {
    "RunConfiguration": "archit.simple.config",
    "RunResult": "archit.simple.run",
    "evaluate": "archit.simple.inference",
    "predict": "archit.simple.inference",
    "run_simple": "archit.simple.run",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'archit.simple' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
