"""Run a function once a module has been imported, without importing it: how ``import archit`` registers its
pipelines with transformers yet loads neither transformers nor torch."""

from __future__ import annotations

import importlib.abc
import sys
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["when_imported"]


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``name`` is about to be imported, it has the other finders find it and wraps
    the loader's ``exec_module`` so that ``callback`` runs right after the module's code; then it leaves
    ``sys.meta_path``."""

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self.name = name
        self.callback = callback

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = finder.find_spec(fullname, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                break
        else:
            return None
        loader, callback = spec.loader, self.callback
        if loader is None:  # a namespace package: no code runs, so there is no moment to hook into
            return spec
        exec_module = loader.exec_module

        def exec_module_then_callback(module: ModuleType) -> None:
            exec_module(module)
            _run(callback, module)

        # an instance attribute shadowing the loader's method for this one import
        setattr(loader, "exec_module", exec_module_then_callback)  # noqa: B010 (mypy forbids assigning to a method)
        return spec


def _run(callback: Callable[[ModuleType], None], module: ModuleType) -> None:
    """Run a hook; its failure is a warning, never a failed import of the module the user asked for."""
    try:
        callback(module)
    except Exception as error:  # noqa: BLE001 - any failure of a registration hook
        warnings.warn(
            f"archit could not register with {module.__name__} ({type(error).__name__}: {error}); "
            f"call {getattr(callback, '__module__', '')}.{getattr(callback, '__qualname__', callback)} yourself to "
            "see the full error.",
            stacklevel=2,
        )


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` once module ``name`` is imported: now if it already is, else right after its
    first import finishes (a post-import hook, in the manner of ``wrapt.when_imported``).

    Args:
        name: the full module name, such as ``"transformers.pipelines"``.
        callback: called with the imported module.
    """
    module = sys.modules.get(name)
    if module is not None:
        _run(callback, module)
    else:
        sys.meta_path.insert(0, _ImportWatcher(name, callback))
