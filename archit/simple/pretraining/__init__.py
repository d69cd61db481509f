"""The pretraining recipe: language models built from scratch from one experiment config.

An :class:`ExperimentConfig` (YAML or dict) names an architecture registered in :data:`ExperimentArchitectures`
(``gpt2``, ``bert``, ``lstm``, ``gru``, ``rnn`` or one added with :func:`register_architecture`);
:func:`create_model_from_config` builds archit's ``ForCausalLM`` or ``ForMaskedLM`` over a new backbone,
:func:`train_tokenizer` trains a tokenizer with the special tokens of the objective, :func:`text_blocks` cuts
raw text into blocks and :func:`create_collator` gives transformers' collator for the objective.
"""

from archit.errors import (
    ExperimentConfigError,
    MissingArchitectureError,
    SubConfigMismatchError,
    TokenizerTrainingError,
    UnknownExperimentArchitectureError,
    UnsupportedObjectiveError,
)
from archit.simple.pretraining.data import language_modeling_collator, text_blocks
from archit.simple.pretraining.experiment import (
    ArchitectureSpec,
    ExperimentArchitectures,
    ExperimentConfig,
    Objective,
    RNNSettings,
    TransformerSettings,
    Vocabulary,
    create_collator,
    create_model_from_config,
    register_architecture,
)
from archit.simple.pretraining.tokenization import TokenizerKind, special_tokens, train_tokenizer

__all__ = [
    "ArchitectureSpec",
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
    "special_tokens",
    "text_blocks",
    "train_tokenizer",
]
