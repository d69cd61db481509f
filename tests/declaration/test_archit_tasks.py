"""Declaring archit model-with-head classes: the specialised task class is named as its task."""

from __future__ import annotations

import importlib.util
import sys

import torch
from torch import nn

from archit.declaration.compiler import write_difference
from archit.modeling import ArchitFactory
from archit.modeling.tasks import ForSingleLabelTokenClassification
from tests.comparison import assert_same_outputs
from tests.tiny_configs import tiny_config


def test_modified_backbone_of_a_task_model_round_trips(tmp_path) -> None:
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification", num_labels=3).eval()
    model.bert.encoder.layer[1].output.dense = nn.Linear(37, 32, bias=False)
    code = write_difference(model, type(model), tmp_path / "declared_tagger.py")
    assert "class ForSingleLabelTokenClassificationModified(ForSingleLabelTokenClassification):" in code
    assert "nn.Linear(37, 32, bias=False)" in code

    spec = importlib.util.spec_from_file_location("declared_tagger", tmp_path / "declared_tagger.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["declared_tagger"] = module
    try:
        spec.loader.exec_module(module)
        declared = module.ForSingleLabelTokenClassificationModified
        rebuilt = declared(model.config).eval()
        rebuilt.load_state_dict(model.state_dict(), strict=True)
        input_ids = torch.randint(3, 99, (2, 5))
        assert torch.equal(rebuilt(input_ids=input_ids).logits, model(input_ids=input_ids).logits)

        model.save_pretrained(tmp_path / "checkpoint")
        loaded = declared.from_pretrained(tmp_path / "checkpoint").eval()
        assert isinstance(loaded, declared) and isinstance(loaded, ForSingleLabelTokenClassification)
        assert loaded.loading_report.new == [] and loaded.loading_report.unused == []
        assert_same_outputs(loaded(input_ids=input_ids).logits, model(input_ids=input_ids).logits)
    finally:
        del sys.modules["declared_tagger"]
