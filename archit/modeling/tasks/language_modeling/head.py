"""Masked and causal language-modelling heads, and the family head factories that reuse pretrained ones.

The generic heads have the structure of most of transformers' own: a masked-LM head is dense → activation →
layer norm → decoder (DistilBERT, ALBERT, ELECTRA, DeBERTa; without biases as ModernBERT's, or the decoder alone
as XLM's), a causal-LM head one linear layer. Loading pairs an HF ``XForMaskedLM`` checkpoint's head with them
weight by weight (:mod:`archit.modeling.tasks.hf_heads`). A family's factory exists only where its checkpoints
hold a head of another structure (BERT's ``cls.predictions``, RoBERTa's ``lm_head``): it builds transformers' own
head module. A family without an HF class in transformers' Auto tables (one registered from user code) names
the checkpoint prefix its head is stored under. Lookup is the family's factory first, then the generic head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

import torch
from torch import nn
from transformers.activations import ACT2FN

from archit._compat import lm_head_class
from archit.errors import HeadConfigError
from archit.modeling.heads.base import HeadConfig, HeadConfigT, HeadSpec
from archit.modeling.tasks.language_modeling.config import CausalLMHeadConfig, MaskedLMHeadConfig
from archit.modeling.ties import INPUT_EMBEDDINGS
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput
from archit.registry import Registry
from archit.resolution import Family, ModelArchitectures

__all__ = [
    "HEAD_FACTORIES",
    "INPUT_EMBEDDINGS",
    "CausalLMHead",
    "MaskedLMHead",
    "RegisteredHeadFactory",
    "build_lm_head",
    "lm_head_checkpoint_prefixes",
    "register_head_factory",
]


# Config attributes naming the activation a family's own LM head uses, most specific first (ModernBERT's heads
# use classifier_activation, BERT's and ALBERT's hidden_act, DistilBERT's activation); GELU when none is set.
_ACTIVATION_ATTRIBUTES = ("classifier_activation", "hidden_act", "activation", "hidden_activation")
_NORM_EPS_ATTRIBUTES = ("layer_norm_eps", "norm_eps", "layer_norm_epsilon")


class MaskedLMHead(nn.Module):
    """Generic masked-LM head: dense → activation → LayerNorm → decoder, sized to the embedding matrix so that
    the decoder can be tied to it (ELECTRA's and ALBERT's embeddings are narrower than their hidden size). The
    activation is the backbone's (``hidden_act``...), as in transformers' own heads; with ``transform=False``
    the head is the decoder alone."""

    def __init__(self, backbone: ArchitWrapper, config: MaskedLMHeadConfig) -> None:
        super().__init__()
        embedding_size = _embedding_size(backbone)
        self.dense: nn.Linear | None = None
        self.activation: nn.Module | None = None
        self.layer_norm: nn.LayerNorm | None = None
        if config.transform:
            self.dense = nn.Linear(backbone.hidden_size, embedding_size, bias=config.transform_bias)
            activation = ACT2FN[_config_value(backbone.config, _ACTIVATION_ATTRIBUTES, str, "gelu")]
            # an activation with weights of its own (xIELU) makes them in bfloat16 unless told: the head's dtype
            self.activation = activation.to(torch.get_default_dtype())
            eps = _config_value(backbone.config, _NORM_EPS_ATTRIBUTES, float, 1e-12)
            self.layer_norm = nn.LayerNorm(embedding_size, eps=eps, bias=config.transform_bias)
        self.decoder = nn.Linear(embedding_size if config.transform else backbone.hidden_size, backbone.vocab_size)

    def forward(self, encoded: BackboneOutput, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        hidden_states = encoded.last_hidden_state
        if self.dense is not None and self.activation is not None and self.layer_norm is not None:
            hidden_states = self.layer_norm(self.activation(self.dense(hidden_states)))
        return self.decoder(hidden_states)


def _config_value(config: object, names: tuple[str, ...], kind: type, default: object) -> object:
    """The first of the config attributes ``names`` holding a ``kind`` (an activation ACT2FN knows, for
    strings), else ``default``."""
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, kind) and not isinstance(value, bool) and (kind is not str or value in ACT2FN):
            return value
    return default


class CausalLMHead(nn.Module):
    """Generic causal-LM head: one bias-free linear layer from hidden states to the vocabulary, whose logits are
    then scaled and soft-capped as the backbone's own head does: by the family's :attr:`~archit.modeling.
    ArchitWrapper.logit_scale` (Cohere, Granite), and to the config's ``final_logit_softcapping`` where it sets
    one (Gemma 2, Gemma 3n: ``cap * tanh(logits / cap)``, transformers' name for it in every family)."""

    def __init__(self, backbone: ArchitWrapper, config: CausalLMHeadConfig) -> None:
        super().__init__()
        self.decoder = nn.Linear(backbone.hidden_size, backbone.vocab_size, bias=False)
        self.logit_scale = backbone.logit_scale
        text_config = backbone.config.get_text_config() if hasattr(backbone.config, "get_text_config") else None
        self.softcap: float | None = getattr(text_config or backbone.config, "final_logit_softcapping", None)

    def forward(self, encoded: BackboneOutput, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        logits = self.decoder(encoded.last_hidden_state)
        if self.logit_scale != 1.0:
            logits = logits * self.logit_scale
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits


class _WrappedHFHead(nn.Module):
    """Calls a transformers head module (which takes the hidden states) with archit's backbone output."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, encoded: BackboneOutput, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(encoded.last_hidden_state)


def _embedding_size(backbone: ArchitWrapper) -> int:
    try:
        embeddings = backbone.get_input_embeddings()
    except NotImplementedError:
        raise HeadConfigError(
            f"{backbone.family.name} backbones have no token embedding matrix (CANINE reads Unicode code points), "
            "so there is no vocabulary for a language-modelling head to predict. Use another task or family."
        ) from None
    return getattr(embeddings, "embedding_dim", backbone.hidden_size)


HeadFactory = Callable[[ArchitWrapper, HeadConfigT], HeadSpec]
"""A family's head builder: called with the wrapped backbone and a head config of the kind it is registered for."""


@dataclass(frozen=True)
class RegisteredHeadFactory(Generic[HeadConfigT]):
    """A family's factory for one kind of head, and where the family's checkpoints keep that head.

    Args:
        family: the family's name.
        head_config_class: the kind of head the factory builds.
        build: the factory, called with the wrapped backbone and the head config.
        checkpoint_prefix: where the family's checkpoints keep this head (``"lm_head."``); ``None`` if they hold
            none or loading pairs it by itself (families in transformers' Auto tables).
        module_prefix: where that checkpoint head sits inside the module ``build`` returns.
    """

    family: str
    head_config_class: type[HeadConfigT]
    build: HeadFactory[HeadConfigT]
    checkpoint_prefix: str | None = None
    module_prefix: str = ""

    @property
    def name(self) -> str:
        return head_factory_key(self.family, self.head_config_class)

    @property
    def checkpoint_prefixes(self) -> tuple[str, str] | None:
        """``(checkpoint_prefix, module_prefix)``, or ``None`` when the checkpoints hold no such head."""
        return None if self.checkpoint_prefix is None else (self.checkpoint_prefix, self.module_prefix)

    def __repr__(self) -> str:
        return f"{self.build.__qualname__} for {self.name}"


def head_factory_key(family: str, head_config_class: type[HeadConfig]) -> str:
    """The name a family's factory for one kind of head is registered under (``"ROBERTA/MaskedLMHeadConfig"``)."""
    return f"{family}/{head_config_class.__name__}"


HEAD_FACTORIES: Registry[RegisteredHeadFactory[Any]] = Registry(
    "head factory",
    HeadConfigError,
    "Families without one use the generic head; add one with @archit.extend.register_head_factory(...).",
)
"""The family head factories, by ``"FAMILY/HeadConfigClass"``."""


def register_head_factory(
    family: Family | str,
    head_config_class: type[HeadConfigT],
    checkpoint_prefix: str | None = None,
    module_prefix: str = "",
    exist_ok: bool = False,
) -> Callable[[HeadFactory[HeadConfigT]], HeadFactory[HeadConfigT]]:
    """Decorator registering a family's factory for one kind of head (from user code too).

    Args:
        family: the family the factory serves.
        head_config_class: the kind of head it builds (``MaskedLMHeadConfig``, ``CausalLMHeadConfig``).
        checkpoint_prefix: where the family's checkpoints keep this head (``"lm_head."``), so its pretrained
            weights are loaded into the head; ``None`` if they hold none, or if the family's ``XForY`` class is in
            transformers' Auto tables (its head is then paired with the factory's by loading itself).
        module_prefix: where that checkpoint head sits inside the module the factory returns.
        exist_ok: replace an existing factory instead of raising.

    Raises:
        RegistrationError: the family already has a factory for that head and ``exist_ok`` is false.
    """
    family_name = ModelArchitectures.get(family).name

    def decorator(factory: HeadFactory[HeadConfigT]) -> HeadFactory[HeadConfigT]:
        entry = RegisteredHeadFactory(family_name, head_config_class, factory, checkpoint_prefix, module_prefix)
        HEAD_FACTORIES.register(entry, exist_ok=exist_ok)
        return factory

    return decorator


def _factory_for(family: Family, config: HeadConfig) -> RegisteredHeadFactory[Any] | None:
    key = head_factory_key(family.name, type(config))
    return HEAD_FACTORIES.get(key) if key in HEAD_FACTORIES else None


def build_lm_head(backbone: ArchitWrapper, config: MaskedLMHeadConfig | CausalLMHeadConfig) -> HeadSpec:
    """The family's factory head for ``config`` if it has one, else the generic head, tied to the embeddings."""
    factory = _factory_for(backbone.family, config)
    if factory is not None:
        return factory.build(backbone, config)
    embedding_size = _embedding_size(backbone)
    head = MaskedLMHead(backbone, config) if isinstance(config, MaskedLMHeadConfig) else CausalLMHead(backbone, config)
    tied = {"decoder.weight": INPUT_EMBEDDINGS} if head.decoder.in_features == embedding_size else {}
    return HeadSpec(head, tied_weights=tied)


def lm_head_checkpoint_prefixes(family: Family, config: HeadConfig) -> tuple[str, str] | None:
    """``(checkpoint_prefix, module_prefix)`` a family's factory declares for the head it builds (known before
    building it: the loader needs the key mapping before the model exists); ``None`` for other heads."""
    factory = _factory_for(family, config)
    return None if factory is None else factory.checkpoint_prefixes


@register_head_factory("BERT", MaskedLMHeadConfig)
def _bert_masked_lm_head(backbone: ArchitWrapper, config: MaskedLMHeadConfig) -> HeadSpec:
    return HeadSpec(
        _WrappedHFHead(lm_head_class("BertOnlyMLMHead")(backbone.config)),
        tied_weights={
            "head.predictions.decoder.weight": INPUT_EMBEDDINGS,
            "head.predictions.decoder.bias": "head.predictions.bias",
        },
    )


def _roberta_like_masked_lm_head(head_class: str) -> HeadFactory[MaskedLMHeadConfig]:
    def factory(backbone: ArchitWrapper, config: MaskedLMHeadConfig) -> HeadSpec:
        return HeadSpec(
            _WrappedHFHead(lm_head_class(head_class)(backbone.config)),
            tied_weights={"head.decoder.weight": INPUT_EMBEDDINGS, "head.decoder.bias": "head.bias"},
        )

    return factory


def _register_roberta_like_heads() -> None:
    for family, head_class in (("ROBERTA", "RobertaLMHead"), ("XLM_ROBERTA", "XLMRobertaLMHead")):
        # the class by name, imported when a head is built: importing the families' modeling code costs ~0.1 s
        factory = _roberta_like_masked_lm_head(head_class)
        register_head_factory(family, MaskedLMHeadConfig)(factory)


_register_roberta_like_heads()
