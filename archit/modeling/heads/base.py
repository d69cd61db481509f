"""What every head shares: its attrs config base class, the registry of head configs, :class:`HeadSpec` (what
every task's ``build_head`` returns), initialisation and pooling."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import attrs
import torch
from torch import nn

from archit import validators
from archit.errors import HeadConfigError
from archit.registry import Registry
from archit.validators import Validator, build_known, share, whole_number

__all__ = [
    "HEAD_CONFIGS",
    "HeadConfig",
    "HeadSpec",
    "head_config_from_dict",
    "checked_head_config",
    "evolve_by_name",
    "init_linear",
    "one_of",
    "positive_int",
    "probability",
    "pool",
    "register_head_config",
    "resolve_pooling",
    "POOLING_METHODS",
]

HeadConfigT = TypeVar("HeadConfigT", bound="HeadConfig")

POOLING_METHODS = ("auto", "first", "last", "mean", "pooler")
"""How a sequence is reduced to one vector: ``auto`` is ``last`` on causal backbones and ``first`` elsewhere."""


positive_int = whole_number(1, HeadConfigError)
"""attrs validator: a whole number of at least 1."""

probability = attrs.validators.optional(share(HeadConfigError))
"""attrs validator: ``None`` (use the backbone's) or a number in [0, 1)."""


def one_of(choices: tuple[str, ...]) -> Validator:
    """attrs validator: one of the given strings."""
    return validators.one_of(choices, HeadConfigError)


HEAD_CONFIGS: Registry[type[HeadConfig]] = Registry(
    "head config class",
    HeadConfigError,
    "Import the module that defines it (decorated with @register_head_config) before loading.",
)
"""The head config classes a saved config can name, by class name."""


def register_head_config(klass: type[HeadConfigT]) -> type[HeadConfigT]:
    """Class decorator: make a head config loadable from the ``head_config`` entry of a saved config.

    Raises:
        RegistrationError: another class of that name is registered already.
    """
    HEAD_CONFIGS.register(klass, klass.__name__)
    return klass


@attrs.define(kw_only=True)
class HeadConfig:
    """Base class of head configs: typed fields with defaults and validation, serialisable to JSON.

    Args:
        dropout: dropout before the head's layers; ``None`` takes the backbone's ``hidden_dropout_prob``.
    """

    dropout: float | None = attrs.field(
        default=None, validator=probability, metadata={"help": "dropout in the head; None: the backbone's"}
    )

    head_type: ClassVar[str] = "head"

    def to_dict(self) -> dict[str, Any]:
        """The fields and the class name, as plain JSON values."""
        return {"class": type(self).__name__, **attrs.asdict(self)}

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls: type[HeadConfigT], values: dict[str, Any]) -> HeadConfigT:
        """Rebuild a config from :meth:`to_dict` output (extra keys raise ``HeadConfigError``)."""
        return build_known(cls, {key: value for key, value in values.items() if key != "class"}, HeadConfigError)

    @classmethod
    def field_names(cls) -> set[str]:
        return {field.name for field in attrs.fields(cls)}


def evolve_by_name(config: HeadConfigT, changes: Mapping[str, Any]) -> HeadConfigT:
    """``config`` with the fields named in ``changes`` replaced, for fields known by name at run time only (those
    of :meth:`HeadConfig.field_names`, a subclass's ``num_labels``), which ``attrs.evolve`` cannot check statically.

    Raises:
        TypeError: ``config`` has no field of one of the names (as ``attrs.evolve``).
    """
    return attrs.evolve(config, **changes)


def checked_head_config(owner: str, head_config: HeadConfig | None, expected: type[HeadConfigT]) -> HeadConfigT:
    """``head_config``, checked to be of the class ``expected`` that ``owner`` (a task class's name) takes.

    Raises:
        HeadConfigError: ``head_config`` is not an ``expected`` (or is ``None``).
    """
    if not isinstance(head_config, expected):
        raise HeadConfigError(
            f"{owner} takes a {expected.__name__}; got {type(head_config).__name__}. Build one, e.g. "
            f"{expected.__name__}()."
        )
    return head_config


def head_config_from_dict(values: dict[str, Any]) -> HeadConfig:
    """Rebuild any registered head config from its :meth:`HeadConfig.to_dict` output.

    Raises:
        HeadConfigError: the class named in ``values`` is not registered.
    """
    return HEAD_CONFIGS.get(str(values.get("class"))).from_dict(values)


@dataclass
class HeadSpec:
    """A head, as a task's ``build_head`` returns it, and the weights it shares.

    Args:
        module: the head; called with the backbone's :class:`~archit.modeling.BackboneOutput` (and the
            attention mask).
        tied_weights: parameter names inside the head (target) → the name of the parameter they share,
            inside the head or :data:`~archit.modeling.ties.INPUT_EMBEDDINGS`.
    """

    module: nn.Module
    tied_weights: dict[str, str] = field(default_factory=dict)


def init_linear(module: nn.Module, std: float = 0.02) -> None:
    """Initialise a head's ``Linear`` and ``LayerNorm`` layers like BERT does (normal(0, std), zero bias)."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        if module.weight is not None:
            nn.init.ones_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def resolve_pooling(backbone: Any, method: str) -> str:
    """The pooling a head uses on ``backbone``: ``auto`` becomes ``last`` on causal backbones and ``first``
    elsewhere; ``pooler`` needs a backbone with its own pooler.

    Raises:
        HeadConfigError: ``pooler`` on a backbone without a pooler.
    """
    if method == "auto":
        return "last" if backbone.is_causal else "first"
    if method == "pooler" and getattr(backbone, "pooler", None) is None:
        raise HeadConfigError(
            f"pooling='pooler' needs a backbone with its own pooler; {type(backbone).__name__} has none. "
            "Use pooling='first', 'last' or 'mean'."
        )
    return method


def pool(
    hidden_states: torch.Tensor,
    attention_mask: torch.Tensor | None,
    method: str,
    pooler_output: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reduce ``[batch_size, seq_len, hidden_size]`` to ``[batch_size, hidden_size]``.

    Args:
        hidden_states: the backbone's last hidden states.
        attention_mask: ``[batch_size, seq_len]``, 1 for real tokens; right or left padding.
        method: ``first``, ``last`` (the last real token), ``mean`` (over real tokens) or ``pooler``.
        pooler_output: the backbone's own pooled output, for ``pooler``.
    """
    if method == "first":
        return hidden_states[:, 0]
    if method == "pooler":
        return pooler_output
    if attention_mask is None:
        attention_mask = torch.ones(hidden_states.shape[:2], dtype=torch.long, device=hidden_states.device)
    if method == "last":
        positions = torch.arange(hidden_states.shape[1], device=hidden_states.device)
        # [batch_size]: index of the last real token, whichever side the padding is on
        last = (attention_mask.bool() * positions).argmax(dim=-1)
        return hidden_states[torch.arange(hidden_states.shape[0], device=hidden_states.device), last]
    weights = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
