"""Golden cases: the exact text the compiler writes for a few modifications, kept in ``cases/<name>.py``.

A mismatch prints a unified diff and the command that regenerates the files after an intended change.
The case files are ordinary modules: they import, and CI's ruff check covers them.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn
from transformers import RobertaForMaskedLM

from archit.declaration import record_init_args
from archit.declaration.compiler import generate_difference
from tests.declaration.helpers import assert_declares, input_ids, tiny_roberta_config
from tests.declaration.modules import CoolNewEmbeddingMatrix, ScaledLinear, TinyNet

CASES = Path(__file__).parent / "cases"
REGENERATE = "ARCHIT_REGENERATE_GOLDEN=1 python -m pytest tests/declaration/test_golden.py -p no:cacheprovider"


def readme_roberta_embeddings() -> tuple[nn.Module, type[nn.Module], Callable, torch.Tensor]:
    """ArchIt's README example: the word embeddings of a RoBERTa MLM replaced by a user module."""
    config = tiny_roberta_config()
    torch.manual_seed(0)
    model = RobertaForMaskedLM(config)
    model.roberta.embeddings.word_embeddings = CoolNewEmbeddingMatrix(99, 32, scale=2.0)
    return model, RobertaForMaskedLM, lambda top: top(config), input_ids()


def tinynet_containers() -> tuple[nn.Module, type[nn.Module], Callable, torch.Tensor]:
    """A plain torch model: container entries replaced, appended and deleted; parameters and buffers added."""
    torch.manual_seed(0)
    model = TinyNet(dim=8, depth=3)
    with record_init_args():
        model.blocks[1][0] = ScaledLinear(8, 8, factor=0.5)
    model.blocks.append(nn.Sequential(nn.Linear(8, 8, bias=False), nn.Tanh()))
    model.heads["span"] = nn.Linear(8, 2)
    del model.heads["score"]
    model.norm = nn.LayerNorm(8, eps=1e-6, elementwise_affine=False)
    model.blocks[0][0].register_parameter("gate", nn.Parameter(torch.ones(8)))
    model.register_buffer("steps", torch.arange(4), persistent=False)
    return model, TinyNet, lambda top: top(dim=8, depth=3), input_ids(11)


def tinynet_unchanged() -> tuple[nn.Module, type[nn.Module], Callable, torch.Tensor]:
    """No modification: an empty module that says so."""
    return TinyNet(), TinyNet, lambda top: top(), input_ids(11)


CASE_BUILDERS = [readme_roberta_embeddings, tinynet_containers, tinynet_unchanged]


@pytest.mark.parametrize("case", CASE_BUILDERS, ids=lambda case: case.__name__)
def test_golden_case(case: Callable) -> None:
    model, klass, build, inputs = case()
    text = generate_difference(model, klass)
    path = CASES / f"{case.__name__}.py"
    if os.environ.get("ARCHIT_REGENERATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "generated"))
        pytest.fail(f"Generated text differs from {path.name}:\n{diff}\nRegenerate with: {REGENERATE}", pytrace=False)
    if "class " in text:
        assert_declares(model, klass, build, inputs)
