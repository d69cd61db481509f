"""Shared checks of the declaration tests: execute generated code, load strictly, compare outputs."""

from __future__ import annotations

import ast
import itertools
import sys
import types
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from transformers import RobertaConfig

from archit.declaration.compiler import generate_difference
from archit.declaration.recording import record_init_args
from tests.tiny_configs import tiny_config

_COUNTER = itertools.count()


def tiny_roberta_config(**overrides: Any) -> RobertaConfig:
    """The tiny RoBERTa of ``tests.tiny_configs``: BERT tester sizes (hidden 32, 2 layers, 4 heads, FFN 37, vocab
    99)."""
    return tiny_config("ROBERTA", **overrides)


def input_ids(vocab_size: int = 99) -> torch.Tensor:
    """Batch 13, sequence 7 (distinct from every model size)."""
    return torch.randint(3, vocab_size, (13, 7), generator=torch.Generator().manual_seed(0))


def load_generated(text: str) -> types.ModuleType:
    """Execute generated source as a fresh module registered in ``sys.modules``."""
    ast.parse(text)
    module = types.ModuleType(f"archit_generated_{next(_COUNTER)}")
    sys.modules[module.__name__] = module
    exec(compile(text, module.__name__, "exec"), module.__dict__)  # noqa: S102
    return module


def outputs(model: nn.Module, inputs: torch.Tensor) -> list[torch.Tensor]:
    """Every tensor a model returns, in eval mode and without gradients."""
    model.eval()
    with torch.no_grad():
        result = model(inputs)
    if isinstance(result, torch.Tensor):
        return [result]
    values = result.values() if isinstance(result, dict) else result.to_tuple()
    return [v for v in values if isinstance(v, torch.Tensor)]


def assert_declares(
    modified: nn.Module,
    klass: type[nn.Module],
    build: Callable[[type[nn.Module]], nn.Module],
    inputs: torch.Tensor | None = None,
) -> tuple[str, nn.Module]:
    """The guarantee: the generated top class builds, loads the state dict strictly, computes the same outputs,
    and declaring the reloaded model again gives the same text.

    Args:
        modified: the model modified in place.
        klass: the class it was built as.
        build: builds the generated top class (``lambda top: top(config)``).
        inputs: model inputs; default :func:`input_ids`.

    Returns:
        The generated text and the reloaded model.
    """
    text = generate_difference(modified, klass)
    module = load_generated(text)
    with record_init_args():  # so that user modules it builds can be declared again
        top = build(getattr(module, module.__all__[-1]) if module.__all__ else klass)
    top.load_state_dict(modified.state_dict(), strict=True)
    inputs = input_ids() if inputs is None else inputs
    for expected, found in zip(outputs(modified, inputs), outputs(top, inputs), strict=True):
        assert torch.equal(expected, found)
    again = generate_difference(top, klass)
    assert again == text, "declaring the reloaded model gave other text"
    return text, top
