"""Example tests of the declaration compiler: what it writes, and that what it writes rebuilds the model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from transformers import RobertaForMaskedLM, RobertaModel

from archit.declaration import record_init_args, recorded_init_args
from archit.declaration.compiler import generate_difference, printDifference, write_difference
from archit.errors import DeclarationError
from tests.comparison import assert_same_outputs
from tests.declaration.helpers import assert_declares, input_ids, load_generated, tiny_roberta_config
from tests.declaration.modules import CoolNewEmbeddingMatrix, Residual, ScaledLinear, TinyNet

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config():
    return tiny_roberta_config()


@pytest.fixture
def model(config):
    torch.manual_seed(0)
    return RobertaForMaskedLM(config)


def from_config(config):
    return lambda top: top(config)


def test_readme_example(model, config, capsys):
    modified_model = model
    modified_model.roberta.embeddings.word_embeddings = CoolNewEmbeddingMatrix(99, 32, scale=2.0)

    from archit.declaration.compiler import printDifference

    printDifference(modified_model, RobertaForMaskedLM)

    printed = capsys.readouterr().out
    assert "class RobertaEmbeddingsModified(RobertaEmbeddings):" in printed
    assert "self.word_embeddings = CoolNewEmbeddingMatrix(99, 32, scale=2.0)" in printed
    assert "class RobertaModelModified(RobertaModel):" in printed
    assert "self.roberta = RobertaModelModified(config, add_pooling_layer=False)" in printed
    assert "class RobertaForMaskedLMModified(RobertaForMaskedLM):" in printed
    text, _ = assert_declares(modified_model, RobertaForMaskedLM, from_config(config))
    assert printed == text


def test_no_difference_gives_an_empty_module_that_says_so(model):
    text = generate_difference(model, RobertaForMaskedLM)
    assert text.startswith('"""No difference')
    assert "class " not in text
    assert load_generated(text).__all__ == []


def test_torch_builtins_are_written_with_their_arguments(model, config):
    layer = model.roberta.encoder.layer[1]
    layer.attention.self.query = nn.Linear(32, 32, bias=False)
    layer.output.LayerNorm = nn.LayerNorm(32, eps=1e-6, elementwise_affine=False)
    layer.intermediate.intermediate_act_fn = nn.GELU(approximate="tanh")
    layer.output.dropout = nn.Dropout(0.3)
    model.roberta.embeddings.token_type_embeddings = nn.Embedding(1, 32, padding_idx=0)
    text, _ = assert_declares(model, RobertaForMaskedLM, from_config(config))
    assert "self.query = nn.Linear(32, 32, bias=False)" in text
    assert "self.LayerNorm = nn.LayerNorm((32,), eps=1e-06, elementwise_affine=False, bias=False)" in text
    assert 'self.intermediate_act_fn = nn.GELU(approximate="tanh")' in text
    assert "self.dropout = nn.Dropout(p=0.3)" in text
    assert "self.token_type_embeddings = nn.Embedding(1, 32, padding_idx=0)" in text


def test_only_the_changed_module_list_index_is_overridden(model, config):
    model.roberta.encoder.layer[1].output.dense = nn.Linear(37, 32, bias=False)
    text, _ = assert_declares(model, RobertaForMaskedLM, from_config(config))
    assert "self.layer[1] = RobertaLayerModified(config, layer_idx=1)" in text
    assert "self.layer[0]" not in text


def test_identical_changes_share_one_class(model, config):
    for layer in model.roberta.encoder.layer:
        layer.attention.self.query = nn.Linear(32, 32, bias=False)
    text, _ = assert_declares(model, RobertaForMaskedLM, from_config(config))
    assert len(re.findall(r"class Roberta\w*SelfAttentionModified\(", text)) == 1  # v4 names it RobertaSdpa...
    assert "Modified2" not in text


def test_added_deleted_and_none_submodules(config):
    torch.manual_seed(0)
    model = RobertaModel(config)
    model.embeddings.extra = nn.Linear(32, 4)
    del model.encoder.layer[1].attention.output.dropout  # deleted, then a new module under the same name
    model.encoder.layer[1].attention.output.dropout = nn.Identity()
    model.pooler = None
    text, _ = assert_declares(model, RobertaModel, from_config(config))
    assert "self.extra = nn.Linear(32, 4)" in text
    assert "self.pooler = None" in text


def test_deleted_submodule_is_deleted(config):
    torch.manual_seed(0)
    model = RobertaModel(config)
    del model.pooler
    model.pooler = None
    plain = TinyNet()
    del plain.norm
    plain.norm = nn.Identity()
    del plain.heads["score"]
    text, _ = assert_declares(plain, TinyNet, lambda top: top(), input_ids(11))
    assert 'del self.heads["score"]' in text


def test_containers_entries_appended_truncated_and_replaced():
    torch.manual_seed(0)
    model = TinyNet()
    model.blocks[0][1] = nn.ReLU()
    model.blocks.append(nn.Sequential(nn.Linear(8, 8), nn.Tanh()))
    model.heads["new"] = nn.Linear(8, 2)
    text, _ = assert_declares(model, TinyNet, lambda top: top(), input_ids(11))
    assert "self.blocks[0][1] = nn.ReLU()" in text
    assert "self.blocks.append(nn.Sequential(nn.Linear(8, 8), nn.Tanh()))" in text
    assert 'self.heads["new"] = nn.Linear(8, 2)' in text
    shorter = TinyNet()
    del shorter.blocks[1:]
    text, _ = assert_declares(shorter, TinyNet, lambda top: top(), input_ids(11))
    assert "del self.blocks[1:]" in text


def test_parameters_and_buffers(model, config):
    output = model.roberta.encoder.layer[0].output
    output.gate = nn.Parameter(torch.randn(32))
    output.register_buffer("counts", torch.randint(0, 9, (4, 2)))
    output.register_buffer("steps", torch.arange(6).view(2, 3), persistent=False)
    output.register_buffer("mask", torch.tensor([True, False, True]), persistent=False)
    output.register_buffer("ones", torch.ones(3, 3), persistent=False)
    model.lm_head.bias = nn.Parameter(torch.zeros(99), requires_grad=False)
    text, _ = assert_declares(model, RobertaForMaskedLM, from_config(config))
    assert "self.gate = nn.Parameter(torch.zeros(32))" in text
    assert 'self.register_buffer("counts", torch.zeros(4, 2, dtype=torch.int64))' in text
    assert "torch.arange(6, dtype=torch.int64).view(2, 3), persistent=False" in text
    assert "torch.tensor([True, False, True], dtype=torch.bool), persistent=False" in text
    assert "torch.full((3, 3), 1.0, dtype=torch.float32), persistent=False" in text
    assert "def _archit_fill_buffers(self):" in text


def test_replaced_parameter_shape_and_deleted_parameter():
    torch.manual_seed(0)
    model = TinyNet()
    model.heads["tag"].weight = nn.Parameter(torch.randn(5, 8))  # same shape: state, nothing to declare
    assert generate_difference(model, TinyNet).startswith('"""No difference')
    model.blocks[1][0].register_parameter("scale", nn.Parameter(torch.ones(8)))
    del model.blocks[2][0].bias
    model.blocks[2][0].register_parameter("bias", None)
    text, _ = assert_declares(model, TinyNet, lambda top: top(), input_ids(11))
    assert "self.blocks[2][0] = nn.Linear(8, 8, bias=False)" in text
    assert "class LinearModified(nn.Linear):" in text


def test_new_non_persistent_buffer_on_meta_cannot_be_declared(config):
    with torch.device("meta"):
        model = RobertaForMaskedLM(config)
        model.lm_head.register_buffer("table", torch.randn(3), persistent=False)
    with pytest.raises(DeclarationError, match="non-persistent buffer 'table'.*meta device"):
        generate_difference(model, RobertaForMaskedLM)


def test_attributes_holding_literals_are_declared(model, config):
    model.roberta.encoder.layer[0].attention.self.scaling = 0.5
    text, _ = assert_declares(model, RobertaForMaskedLM, from_config(config))
    assert "self.scaling = 0.5" in text


def test_user_modules_recorded_or_introspected(model, config):
    with record_init_args():
        model.roberta.encoder.layer[0].attention.output.dense = ScaledLinear(32, 32, factor=3.0, bias=False)
    assert recorded_init_args(model.roberta.encoder.layer[0].attention.output.dense).values["factor"] == 3.0
    model.lm_head.dense = Residual(nn.Linear(32, 32))  # introspected: keeps its argument as self.body
    model.lm_head.decoder = CoolNewEmbeddingMatrix(99, 32)  # not a decoder, but built from its attributes
    model.lm_head.decoder = nn.Linear(32, 99)
    text, _ = assert_declares(model, RobertaForMaskedLM, from_config(config))
    assert "self.dense = ScaledLinear(32, 32, factor=3.0, bias=False)" in text
    assert "self.dense = Residual(nn.Linear(32, 32))" in text


def test_unrecorded_user_module_raises_naming_module_and_argument(model):
    model.lm_head.dense = ScaledLinear(32, 32, factor=3.0)
    with pytest.raises(DeclarationError) as error:
        generate_difference(model, RobertaForMaskedLM)
    message = str(error.value)
    assert "ScaledLinear at 'lm_head.dense'" in message
    assert "'n_in', 'n_out', 'factor', 'bias'" in message
    assert "record_init_args" in message


def test_classes_that_cannot_be_imported_raise(model):
    class Local(nn.Module):
        def __init__(self) -> None:
            super().__init__()

        def forward(self, x):
            return x

    model.lm_head.dense = Local()
    with pytest.raises(DeclarationError, match="local scope"):
        generate_difference(model, RobertaForMaskedLM)
    main_class = type("MainLinear", (nn.Identity,), {"__module__": "__main__"})
    model.lm_head.dense = main_class()
    with pytest.raises(DeclarationError, match="__main__"):
        generate_difference(model, RobertaForMaskedLM)


def test_instance_must_be_the_class(model):
    with pytest.raises(DeclarationError, match="not a RobertaModel"):
        generate_difference(model, RobertaModel)


def test_meta_instance_declares_without_parameter_memory(config):
    with torch.device("meta"):
        model = RobertaForMaskedLM(config)
        model.roberta.embeddings.word_embeddings = CoolNewEmbeddingMatrix(99, 32)
    text = generate_difference(model, RobertaForMaskedLM)
    assert "self.word_embeddings = CoolNewEmbeddingMatrix(99, 32)" in text


def test_checkpoint_loads_with_no_missing_or_unexpected_keys(config, tmp_path):
    config.tie_word_embeddings = False  # the replaced embeddings no longer share the decoder's weights
    torch.manual_seed(0)
    model = RobertaForMaskedLM(config)
    model.roberta.embeddings.word_embeddings = CoolNewEmbeddingMatrix(99, 32, scale=2.0)
    model.roberta.encoder.layer[1].output.register_buffer("steps", torch.arange(4), persistent=False)
    module = load_generated(generate_difference(model, RobertaForMaskedLM))
    model.save_pretrained(tmp_path)
    loaded, info = module.RobertaForMaskedLMModified.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert torch.equal(loaded.roberta.encoder.layer[1].output.steps, torch.arange(4))
    loaded.eval()
    model.eval()
    with torch.no_grad():
        assert_same_outputs(model(input_ids()).logits, loaded(input_ids()).logits)


def test_write_difference_is_importable_in_a_fresh_interpreter(model, tmp_path):
    model.roberta.encoder.layer[0].attention.self.key = nn.Linear(32, 32, bias=False)
    path = tmp_path / "declared_roberta.py"
    text = write_difference(model, RobertaForMaskedLM, path)
    assert path.read_text() == text
    torch.save(model.state_dict(), tmp_path / "state.pt")
    script = (
        "import torch\n"
        "from declared_roberta import RobertaForMaskedLMModified\n"
        "from tests.declaration.helpers import tiny_roberta_config\n"
        "model = RobertaForMaskedLMModified(tiny_roberta_config())\n"
        "model.load_state_dict(torch.load('state.pt'), strict=True)\n"
        "print('loaded')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("loaded")


def test_suffix_names_the_classes(model):
    model.lm_head.dense = nn.Linear(32, 32, bias=False)
    text = generate_difference(model, RobertaForMaskedLM, suffix="V2")
    assert "class RobertaForMaskedLMV2(RobertaForMaskedLM):" in text
    with pytest.raises(DeclarationError, match="suffix"):
        generate_difference(model, RobertaForMaskedLM, suffix="-x")


def test_generated_module_header_and_imports(model):
    model.lm_head.dense = nn.Linear(32, 32, bias=False)
    text = generate_difference(model, RobertaForMaskedLM)
    assert "Generated by archit.declaration.compiler from a modified instance of" in text
    assert "- lm_head.dense: replaced by Linear" in text
    assert "from torch import nn" in text
    assert "from transformers.models.roberta.modeling_roberta import RobertaForMaskedLM, RobertaLMHead" in text


def test_print_difference_prints_the_generated_text(model, capsys):
    model.lm_head.dense = nn.Identity()
    printDifference(model, RobertaForMaskedLM)
    assert capsys.readouterr().out == generate_difference(model, RobertaForMaskedLM)
