"""One experiment config (YAML or dict) for a language model built from scratch, validated with attrs.

An :class:`ExperimentConfig` names an ``architecture`` (``gpt2``, ``bert``, ``lstm``, ``gru``, ``rnn`` or one
registered with :func:`register_architecture`), gives the sub-config that architecture takes (``transformer``
or ``rnn``), an ``objective`` (``causal_lm`` or ``masked_lm``) and ``mlm_probability``::

    architecture: lstm
    objective: causal_lm
    rnn: {embedding_size: 128, hidden_size: 128, num_layers: 2}

:func:`create_model_from_config` turns it into archit's ``ForCausalLM`` or ``ForMaskedLM`` over a new backbone;
:func:`create_collator` gives the matching transformers collator. Every mistake is caught when the config is
built, each with its own exception (all :class:`ExperimentConfigError`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import attrs
from transformers import BertConfig, GPT2Config, PretrainedConfig, PreTrainedTokenizerBase

from archit.errors import (
    ExperimentConfigError,
    MissingArchitectureError,
    RegistrationError,
    SubConfigMismatchError,
    UnknownExperimentArchitectureError,
    UnsupportedObjectiveError,
)
from archit.modeling.heads.language_modeling import CausalLMHeadConfig, MaskedLMHeadConfig
from archit.modeling.native import GRUConfig, LSTMConfig, RNNConfig
from archit.modeling.tasks import ForCausalLM, ForMaskedLM
from archit.registry import Registry
from archit.simple.options import help_text, one_of, share, whole_number
from archit.simple.pretraining.data import language_modeling_collator
from archit.validators import build_known

__all__ = [
    "ArchitectureSpec",
    "ExperimentArchitectures",
    "ExperimentConfig",
    "ExperimentConfigError",
    "MissingArchitectureError",
    "Objective",
    "RNNSettings",
    "SubConfigMismatchError",
    "TransformerSettings",
    "UnknownExperimentArchitectureError",
    "UnsupportedObjectiveError",
    "Vocabulary",
    "create_collator",
    "create_model_from_config",
    "register_architecture",
]


class Objective(str, Enum):
    """The language-modelling objectives."""

    CAUSAL_LM = "causal_lm"
    MASKED_LM = "masked_lm"


_positive = whole_number(1, ExperimentConfigError)
_probability = share(ExperimentConfigError)


def _objective(value: Objective | str) -> Objective:
    try:
        return Objective(getattr(value, "value", value))
    except ValueError:
        known = ", ".join(o.value for o in Objective)
        raise ExperimentConfigError(f"Unknown objective {value!r}; choose one of {known}.") from None


@attrs.define(kw_only=True)
class TransformerSettings:
    """The ``transformer`` sub-config: sizes of a GPT-2 or BERT backbone."""

    hidden_size: int = attrs.field(default=256, validator=_positive, metadata=help_text("Width of the hidden states."))
    num_layers: int = attrs.field(default=4, validator=_positive, metadata=help_text("Number of transformer layers."))
    num_heads: int = attrs.field(
        default=4, validator=_positive, metadata=help_text("Attention heads per layer; must divide hidden_size.")
    )
    intermediate_size: int = attrs.field(
        default=1024, validator=_positive, metadata=help_text("Width of the feed-forward layer inside each block.")
    )
    max_position_embeddings: int = attrs.field(
        default=512, validator=_positive, metadata=help_text("Longest input, in tokens.")
    )
    dropout: float = attrs.field(
        default=0.1, validator=_probability, metadata=help_text("Dropout on hidden states and attention weights.")
    )

    def __attrs_post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ExperimentConfigError(
                f"transformer.hidden_size ({self.hidden_size}) is not a multiple of transformer.num_heads "
                f"({self.num_heads}); change one of them."
            )


@attrs.define(kw_only=True)
class RNNSettings:
    """The ``rnn`` sub-config: sizes of an LSTM, GRU or RNN backbone (see ``RecurrentConfig``)."""

    embedding_size: int = attrs.field(default=256, validator=_positive, metadata=help_text("Width of the embeddings."))
    hidden_size: int = attrs.field(
        default=256, validator=_positive, metadata=help_text("Width of one direction of each recurrent layer.")
    )
    num_layers: int = attrs.field(default=2, validator=_positive, metadata=help_text("Number of recurrent layers."))
    bidirectional: bool = attrs.field(
        default=False, metadata=help_text("Also read right to left (masked LM); unidirectional for causal LM.")
    )
    dropout: float = attrs.field(
        default=0.1, validator=_probability, metadata=help_text("Dropout on the embeddings and between layers.")
    )
    tie_word_embeddings: bool = attrs.field(
        default=True, metadata=help_text("The LM head shares the embedding matrix.")
    )
    nonlinearity: str = attrs.field(
        default="tanh",
        validator=one_of(("tanh", "relu"), ExperimentConfigError),
        metadata=help_text("Nonlinearity of the plain RNN cell: tanh or relu (ignored by LSTM and GRU)."),
    )


SUB_CONFIGS: dict[str, type] = {"transformer": TransformerSettings, "rnn": RNNSettings}
SettingsT = TypeVar("SettingsT", bound=attrs.AttrsInstance)


def _sub_config(settings_class: type[SettingsT], value: Any) -> SettingsT | None:
    """A sub-config section (a mapping, or already a ``settings_class``) as a ``settings_class``.

    Raises:
        ExperimentConfigError: not a mapping, or a field ``settings_class`` does not have.
    """
    if value is None or isinstance(value, settings_class):
        return value
    if not isinstance(value, dict):
        raise ExperimentConfigError(f"A {settings_class.__name__} section must be a mapping; got {value!r}.")
    return build_known(settings_class, value, ExperimentConfigError)


def _transformer_settings(value: Any) -> TransformerSettings | None:
    return _sub_config(TransformerSettings, value)


def _rnn_settings(value: Any) -> RNNSettings | None:
    return _sub_config(RNNSettings, value)


@attrs.frozen
class Vocabulary:
    """What a new backbone needs to know about its tokenizer.

    Args:
        size: number of token ids.
        pad_token_id, bos_token_id, eos_token_id: the special ids (``None`` when the tokenizer has none).
    """

    size: int
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | None = None

    @classmethod
    def of(cls, tokenizer: PreTrainedTokenizerBase) -> Vocabulary:
        """The vocabulary of a tokenizer (``len(tokenizer)`` ids, added tokens included)."""
        bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
        return cls(len(tokenizer), tokenizer.pad_token_id, bos, eos)

    def special_ids(self) -> dict[str, int | None]:
        """The special ids as config keyword arguments."""
        return {"pad_token_id": self.pad_token_id, "bos_token_id": self.bos_token_id, "eos_token_id": self.eos_token_id}


Builder = Callable[["ExperimentConfig", Vocabulary], PretrainedConfig]
ObjectivesOf = Callable[[Any], tuple[Objective, ...]]


@attrs.frozen
class ArchitectureSpec:
    """A registered architecture.

    Args:
        name: its name in configs (``"lstm"``).
        builder: ``(config, vocabulary) -> backbone config``; the backbone class must be registered with
            ``AutoModel`` and resolve to an archit family.
        sub_config: the sub-config it takes, ``"transformer"`` or ``"rnn"``.
        objectives: the objectives it can be trained with, given its sub-config.
    """

    name: str
    builder: Builder
    sub_config: str = attrs.field()
    objectives: ObjectivesOf

    @sub_config.validator
    def _known_sub_config(self, attribute: attrs.Attribute, value: str) -> None:
        if value not in SUB_CONFIGS:
            raise RegistrationError(
                f"Architecture {self.name!r}: sub_config must be one of {', '.join(SUB_CONFIGS)}; got {value!r}."
            )


ExperimentArchitectures: Registry[ArchitectureSpec] = Registry(
    "architecture",
    UnknownExperimentArchitectureError,
    "Register a new one with @archit.simple.pretraining.register_architecture('name', sub_config=...).",
)
"""Every architecture an :class:`ExperimentConfig` can name."""


def register_architecture(
    name: str,
    *,
    sub_config: str,
    objectives: tuple[Objective | str, ...] | ObjectivesOf = (Objective.CAUSAL_LM, Objective.MASKED_LM),
    exist_ok: bool = False,
) -> Callable[[Builder], Builder]:
    """Decorator registering a builder ``(config, vocabulary) -> backbone config`` under ``name``.

    Args:
        name: the ``architecture`` value that selects it.
        sub_config: the sub-config it reads, ``"transformer"`` or ``"rnn"``.
        objectives: the objectives it supports, or a function of its sub-config returning them.
        exist_ok: replace an architecture of the same name.

    Raises:
        RegistrationError: (when decorating) the name is taken and ``exist_ok`` is false, or ``sub_config`` is
            unknown.
    """
    if callable(objectives):
        objectives_of = objectives
    else:
        fixed = tuple(_objective(o) for o in objectives)

        def objectives_of(settings: Any) -> tuple[Objective, ...]:
            return fixed

    def decorator(builder: Builder) -> Builder:
        ExperimentArchitectures.register(ArchitectureSpec(name, builder, sub_config, objectives_of), exist_ok=exist_ok)
        return builder

    return decorator


def _architecture_spec(name: str | None) -> ArchitectureSpec:
    """The architecture registered as ``name``.

    Raises:
        MissingArchitectureError: no name.
        UnknownExperimentArchitectureError: ``name`` is not registered.
    """
    if not name:
        raise MissingArchitectureError(
            f"The experiment config names no architecture; set architecture to one of "
            f"{', '.join(ExperimentArchitectures.list())}."
        )
    return ExperimentArchitectures.get(name)


def _check_architecture(instance: ExperimentConfig, attribute: attrs.Attribute, value: str | None) -> None:
    _architecture_spec(value)


@attrs.define(kw_only=True)
class ExperimentConfig:
    """What to train: an architecture, its sub-config and the objective.

    Raises:
        MissingArchitectureError: no ``architecture``.
        UnknownExperimentArchitectureError: ``architecture`` is not registered.
        SubConfigMismatchError: a sub-config the architecture does not take is given.
        UnsupportedObjectiveError: the architecture cannot be trained with ``objective``.
        ExperimentConfigError: any other invalid value (a negative size, an unknown field...).
    """

    architecture: str | None = attrs.field(
        default=None,
        validator=_check_architecture,
        metadata=help_text("gpt2, bert, lstm, gru, rnn, or a name registered with @register_architecture."),
    )
    objective: Objective = attrs.field(
        default=Objective.CAUSAL_LM,
        converter=_objective,
        metadata=help_text("causal_lm (predict the next token) or masked_lm (predict masked tokens)."),
    )
    mlm_probability: float = attrs.field(
        default=0.15, validator=_probability, metadata=help_text("Share of the tokens masked LM masks and predicts.")
    )
    vocab_size: int | None = attrs.field(
        default=None, metadata=help_text("Vocabulary size when no tokenizer is given to create_model_from_config.")
    )
    transformer: TransformerSettings | None = attrs.field(
        default=None,
        converter=_transformer_settings,
        metadata=help_text("Sizes of a transformer architecture (gpt2, bert)."),
    )
    rnn: RNNSettings | None = attrs.field(
        default=None, converter=_rnn_settings, metadata=help_text("Sizes of a recurrent architecture.")
    )

    def __attrs_post_init__(self) -> None:
        spec = self.architecture_spec
        for section in SUB_CONFIGS:
            if section != spec.sub_config and getattr(self, section) is not None:
                raise SubConfigMismatchError(
                    f"Architecture {spec.name!r} takes the {spec.sub_config!r} sub-config, but the config holds the "
                    f"{section!r} one; rename it to {spec.sub_config!r} or remove it."
                )
        if self.settings is None:
            setattr(self, spec.sub_config, SUB_CONFIGS[spec.sub_config]())
        supported = spec.objectives(self.settings)
        if self.objective not in supported:
            raise UnsupportedObjectiveError(
                f"Architecture {spec.name!r} cannot be trained with {self.objective.value} as configured; it supports "
                f"{', '.join(o.value for o in supported) or 'no objective'}. "
                + _OBJECTIVE_HINTS.get((spec.sub_config, self.objective), "Choose an architecture that supports it.")
            )

    @property
    def architecture_spec(self) -> ArchitectureSpec:
        """The registered :class:`ArchitectureSpec` of :attr:`architecture`."""
        return _architecture_spec(self.architecture)

    @property
    def settings(self) -> TransformerSettings | RNNSettings | None:
        """The sub-config the architecture takes."""
        return getattr(self, self.architecture_spec.sub_config)

    def settings_of(self, settings_class: type[SettingsT]) -> SettingsT:
        """The sub-config the architecture takes, which a builder expects to be a ``settings_class``.

        Raises:
            SubConfigMismatchError: the architecture takes another kind of sub-config.
        """
        settings = self.settings
        if not isinstance(settings, settings_class):
            raise SubConfigMismatchError(
                f"Architecture {self.architecture!r} builds from a {settings_class.__name__} sub-config, but its "
                f"{self.architecture_spec.sub_config!r} sub-config is a {type(settings).__name__}."
            )
        return settings

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExperimentConfig:
        """Build from a mapping (a parsed YAML file, say).

        Raises:
            ExperimentConfigError: an unknown key, or any error of the class itself.
        """
        return build_known(cls, values, ExperimentConfigError, "The experiment config")

    @classmethod
    def from_yaml(cls, path_or_text: str | os.PathLike) -> ExperimentConfig:
        """Build from a YAML file, or from YAML text.

        Raises:
            ExperimentConfigError: the YAML is not a mapping, or any error of :meth:`from_dict`.
            ImportError: pyyaml is not installed (``pip install archit[train]``).
        """
        try:
            import yaml
        except ImportError as error:
            raise ImportError("Reading YAML configs needs pyyaml: pip install 'archit[train]'.") from error
        text = os.fspath(path_or_text)
        if os.path.isfile(text):
            with open(text, encoding="utf-8") as handle:
                text = handle.read()
        values = yaml.safe_load(text)
        if not isinstance(values, dict):
            raise ExperimentConfigError(f"An experiment config must be a YAML mapping; got {type(values).__name__}.")
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (enums as strings), so that ``from_dict(to_dict())`` rebuilds the config."""
        return attrs.asdict(self, value_serializer=lambda _i, _a, v: v.value if isinstance(v, Enum) else v)


_OBJECTIVE_HINTS = {
    ("rnn", Objective.MASKED_LM): "Masked LM reads both directions: set rnn.bidirectional to true.",
    ("rnn", Objective.CAUSAL_LM): "Causal LM must not see the future: set rnn.bidirectional to false.",
    ("transformer", Objective.MASKED_LM): "For masked LM on a transformer, use architecture bert.",
    ("transformer", Objective.CAUSAL_LM): "For causal LM on a transformer, use architecture gpt2.",
}


def create_model_from_config(
    config: ExperimentConfig | dict[str, Any] | str | os.PathLike,
    tokenizer: PreTrainedTokenizerBase | None = None,
) -> Any:
    """A new, randomly initialised ``ForCausalLM`` or ``ForMaskedLM`` for the experiment.

    Args:
        config: an :class:`ExperimentConfig`, a mapping, or a YAML file or text.
        tokenizer: gives the vocabulary size and special ids; without it, ``config.vocab_size`` is used.

    Returns:
        archit's ``ForCausalLM`` or ``ForMaskedLM`` over a backbone of the configured architecture.

    Raises:
        ExperimentConfigError: an invalid config, or neither a tokenizer nor ``vocab_size``.
    """
    config = _as_config(config)
    if tokenizer is not None:
        vocabulary = Vocabulary.of(tokenizer)
    elif config.vocab_size is not None:
        vocabulary = Vocabulary(config.vocab_size)
    else:
        raise ExperimentConfigError("Pass a tokenizer to create_model_from_config, or set vocab_size in the config.")
    backbone_config = config.architecture_spec.builder(config, vocabulary)
    if config.objective is Objective.CAUSAL_LM:
        return ForCausalLM.from_config(backbone_config, CausalLMHeadConfig())
    return ForMaskedLM.from_config(backbone_config, MaskedLMHeadConfig())


def create_collator(config: ExperimentConfig | dict[str, Any], tokenizer: PreTrainedTokenizerBase) -> Any:
    """transformers' ``DataCollatorForLanguageModeling`` for the experiment's objective and ``mlm_probability``."""
    config = _as_config(config)
    return language_modeling_collator(tokenizer, config.objective.value, config.mlm_probability)


def _as_config(config: ExperimentConfig | dict[str, Any] | str | os.PathLike) -> ExperimentConfig:
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, dict):
        return ExperimentConfig.from_dict(config)
    return ExperimentConfig.from_yaml(config)


# --- the built-in architectures -------------------------------------------------------------------------
def _recurrent_objectives(settings: RNNSettings) -> tuple[Objective, ...]:
    return (Objective.MASKED_LM,) if settings.bidirectional else (Objective.CAUSAL_LM,)


def _recurrent_builder(config_class: type) -> Builder:
    def build(config: ExperimentConfig, vocabulary: Vocabulary) -> PretrainedConfig:
        rnn = config.settings_of(RNNSettings)
        extra = {"nonlinearity": rnn.nonlinearity} if config_class is RNNConfig else {}
        return config_class(
            vocab_size=vocabulary.size,
            embedding_size=rnn.embedding_size,
            hidden_size=rnn.hidden_size,
            num_hidden_layers=rnn.num_layers,
            bidirectional=rnn.bidirectional,
            hidden_dropout_prob=rnn.dropout,
            tie_word_embeddings=rnn.tie_word_embeddings,
            **vocabulary.special_ids(),
            **extra,
        )

    return build


for _name, _class in (("lstm", LSTMConfig), ("gru", GRUConfig), ("rnn", RNNConfig)):
    register_architecture(_name, sub_config="rnn", objectives=_recurrent_objectives)(_recurrent_builder(_class))


def _transformer_config(
    config_class: type[PretrainedConfig], sizes: TransformerSettings, vocabulary: Vocabulary, **fields: Any
) -> PretrainedConfig:
    """``config_class`` with the four sizes every transformer config knows by a standard name (under its own name
    for them, from its ``attribute_map``: GPT-2's ``n_embd``...), and ``fields``."""
    standard = {
        "hidden_size": sizes.hidden_size,
        "num_hidden_layers": sizes.num_layers,
        "num_attention_heads": sizes.num_heads,
        "max_position_embeddings": sizes.max_position_embeddings,
    }
    names = config_class.attribute_map
    return config_class(
        vocab_size=vocabulary.size, **{names.get(key, key): value for key, value in standard.items()}, **fields
    )


@register_architecture("gpt2", sub_config="transformer", objectives=(Objective.CAUSAL_LM,))
def _gpt2(config: ExperimentConfig, vocabulary: Vocabulary) -> PretrainedConfig:
    sizes = config.settings_of(TransformerSettings)
    dropouts = dict.fromkeys(("resid_pdrop", "embd_pdrop", "attn_pdrop"), sizes.dropout)
    return _transformer_config(
        GPT2Config, sizes, vocabulary, n_inner=sizes.intermediate_size, **dropouts, **vocabulary.special_ids()
    )


@register_architecture("bert", sub_config="transformer", objectives=(Objective.MASKED_LM,))
def _bert(config: ExperimentConfig, vocabulary: Vocabulary) -> PretrainedConfig:
    sizes = config.settings_of(TransformerSettings)
    dropouts = dict.fromkeys(("hidden_dropout_prob", "attention_probs_dropout_prob"), sizes.dropout)
    pad_token_id = vocabulary.pad_token_id if vocabulary.pad_token_id is not None else 0
    return _transformer_config(
        BertConfig, sizes, vocabulary, intermediate_size=sizes.intermediate_size, pad_token_id=pad_token_id, **dropouts
    )
