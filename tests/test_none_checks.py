"""The explicit checks that replaced code reading attributes of a value that may be None: each raises archit's
error with the fix, instead of an AttributeError or TypeError from deep inside."""

from __future__ import annotations

import pytest
from transformers import PretrainedConfig

from archit.errors import HeadConfigError, ModelInputError, RunConfigurationError, SubConfigMismatchError
from archit.modeling import ArchitFactory
from archit.modeling.heads.base import checked_head_config
from archit.modeling.tasks.classification.config import SequenceClassificationHeadConfig
from archit.modeling.tasks.language_modeling.config import MaskedLMHeadConfig
from archit.simple.multitask import sampling_probabilities
from archit.simple.pretraining import (
    ExperimentArchitectures,
    ExperimentConfig,
    TransformerSettings,
    Vocabulary,
    create_model_from_config,
    register_architecture,
)
from tests.tiny_configs import tiny_config


def test_multiple_choice_without_input_ids_says_what_it_reads() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="multiple_choice")
    with pytest.raises(ModelInputError, match=r"input_ids of shape \[batch_size, n_choices, seq_len\]"):
        model(input_ids=None)


def test_checked_head_config_names_the_class_it_takes() -> None:
    config = SequenceClassificationHeadConfig(num_labels=3)
    assert checked_head_config("ForMultipleChoice", config, SequenceClassificationHeadConfig) is config
    with pytest.raises(HeadConfigError, match="ForMaskedLM takes a MaskedLMHeadConfig; got NoneType"):
        checked_head_config("ForMaskedLM", None, MaskedLMHeadConfig)


def test_sampling_by_weights_needs_the_weights() -> None:
    assert sampling_probabilities({"a": 5, "b": 5}, "weights", weights={"a": 3.0, "b": 1.0}) == pytest.approx(
        {"a": 0.75, "b": 0.25}
    )
    with pytest.raises(RunConfigurationError, match="give every task a sampling_weight"):
        sampling_probabilities({"a": 5, "b": 5}, "weights")


def test_a_builder_asking_for_another_sub_config_is_told_which_it_has() -> None:
    with ExperimentArchitectures.restoring():

        @register_architecture("confused-lstm", sub_config="rnn", objectives=("causal_lm",))
        def confused(config: ExperimentConfig, vocabulary: Vocabulary) -> PretrainedConfig:
            config.settings_of(TransformerSettings)
            raise AssertionError("settings_of returned the wrong kind of sub-config")

        with pytest.raises(SubConfigMismatchError, match="builds from a TransformerSettings sub-config, but its 'rnn'"):
            create_model_from_config({"architecture": "confused-lstm", "vocab_size": 30})
