"""The experiment config: YAML or dict in, validated with attrs, a model-with-head out; each error its own."""

from __future__ import annotations

import pytest
import torch
from transformers import PretrainedConfig

from archit.errors import RegistrationError
from archit.simple.pretraining import (
    ArchitectureSpec,
    ExperimentArchitectures,
    ExperimentConfig,
    ExperimentConfigError,
    MissingArchitectureError,
    Objective,
    RNNSettings,
    SubConfigMismatchError,
    UnknownExperimentArchitectureError,
    UnsupportedObjectiveError,
    Vocabulary,
    create_model_from_config,
    register_architecture,
    train_tokenizer,
)
from tests.native.helpers import CORPUS

TINY_TRANSFORMER = {"hidden_size": 32, "num_layers": 1, "num_heads": 4, "intermediate_size": 37}
TINY_RNN = {"embedding_size": 16, "hidden_size": 24, "num_layers": 1}
BUILT_IN = [
    ("gpt2", "causal_lm", {"transformer": TINY_TRANSFORMER}, "GPT2"),
    ("bert", "masked_lm", {"transformer": TINY_TRANSFORMER}, "BERT"),
    ("lstm", "causal_lm", {"rnn": TINY_RNN}, "LSTM"),
    ("gru", "masked_lm", {"rnn": {**TINY_RNN, "bidirectional": True}}, "GRU"),
    ("rnn", "causal_lm", {"rnn": {**TINY_RNN, "nonlinearity": "relu"}}, "RNN"),
]


def test_yaml_and_dict_give_the_same_config(tmp_path) -> None:
    text = "architecture: lstm\nobjective: causal_lm\nrnn:\n  hidden_size: 24\n  num_layers: 1\n"
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    from_file, from_text = ExperimentConfig.from_yaml(path), ExperimentConfig.from_yaml(text)
    from_dict = ExperimentConfig.from_dict({"architecture": "lstm", "rnn": {"hidden_size": 24, "num_layers": 1}})
    assert from_file == from_text == from_dict
    assert from_dict.objective is Objective.CAUSAL_LM and from_dict.rnn == RNNSettings(hidden_size=24, num_layers=1)
    assert ExperimentConfig.from_dict(from_dict.to_dict()) == from_dict
    assert ExperimentConfig.from_dict({"architecture": "gpt2"}).transformer is not None  # default sub-config


def test_every_field_has_help() -> None:
    import attrs

    from archit.simple.pretraining import TransformerSettings

    for config_class in (ExperimentConfig, TransformerSettings, RNNSettings):
        assert all(field.metadata.get("help") for field in attrs.fields(config_class)), config_class


@pytest.mark.parametrize(
    ("values", "error", "fragments"),
    [
        ({}, MissingArchitectureError, ["names no architecture", "gpt2", "lstm"]),
        ({"architecture": ""}, MissingArchitectureError, ["names no architecture"]),
        ({"architecture": "lstn"}, UnknownExperimentArchitectureError, ["'lstn'", "bert, gpt2, gru, lstm, rnn"]),
        ({"architecture": "lstm", "transformer": {}}, SubConfigMismatchError, ["'rnn'", "'transformer'"]),
        ({"architecture": "gpt2", "rnn": {}}, SubConfigMismatchError, ["'transformer'", "'rnn'"]),
        ({"architecture": "lstm", "objective": "masked_lm"}, UnsupportedObjectiveError, ["bidirectional to true"]),
        (
            {"architecture": "gru", "objective": "causal_lm", "rnn": {"bidirectional": True}},
            UnsupportedObjectiveError,
            ["bidirectional to false"],
        ),
        ({"architecture": "gpt2", "objective": "masked_lm"}, UnsupportedObjectiveError, ["use architecture bert"]),
        ({"architecture": "bert", "objective": "causal_lm"}, UnsupportedObjectiveError, ["use architecture gpt2"]),
        ({"architecture": "rnn", "objective": "next_word"}, ExperimentConfigError, ["causal_lm, masked_lm"]),
        ({"architecture": "rnn", "mlm_probability": 1.5}, ExperimentConfigError, ["mlm_probability"]),
        ({"architecture": "rnn", "rnn": {"hidden": 3}}, ExperimentConfigError, ["hidden", "hidden_size"]),
        ({"architecture": "rnn", "rnn": {"num_layers": 0}}, ExperimentConfigError, ["num_layers"]),
        ({"architecture": "rnn", "rnn": {"nonlinearity": "gelu"}}, ExperimentConfigError, ["tanh, relu"]),
        (
            {"architecture": "gpt2", "transformer": {"hidden_size": 30, "num_heads": 4}},
            ExperimentConfigError,
            ["hidden_size (30)", "num_heads (4)"],
        ),
        ({"architecture": "rnn", "epochs": 3}, ExperimentConfigError, ["epochs"]),
    ],
)
def test_config_errors(values: dict, error: type[Exception], fragments: list[str]) -> None:
    with pytest.raises(error) as caught:
        ExperimentConfig.from_dict(values)
    assert isinstance(caught.value, ValueError)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_yaml_that_is_not_a_mapping() -> None:
    with pytest.raises(ExperimentConfigError, match="YAML mapping"):
        ExperimentConfig.from_yaml("- lstm\n- gru\n")


@pytest.mark.parametrize(("architecture", "objective", "sections", "family"), BUILT_IN)
def test_create_model_from_config(architecture: str, objective: str, sections: dict, family: str) -> None:
    tokenizer = train_tokenizer(CORPUS, kind="character", vocab_size=60, objective=objective)
    torch.manual_seed(0)
    model = create_model_from_config({"architecture": architecture, "objective": objective, **sections}, tokenizer)
    assert type(model).__name__ == {"causal_lm": "ForCausalLM", "masked_lm": "ForMaskedLM"}[objective]
    assert model.backbone.family.name == family
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)
    assert model.backbone.config.pad_token_id == tokenizer.pad_token_id
    batch = tokenizer(["the cat sat", "a dog"], return_tensors="pt", padding=True)
    output = model(**batch, labels=batch["input_ids"])
    assert output.logits.shape == (*batch["input_ids"].shape, len(tokenizer))
    assert torch.isfinite(output.loss)


def test_create_model_needs_a_vocabulary() -> None:
    with pytest.raises(ExperimentConfigError, match="vocab_size"):
        create_model_from_config({"architecture": "lstm"})
    model = create_model_from_config({"architecture": "lstm", "vocab_size": 50, "rnn": TINY_RNN})
    assert model.get_input_embeddings().num_embeddings == 50


def test_register_architecture() -> None:
    with ExperimentArchitectures.restoring():

        @register_architecture("wide-lstm", sub_config="rnn", objectives=("causal_lm",))
        def wide_lstm(config: ExperimentConfig, vocabulary: Vocabulary) -> PretrainedConfig:
            from archit.modeling.native import LSTMConfig

            return LSTMConfig(vocab_size=vocabulary.size, hidden_size=4 * config.rnn.hidden_size, num_hidden_layers=1)

        config = ExperimentConfig(architecture="wide-lstm", rnn=RNNSettings(hidden_size=8))
        model = create_model_from_config(config.to_dict() | {"vocab_size": 30})
        assert model.backbone.config.hidden_size == 32
        assert "wide-lstm" in ExperimentArchitectures.list()
        with pytest.raises(UnsupportedObjectiveError):
            ExperimentConfig(architecture="wide-lstm", objective="masked_lm")
        with pytest.raises(RegistrationError, match="already registered"):
            register_architecture("wide-lstm", sub_config="rnn")(wide_lstm)
        with pytest.raises(RegistrationError, match="sub_config"):
            ExperimentArchitectures.register(ArchitectureSpec("conv", wide_lstm, "cnn", lambda _: ()))
    assert "wide-lstm" not in ExperimentArchitectures


def test_the_recipe_still_imports_from_archit_modeling_native_with_a_warning() -> None:
    import archit.modeling.native
    import archit.simple.pretraining

    for name in archit.modeling.native._PRETRAINING_NAMES:
        with pytest.warns(FutureWarning, match=f"archit.simple.pretraining.{name};"):
            assert getattr(archit.modeling.native, name) is getattr(archit.simple.pretraining, name)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        archit.modeling.native.nothing  # noqa: B018


def test_unknown_architecture_lists_the_registered_ones() -> None:
    with pytest.raises(UnknownExperimentArchitectureError, match=r"Registered: bert, gpt2, gru, lstm, rnn\."):
        ExperimentArchitectures.get("cnn")
