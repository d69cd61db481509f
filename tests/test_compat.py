"""``archit._compat`` on the installed transformers: every entry is used, every private symbol it relies on
exists, and each feature detection agrees with a second, independent reading of transformers."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
import transformers

from archit import _compat

ARCHIT = Path(_compat.__file__).resolve().parent


def _resolve(path: str, name: str) -> Any:
    """The attribute ``name`` of the module or class at the dotted ``path``."""
    module_path, _, class_path = path, "", ""
    while True:
        try:
            target: Any = importlib.import_module(module_path)
            break
        except ModuleNotFoundError:
            module_path, _, last = module_path.rpartition(".")
            class_path = f"{last}.{class_path}" if class_path else last
    for attribute in filter(None, class_path.split(".")):
        target = getattr(target, attribute)
    return getattr(target, name)


@pytest.mark.parametrize("name", _compat.__all__)
def test_every_entry_is_used_by_archit(name: str) -> None:
    if name == "PRIVATE_SYMBOLS":  # read by this test
        return
    users = [
        path for path in ARCHIT.rglob("*.py") if path.name != "_compat.py" and name in path.read_text(encoding="utf-8")
    ]
    assert users, f"archit._compat.{name} is used nowhere in archit: remove it"


@pytest.mark.parametrize(("path", "name"), _compat.PRIVATE_SYMBOLS, ids=lambda value: str(value))
def test_every_private_symbol_exists(path: str, name: str) -> None:
    _resolve(path, name)


def test_the_output_capture_registry_exists() -> None:
    assert _compat._output_capture_registry() is not None


def test_the_cache_name_agrees_with_generate() -> None:
    generate_passes = set(inspect.signature(transformers.GenerationMixin.prepare_inputs_for_generation).parameters)
    assert _compat.CACHE_NAME in generate_passes
    assert _compat.CACHE_NAME in inspect.signature(transformers.GPT2Model.forward).parameters


def test_the_tied_weights_format_agrees_with_transformers_own_models() -> None:
    declared = transformers.GPT2LMHeadModel._tied_weights_keys
    assert isinstance(declared, dict) == _compat.TIED_WEIGHTS_AS_MAPPING


def test_warmup_arguments_are_accepted_by_training_arguments(tmp_path) -> None:
    arguments = transformers.TrainingArguments(output_dir=str(tmp_path), **_compat.warmup_arguments(0.25))
    assert getattr(arguments, "warmup_ratio", None) == 0.25 or arguments.warmup_steps == 0.25
