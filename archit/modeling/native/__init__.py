"""Native backbones: pure PyTorch RNN, LSTM and GRU, and any user module, with the Hugging Face API.

Importing this package registers the ``archit-rnn``, ``archit-lstm`` and ``archit-gru`` model types with
``AutoConfig`` and ``AutoModel`` and the families ``RNN``, ``LSTM`` and ``GRU`` with archit, so that their
checkpoints load with ``AutoModel.from_pretrained`` and wrap like any other backbone.

The pretraining recipe (experiment configs, tokenizer training, language-modelling data) lives in
:mod:`archit.simple.pretraining`; its names remain importable from here, with a ``FutureWarning``, until the
next minor release.
"""

import importlib
import warnings
from typing import Any

from archit.errors import NativeConfigError, RecurrentStateError
from archit.modeling.base_models import base_model_class
from archit.modeling.native.adapter import AdaptedConfig, AdaptedModel, adapt_module, register_backbone
from archit.modeling.native.cache import RecurrentCache
from archit.modeling.native.configuration import GRUConfig, LSTMConfig, RecurrentConfig, RNNConfig
from archit.modeling.native.recurrent import (
    GRUModel,
    LSTMModel,
    RecurrentModel,
    RecurrentPreTrainedModel,
    RecurrentWrapper,
    RNNModel,
)
from archit.resolution import Family

__all__ = [
    "AdaptedConfig",
    "AdaptedModel",
    "GRUBaseModel",
    "GRUConfig",
    "GRUModel",
    "LSTMBaseModel",
    "LSTMConfig",
    "LSTMModel",
    "NativeConfigError",
    "RNNBaseModel",
    "RNNConfig",
    "RNNModel",
    "RecurrentCache",
    "RecurrentConfig",
    "RecurrentModel",
    "RecurrentPreTrainedModel",
    "RecurrentStateError",
    "RecurrentWrapper",
    "adapt_module",
    "register_backbone",
]

_PRETRAINING_NAMES = (
    "ExperimentArchitectures",
    "ExperimentConfig",
    "ExperimentConfigError",
    "MissingArchitectureError",
    "Objective",
    "RNNSettings",
    "SubConfigMismatchError",
    "TokenizerKind",
    "TokenizerTrainingError",
    "TransformerSettings",
    "UnknownExperimentArchitectureError",
    "UnsupportedObjectiveError",
    "Vocabulary",
    "create_collator",
    "create_model_from_config",
    "language_modeling_collator",
    "register_architecture",
    "text_blocks",
    "train_tokenizer",
)
"""Names of :mod:`archit.simple.pretraining` this package held before the recipe moved there."""


def __getattr__(name: str) -> Any:
    # imported on first use: archit.simple.pretraining builds on this package
    if name not in _PRETRAINING_NAMES:
        raise AttributeError(f"module 'archit.modeling.native' has no attribute {name!r}")
    warnings.warn(
        f"archit.modeling.native.{name} moved to archit.simple.pretraining.{name}; import it from there "
        "(the old name goes in the next minor release).",
        FutureWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module("archit.simple.pretraining"), name)


_RECURRENT_FACTS: dict[str, Any] = {  # Family fields shared by the recurrent families
    "tokenizer_class": None,
    "is_causal": True,  # the default config is unidirectional; RecurrentWrapper reads the config
    "has_token_type_ids": False,
    "padding_side": "left",
    "dropout_attribute": "hidden_dropout_prob",
    "status": "tested",
}
for _name, _config, _model in (
    ("RNN", RNNConfig, RNNModel),
    ("LSTM", LSTMConfig, LSTMModel),
    ("GRU", GRUConfig, GRUModel),
):
    register_backbone(_config, _model, Family(_name, (_config.model_type,), **_RECURRENT_FACTS), RecurrentWrapper)

RNNBaseModel = base_model_class("RNN", "RNNBaseModel")
LSTMBaseModel = base_model_class("LSTM", "LSTMBaseModel")
GRUBaseModel = base_model_class("GRU", "GRUBaseModel")
