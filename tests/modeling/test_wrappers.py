"""The ``__class__`` swap: same object, same weights and outputs, one interface for every family."""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
import transformers

from archit.errors import CheckpointError, UnknownArchitectureError
from archit.instantiation.basemodels import GPT2BaseModel, RobertaBaseModel
from archit.modeling import ArchitWrapper, BaseModel, is_wrapped, unwrap, wrap
from archit.modeling.base_models import backbone_class
from archit.resolution import ModelArchitectures
from tests.comparison import assert_same_outputs
from tests.tiny_configs import HIDDEN_SIZE, TINY_CONFIGS, tiny_config

TESTED = list(TINY_CONFIGS)


def _bare_model(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    config = tiny_config(name)
    return backbone_class(ModelArchitectures.get(name), config)(config).eval()


def _reference_hidden_state(model: torch.nn.Module, batch: dict) -> torch.Tensor:
    module = model.get_encoder() if ModelArchitectures.get(model.config.model_type).uses_encoder else model
    return module(**batch).last_hidden_state


@pytest.mark.parametrize("name", TESTED)
def test_wrap_keeps_object_weights_and_hf_identity(name: str) -> None:
    model = _bare_model(name)
    original_class = type(model)
    keys = list(model.state_dict())
    attention = model.config._attn_implementation
    wrapped = wrap(model)
    assert wrapped is model
    assert isinstance(model, original_class) and isinstance(model, ArchitWrapper)
    assert type(model).__name__ == original_class.__name__
    assert list(model.state_dict()) == keys
    assert model.config._attn_implementation == attention
    assert wrap(model) is model and type(wrap(model)) is type(model)  # twice is a no-op
    assert type(wrap(_bare_model(name))) is type(model)  # the class is cached
    assert unwrap(model) is model and type(model) is original_class and not is_wrapped(model)


def test_sdpa_stays_sdpa() -> None:
    model = wrap(_bare_model("ROBERTA"))
    assert model.config._attn_implementation == "sdpa"
    loaded_eager = RobertaBaseModel(transformers.RobertaConfig(**tiny_config("ROBERTA").to_dict()))
    assert loaded_eager.config._attn_implementation == "sdpa"


@pytest.mark.parametrize("name", TESTED)
def test_encode_equals_the_hf_model_bit_for_bit(name: str, batch: dict) -> None:
    model = _bare_model(name)
    with torch.no_grad():
        reference = _reference_hidden_state(model, batch)
        output = wrap(model).encode(**batch, token_type_ids=torch.zeros_like(batch["input_ids"]))
    assert output.last_hidden_state.shape == (*batch["input_ids"].shape, HIDDEN_SIZE)
    assert torch.equal(output.last_hidden_state, reference)


@pytest.mark.parametrize("name", TESTED)
def test_encode_returns_every_layer(name: str, batch: dict) -> None:
    model = wrap(_bare_model(name))
    with torch.no_grad():
        output = model.encode(**batch, output_hidden_states=True)
    assert output.hidden_states is not None and len(output.hidden_states) >= 3
    assert all(layer.shape[-1] == HIDDEN_SIZE for layer in output.hidden_states)


@pytest.mark.parametrize("name", TESTED)
def test_facts(name: str) -> None:
    family = ModelArchitectures.get(name)
    model = wrap(_bare_model(name))
    assert model.family is family
    assert model.hidden_size == HIDDEN_SIZE
    assert 0.0 <= model.hidden_dropout_prob < 1.0
    assert model.is_causal is family.is_causal
    assert model.has_token_type_ids is family.has_token_type_ids
    assert model.vocab_size == (0x110000 if name == "CANINE" else 99)
    assert model.max_length is None or model.max_length > 0
    assert model.padding_side == family.padding_side
    assert model.tokenizer_class_name == family.tokenizer_class


@pytest.mark.parametrize("name", TESTED)
def test_pickle_deepcopy_and_torch_save_round_trips(name: str, batch: dict) -> None:
    model = wrap(_bare_model(name))
    # Pickled before any forward pass: transformers 5 installs unpicklable output-capture hooks on the first one.
    restored = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model)]
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    restored.append(torch.load(buffer, weights_only=False))
    with torch.no_grad():
        expected = model.encode(**batch).last_hidden_state
        for copy_ in restored:
            assert type(copy_) is type(model)
            assert torch.equal(copy_.encode(**batch).last_hidden_state, expected)


def test_pickle_into_a_fresh_interpreter(tmp_path, batch: dict) -> None:
    import subprocess
    import sys

    model = wrap(_bare_model("GPT2"))
    torch.save({"model": model, "batch": batch}, tmp_path / "model.pt")
    with torch.no_grad():
        torch.save(model.encode(**batch).last_hidden_state, tmp_path / "expected.pt")
    script = (
        f"import torch; saved = torch.load(r'{tmp_path}/model.pt', weights_only=False); model = saved['model']\n"
        "assert type(model).__module__ == 'archit.modeling.wrappers', type(model)\n"
        "out = model.encode(**saved['batch']).last_hidden_state\n"
        f"assert torch.equal(out, torch.load(r'{tmp_path}/expected.pt')), 'outputs differ'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


@pytest.mark.parametrize("name", TESTED)
def test_save_pretrained_is_unchanged_and_loads_in_plain_transformers(name: str, batch: dict, tmp_path) -> None:
    model = _bare_model(name)
    model.save_pretrained(tmp_path / "plain")
    wrap(model).save_pretrained(tmp_path / "wrapped")
    plain_files = sorted(path.name for path in (tmp_path / "plain").iterdir())
    assert plain_files == sorted(path.name for path in (tmp_path / "wrapped").iterdir())
    for file_name in plain_files:
        assert (tmp_path / "plain" / file_name).read_bytes() == (tmp_path / "wrapped" / file_name).read_bytes()
    loaded = transformers.AutoModel.from_pretrained(tmp_path / "wrapped").eval()
    with torch.no_grad():
        assert_same_outputs(_reference_hidden_state(loaded, batch), model.encode(**batch).last_hidden_state)


def test_base_model_names_build_and_load(tmp_path, batch: dict) -> None:
    config = tiny_config("ROBERTA")
    model = RobertaBaseModel(config)
    assert isinstance(model, transformers.RobertaModel) and isinstance(model, RobertaBaseModel)
    assert not isinstance(model, GPT2BaseModel) and isinstance(model, BaseModel)
    model.eval().save_pretrained(tmp_path)
    loaded = RobertaBaseModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, RobertaBaseModel)
    with torch.no_grad():
        assert_same_outputs(loaded.encode(**batch).last_hidden_state, model.encode(**batch).last_hidden_state)
    with pytest.raises(UnknownArchitectureError, match="builds GPT2 backbones"):
        GPT2BaseModel(config)


def test_base_model_loads_the_backbone_of_an_xfory_checkpoint(tmp_path, batch: dict) -> None:
    torch.manual_seed(0)
    hf = transformers.BertForMaskedLM(tiny_config("BERT")).eval()
    hf.save_pretrained(tmp_path)
    loaded = BaseModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, transformers.BertModel)
    with torch.no_grad():
        assert_same_outputs(loaded.encode(**batch).last_hidden_state, hf.bert(**batch).last_hidden_state)


def test_base_model_checkpoint_errors(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        BaseModel.from_pretrained(tmp_path / "missing")
    tiny_config("BERT").save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="holds a config but no weights"):
        BaseModel.from_pretrained(tmp_path)
