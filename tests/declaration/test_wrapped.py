"""Models wrapped by archit's class swap: the compiler declares the real HF classes and wraps them again."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from transformers import RobertaForMaskedLM, RobertaModel

from archit.declaration.compiler import generate_difference
from tests.declaration.helpers import assert_declares, tiny_roberta_config
from tests.declaration.modules import StandInWrapper


@pytest.fixture
def config():
    return tiny_roberta_config()


def test_stand_in_swapped_top_class_is_declared_as_the_hf_class(config):
    torch.manual_seed(0)
    model = StandInWrapper.wrap(RobertaModel(config))
    assert type(model).__name__ == "RobertaModel" and type(model) is not RobertaModel
    model.encoder.layer[1].output.dense = nn.Linear(37, 32, bias=False)
    text, top = assert_declares(model, RobertaModel, lambda top: top(config))
    assert "class RobertaModelModified(RobertaModel):" in text
    assert "StandInWrapper" not in text  # the top class is the HF class; wrap it again after loading
    assert isinstance(StandInWrapper.wrap(top), RobertaModel)


def test_stand_in_swapped_submodule_is_wrapped_again(config):
    torch.manual_seed(0)
    model = RobertaForMaskedLM(config)
    StandInWrapper.wrap(model.roberta)
    model.roberta.embeddings.dropout = nn.Dropout(0.2)
    text, top = assert_declares(model, RobertaForMaskedLM, lambda top: top(config))
    assert "self.roberta = StandInWrapper.wrap(RobertaModelModified(config, add_pooling_layer=False))" in text
    assert isinstance(top.roberta, StandInWrapper) and isinstance(top.roberta, RobertaModel)


def test_unchanged_wrapped_model_has_no_difference(config):
    model = StandInWrapper.wrap(RobertaForMaskedLM(config))
    assert generate_difference(model, RobertaForMaskedLM).startswith('"""No difference')


def test_real_archit_wrapper(config):
    wrappers = pytest.importorskip("archit.modeling.wrappers")
    torch.manual_seed(0)
    model = RobertaForMaskedLM(config)
    assert wrappers.ArchitWrapper.wrap(model.roberta) is model.roberta
    model.roberta.encoder.layer[0].attention.output.dense = nn.Linear(32, 32, bias=False)
    text, top = assert_declares(model, RobertaForMaskedLM, lambda top: top(config))
    wrapper = type(model.roberta)._archit_wrapper_class.__name__
    assert f"self.roberta = {wrapper}.wrap(RobertaModelModified(config, add_pooling_layer=False)" in text
    assert wrappers.is_wrapped(top.roberta)
    whole = wrappers.ArchitWrapper.wrap(RobertaModel(config))
    whole.pooler.dense = nn.Linear(32, 32, bias=False)
    text, _ = assert_declares(whole, RobertaModel, lambda top: top(config))
    assert "class RobertaModelModified(RobertaModel):" in text
