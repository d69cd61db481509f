"""Resolving families from every kind of input, and registering families from user code."""

from __future__ import annotations

import json

import pytest
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers.models.auto import configuration_auto

from archit.errors import RegistrationError, UnknownArchitectureError
from archit.modeling import BaseModel, wrap
from archit.resolution import Family, ModelArchitectures, get_tokenizer_class, resolve, tokenizer_map
from tests.tiny_configs import TINY_CONFIGS, tiny_config

TESTED = list(TINY_CONFIGS)


def test_every_tested_family_has_a_tiny_config() -> None:
    # archit's own native families (LSTM...) are tested in tests/native.
    tested = {
        family.name
        for family in ModelArchitectures
        if family.status == "tested" and family.model_types[0] in configuration_auto.CONFIG_MAPPING_NAMES
    }
    assert tested == set(TINY_CONFIGS)


@pytest.mark.parametrize("name", TESTED)
def test_resolve_from_each_input_kind(name: str, tmp_path) -> None:
    family = ModelArchitectures.get(name)
    config = tiny_config(name)
    assert resolve(config.model_type) is family
    assert resolve(name) is family
    assert resolve(family) is family
    assert resolve(config) is family
    config.save_pretrained(tmp_path)
    assert resolve(str(tmp_path)) is family
    assert resolve(tmp_path) is family
    model = BaseModel(config)
    assert resolve(model) is family


@pytest.mark.parametrize("name", TESTED)
def test_tokenizer_map_names_existing_classes(name: str) -> None:
    klass = get_tokenizer_class(name)
    assert issubclass(klass, transformers.PreTrainedTokenizerBase)
    assert tokenizer_map()[name] == ModelArchitectures.get(name).tokenizer_class


def _wordpiece_vocabulary(path) -> str:
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s"]))
    return str(vocab_file)


def test_resolve_from_bert_tokenizers_slow_and_fast(tmp_path) -> None:
    vocab_file = _wordpiece_vocabulary(tmp_path)
    fast = transformers.BertTokenizerFast(vocab_file=vocab_file)
    assert resolve(fast) is ModelArchitectures.BERT
    if hasattr(transformers, "BertTokenizer"):
        assert resolve(transformers.BertTokenizer(vocab_file=vocab_file)) is ModelArchitectures.BERT


def test_resolve_from_a_tokenizer_saved_beside_its_config(tmp_path) -> None:
    tiny_config("GPT2").save_pretrained(tmp_path)
    backend = Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(tokenizer_object=backend).save_pretrained(tmp_path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert resolve(tokenizer) is ModelArchitectures.GPT2


def test_generic_tokenizer_without_config_names_the_fix() -> None:
    backend = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=backend)
    with pytest.raises(UnknownArchitectureError, match="Pass the model, its config or its checkpoint directory"):
        resolve(tokenizer)


def test_unregistered_text_model_type_resolves_to_generic() -> None:
    assert resolve("megatron-bert") is ModelArchitectures.GENERIC
    config = transformers.MegatronBertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37
    )
    assert resolve(transformers.MegatronBertModel(config)) is ModelArchitectures.GENERIC


def test_non_text_model_type_raises_with_the_families_and_the_fix() -> None:
    with pytest.raises(UnknownArchitectureError) as error:
        resolve("vit")
    message = str(error.value)
    assert "'vit' produces no text hidden states" in message
    assert "BERT" in message and "ROBERTA" in message
    assert "ModelArchitectures.register(Family(...))" in message
    with pytest.raises(UnknownArchitectureError, match="known neither to archit nor to transformers"):
        resolve("no-such-model-type")


def test_missing_config_in_directory_raises_checkpoint_error(tmp_path) -> None:
    from archit.errors import CheckpointError

    with pytest.raises(CheckpointError, match="has no config.json"):
        resolve(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="is not valid JSON"):
        resolve(tmp_path)


def test_archit_config_resolves_to_its_backbone(tmp_path) -> None:
    backbone = tiny_config("ROBERTA").to_dict()
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "archit", "backbone_config": backbone}))
    assert resolve(tmp_path) is ModelArchitectures.ROBERTA


def test_register_a_family_from_user_code() -> None:
    with ModelArchitectures.restoring():
        megatron = ModelArchitectures.register(
            Family("MEGATRON_BERT", ("megatron-bert",), "BertTokenizer", status="registered")
        )
        assert resolve("megatron-bert") is megatron
        assert ModelArchitectures.MEGATRON_BERT is megatron
        assert "MEGATRON_BERT" in ModelArchitectures.list("*bert*")
        with pytest.raises(RegistrationError, match="already registered .*; pass exist_ok=True"):
            ModelArchitectures.register(Family("MEGATRON_BERT", ("megatron-bert",)))
        with pytest.raises(RegistrationError, match="already belongs to family BERT"):
            ModelArchitectures.register(Family("OTHER", ("bert",)))
        replaced = ModelArchitectures.register(Family("MEGATRON_BERT", ("megatron-bert",)), exist_ok=True)
        assert resolve("megatron-bert") is replaced
    assert "MEGATRON_BERT" not in ModelArchitectures
    assert resolve("megatron-bert") is ModelArchitectures.GENERIC


def test_family_entries_are_validated() -> None:
    with pytest.raises(RegistrationError, match="upper-case identifier"):
        Family("my-bert", ("x",))
    with pytest.raises(RegistrationError, match="write model_types=\\('bert',\\)"):
        Family("X", "bert")


def test_list_filters_and_sorts_naturally() -> None:
    assert ModelArchitectures.list("*bert", exclude_filters=["*distil*"]) == ["ALBERT", "BERT", "MODERNBERT"]
    with ModelArchitectures.restoring():
        for name in ("T11", "T2"):
            ModelArchitectures.register(Family(name, (name.lower(),)))
        assert ModelArchitectures.list("T*") == ["T2", "T5", "T11"]


def test_unknown_family_name_lists_the_registered_ones() -> None:
    with pytest.raises(UnknownArchitectureError, match="Unknown family .NOPE.. Registered: ALBERT, BART"):
        ModelArchitectures.get("NOPE")


def test_wrapped_model_still_resolves() -> None:
    model = wrap(transformers.BertModel(tiny_config("BERT")))
    assert resolve(model) is ModelArchitectures.BERT
