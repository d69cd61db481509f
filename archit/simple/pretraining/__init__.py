"""The pretraining recipe: language models built from scratch from one experiment config.

An :class:`ExperimentConfig` (YAML or dict) names an architecture registered in :data:`ExperimentArchitectures`
(``gpt2``, ``bert``, ``lstm``, ``gru``, ``rnn`` or one added with :func:`register_architecture`);
:func:`create_model_from_config` builds archit's ``ForCausalLM`` or ``ForMaskedLM`` over a new backbone,
:func:`train_tokenizer` trains a tokenizer with the special tokens of the objective, :func:`text_blocks` cuts
raw text into blocks and :func:`create_collator` gives transformers' collator for the objective.
"""

from archit.simple.pretraining import data as _data
from archit.simple.pretraining import experiment as _experiment
from archit.simple.pretraining import tokenization as _tokenization
from archit.simple.pretraining.data import *  # noqa: F403
from archit.simple.pretraining.experiment import *  # noqa: F403
from archit.simple.pretraining.tokenization import *  # noqa: F403

__all__ = [*_data.__all__, *_experiment.__all__, *_tokenization.__all__]
