"""Property-based test: random in-place modifications of a tiny RoBERTa are declared faithfully.

Each example modifies a fresh model one to three times (a replacement at a random path and depth, including
random ``ModuleList`` indices; a new submodule; new parameters and buffers), then checks the
guarantee: the generated top class builds from the config, loads the state dict strictly, computes the same
outputs in eval mode, and declaring the reloaded model again gives byte-identical text.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from transformers import RobertaForMaskedLM

from archit.declaration import record_init_args
from tests.declaration.helpers import assert_declares, tiny_roberta_config
from tests.declaration.modules import CoolNewEmbeddingMatrix, Residual, ScaledLinear

CONFIG = tiny_roberta_config()
torch.manual_seed(0)
BASE = RobertaForMaskedLM(CONFIG)
CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.Sequential)


def _paths(model: nn.Module, kinds: tuple[type, ...]) -> list[str]:
    return sorted(name for name, m in model.named_modules() if name and isinstance(m, kinds))


def _owners(model: nn.Module) -> list[str]:
    return sorted(name for name, m in model.named_modules() if not isinstance(m, CONTAINERS))


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent), name, module)


def _replacement(data: st.DataObject, old: nn.Module) -> nn.Module:
    """A new module that computes something of the same shape as ``old``."""
    if isinstance(old, nn.Linear):
        n_in, n_out = old.in_features, old.out_features
        choice = data.draw(st.sampled_from(["linear", "scaled", "sequential", "residual"]))
        bias = data.draw(st.booleans())
        if choice == "scaled":
            with record_init_args():
                return ScaledLinear(n_in, n_out, factor=data.draw(st.sampled_from([0.5, 2.0, 3.0])), bias=bias)
        if choice == "sequential":
            return nn.Sequential(nn.Linear(n_in, n_out, bias=bias), nn.Identity())
        if choice == "residual" and n_in == n_out:
            return Residual(nn.Linear(n_in, n_out, bias=bias))
        return nn.Linear(n_in, n_out, bias=bias)
    if isinstance(old, nn.LayerNorm):
        if data.draw(st.booleans()):
            return nn.Identity()
        eps = data.draw(st.sampled_from([1e-5, 1e-6, 1e-12]))
        return nn.LayerNorm(old.normalized_shape, eps=eps, elementwise_affine=data.draw(st.booleans()))
    if isinstance(old, nn.Dropout):
        return nn.Identity() if data.draw(st.booleans()) else nn.Dropout(data.draw(st.sampled_from([0.0, 0.2, 0.5])))
    if isinstance(old, nn.Embedding):
        if data.draw(st.booleans()):
            return CoolNewEmbeddingMatrix(
                old.num_embeddings, old.embedding_dim, scale=data.draw(st.sampled_from([1.0, 2.0]))
            )
        padding = data.draw(st.one_of(st.none(), st.integers(0, old.num_embeddings - 1)))
        return nn.Embedding(old.num_embeddings, old.embedding_dim, padding_idx=padding)
    return data.draw(st.sampled_from([nn.GELU(), nn.GELU(approximate="tanh"), nn.ReLU(), nn.Tanh(), nn.Identity()]))


def _modify(model: nn.Module, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["replace", "replace", "replace", "module", "parameter", "buffer"]))
    if kind == "replace":
        kinds = (nn.Linear, nn.LayerNorm, nn.Dropout, nn.Embedding)
        leaves = _paths(model, kinds) + [p for p in _paths(model, (nn.Module,)) if p.endswith("intermediate_act_fn")]
        path = data.draw(st.sampled_from(leaves))
        _set(model, path, _replacement(data, model.get_submodule(path)))
        return
    owner = model.get_submodule(data.draw(st.sampled_from(_owners(model))))
    name = data.draw(st.sampled_from(["extra", "probe", "table"]))
    if hasattr(owner, name):
        return
    if kind == "module":
        n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
        owner.add_module(name, nn.Linear(n_in, n_out, bias=data.draw(st.booleans())))
        return
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)))
    if kind == "parameter":
        owner.register_parameter(name, nn.Parameter(torch.randn(shape), requires_grad=data.draw(st.booleans())))
        return
    persistent = data.draw(st.booleans())
    pattern = data.draw(st.sampled_from(["random", "zeros", "full", "arange", "int"]))
    values = {
        "random": lambda: torch.randn(shape),
        "zeros": lambda: torch.zeros(shape),
        "full": lambda: torch.full(shape, 0.25),
        "arange": lambda: torch.arange(int(torch.tensor(shape).prod())).view(shape),
        "int": lambda: torch.randint(0, 5, shape),
    }[pattern]()
    owner.register_buffer(name, values, persistent=persistent)


@pytest.mark.filterwarnings("ignore")
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_modifications_are_declared_faithfully(data: st.DataObject) -> None:
    model = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        _modify(model, data)
    assert_declares(model, RobertaForMaskedLM, lambda top: top(CONFIG))
