"""``ArchitWrapper``: one interface over every backbone, by swapping the loaded object's class.

``wrap(model)`` does not copy or re-nest the model. It gives the object a new class that derives from the
family's wrapper and from the object's own class, so the state dict, ``isinstance`` relations and every HF
method stay as they were, and the object gains ``encode()`` and the family's facts. The new classes are
cached per (wrapper, HF class, family), are attributes of this module, and pickle through
:func:`_rebuild_wrapped`, so ``pickle``, ``copy.deepcopy`` and ``torch.save`` work in a fresh interpreter too.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, SupportsIndex, TypeVar

import torch
from torch import nn
from transformers import PretrainedConfig
from transformers.utils import ModelOutput

from archit._compat import (
    CACHE_NAME,
    cache_is_empty,
    cache_keyword,
    cache_of,
    is_causal_only_model_type,
    pop_cache_argument,
    share_output_capture_registration,
)
from archit.errors import CacheError, RegistrationError, UnknownArchitectureError
from archit.registry import Registry
from archit.resolution import Family, ModelArchitectures, resolve

__all__ = [
    "ArchitWrapper",
    "BackboneOutput",
    "CanineWrapper",
    "ReformerWrapper",
    "GenericWrapper",
    "WRAPPERS",
    "get_wrapper_class",
    "is_wrapped",
    "register_wrapper",
    "unwrap",
    "wrap",
]

ModelT = TypeVar("ModelT", bound=nn.Module)

# Config attributes that hold the hidden dropout probability, for families without an entry.
_DROPOUT_ATTRIBUTES = ("hidden_dropout_prob", "hidden_dropout", "dropout", "resid_pdrop", "dropout_rate")
_MAX_LENGTH_ATTRIBUTES = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length")


@dataclasses.dataclass
class BackboneOutput(ModelOutput):
    """What :meth:`ArchitWrapper.encode` returns.

    Args:
        last_hidden_state: ``(batch_size, seq_len, hidden_size)``, the output of the last layer.
        hidden_states: one ``(batch_size, seq_len, hidden_size)`` tensor per layer (embeddings first), when
            requested with ``output_hidden_states=True``.
        cache: the backbone's cache, when a causal backbone was called with ``use_cache=True``; the field is
            ``past_key_values`` before transformers 5.24, named as the installed release names it (``CACHE_NAME``).
        pooler_output: ``(batch_size, hidden_size)``, the backbone's own pooled output where it has a pooler.
    """

    last_hidden_state: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    if CACHE_NAME == "cache":
        cache: Any = None
    else:
        past_key_values: Any = None
    pooler_output: torch.FloatTensor | None = None


class family_fact:  # noqa: N801 (used like @property)
    """A read-only property that yields to an instance attribute of the same name.

    Some HF models set attributes such as ``self.vocab_size`` in ``__init__``; a plain property would make
    those assignments fail when a wrapped class is instantiated, so the instance value wins when present.
    """

    def __init__(self, getter: Callable[[Any], Any]) -> None:
        self.getter = getter
        self.__doc__ = getter.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else self.getter(instance)


class ArchitWrapper:
    """The normalised backbone interface archit's heads rely on; a mixin placed before the HF class.

    Class attributes of a swapped class:
        family: the :class:`~archit.resolution.Family` the model belongs to.
        _archit_unwrapped_class: the HF class the object had before wrapping.
        _archit_wrapper_class: the wrapper class that was mixed in.
    """

    family: ClassVar[Family]
    _archit_unwrapped_class: ClassVar[type[nn.Module]]
    _archit_wrapper_class: ClassVar[type[ArchitWrapper]]

    if TYPE_CHECKING:
        # What the HF model class the wrapper is mixed before provides (a PreTrainedModel's API).
        config: PretrainedConfig

        def get_input_embeddings(self) -> nn.Module: ...
        def set_input_embeddings(self, value: nn.Module) -> None: ...
        def get_encoder(self) -> nn.Module: ...
        def named_modules(self) -> Iterator[tuple[str, nn.Module]]: ...
        def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...
        def resize_token_embeddings(
            self, new_num_tokens: int | None = None, pad_to_multiple_of: int | None = None, mean_resizing: bool = True
        ) -> nn.Embedding: ...

        supports_gradient_checkpointing: bool

        def __getstate__(self) -> dict[str, Any]: ...

    @classmethod
    def wrap(cls, model: ModelT, family: Family | str | None = None) -> ModelT:
        """Give ``model`` this wrapper's interface in place and return it (already wrapped: unchanged).

        Called on :class:`ArchitWrapper` itself, the wrapper registered for the model's family is used.

        Raises:
            UnknownArchitectureError: the model's family cannot be resolved.
        """
        if isinstance(model, ArchitWrapper):
            return model
        family = resolve(model) if family is None else ModelArchitectures.get(family)
        wrapper = get_wrapper_class(family) if cls is ArchitWrapper else cls
        model.__class__ = _swapped_class(wrapper, type(model), family)
        return model

    @classmethod
    def is_custom_code(cls) -> bool:
        """Whether the wrapped class is custom code, as transformers 5 asks before it applies a model type's
        checkpoint conversions (MoE experts stored one tensor per expert, fused on loading). The swapped class
        lives in archit, but its weights are the HF class's: it answers for the HF class. Pinned by the MoE types
        of ``tests/test_coverage_matrix.py`` (``hf`` check)."""
        unwrapped = getattr(cls._archit_unwrapped_class, "is_custom_code", None)  # absent before transformers 5
        return unwrapped() if unwrapped is not None else False

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple:
        # Rebuild the swapped class from its parts, so unpickling needs no prior wrap() in the new process.
        parts = (self._archit_wrapper_class, self._archit_unwrapped_class, self.family)
        return _rebuild_wrapped, parts, self.__getstate__()

    # --- the interface -------------------------------------------------------------------------------
    def encoder_module(self) -> nn.Module:
        """The module ``encode`` calls: the model itself, or the encoder of an encoder-decoder model (BART,
        T5, Marian, Pegasus...: families marked ``uses_encoder``, and any model whose config says so)."""
        if self.family.uses_encoder or getattr(self.config, "is_encoder_decoder", False):
            return self.get_encoder()
        return self

    def encode(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        **kwargs: Any,
    ) -> BackboneOutput:
        """Run the backbone and return its hidden states.

        Args:
            input_ids: ``(batch_size, seq_len)`` token ids.
            attention_mask: ``(batch_size, seq_len)``, 1 for real tokens and 0 for padding.
            token_type_ids: ``(batch_size, seq_len)`` segment ids; ignored by families without them.
            output_hidden_states: also return the hidden states of every layer.
            **kwargs: passed on to the backbone when its ``forward`` accepts them (``inputs_embeds``,
                ``position_ids``, ``use_cache``...); the cache under either name transformers accepts
                (``cache`` from 5.24, ``past_key_values``), passed on under the name the backbone takes.

        Returns:
            :class:`BackboneOutput` with ``last_hidden_state`` of shape ``(batch_size, seq_len, hidden_size)``.

        Raises:
            CacheError: ``use_cache=True`` or a cache was given, and the backbone takes or returns no cache.
        """
        cache = pop_cache_argument(kwargs)
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, **kwargs}
        if token_type_ids is not None and self.has_token_type_ids:
            inputs["token_type_ids"] = token_type_ids
        if self.is_causal:
            inputs.setdefault("use_cache", False)
        inputs.update(output_hidden_states=output_hidden_states, return_dict=True)
        encoder = self.encoder_module()
        accepted = _forward_parameters(type(encoder))  # type: ignore[arg-type]  # mypy sees no class as Hashable (python/mypy#11470)
        wants_cache = bool(inputs.get("use_cache"))
        if cache is not None or wants_cache:
            inputs.update(self._cache_inputs(encoder, accepted, cache))
        outputs = encoder(**{name: value for name, value in inputs.items() if accepted is None or name in accepted})
        last_hidden_state = getattr(outputs, "last_hidden_state", None)
        if last_hidden_state is None and outputs.hidden_states is None:
            # Models returning no last_hidden_state (Llama 4's multimodal class) give it as the last layer.
            kwargs.update({CACHE_NAME: cache} if cache is not None else {})
            return self.encode(input_ids, attention_mask, token_type_ids, output_hidden_states=True, **kwargs)
        if last_hidden_state is None:
            last_hidden_state = outputs.hidden_states[-1]
        returned_cache = cache_of(outputs)
        if wants_cache and (returned_cache is None or cache_is_empty(returned_cache)):
            # an empty cache after a forward pass: the backbone ignored it (an encoder asked for a cache)
            raise CacheError(
                f"use_cache=True asked {type(encoder).__name__} for its generation cache and it returned "
                f"{'none' if returned_cache is None else 'an empty one'}; generation would silently recompute "
                "every step. Pass use_cache=False."
            )
        return BackboneOutput(
            last_hidden_state=last_hidden_state,
            hidden_states=outputs.hidden_states if output_hidden_states else None,
            pooler_output=getattr(outputs, "pooler_output", None),
            **{CACHE_NAME: returned_cache},
        )

    def _cache_inputs(self, encoder: nn.Module, accepted: frozenset[str] | None, cache: Any) -> dict[str, Any]:
        """The cache under the keyword the backbone's ``forward`` takes it by.

        Raises:
            CacheError: the backbone is not causal, or its ``forward`` takes no cache or no ``use_cache``.
        """
        keyword = cache_keyword(accepted)
        if not self.is_causal:
            raise CacheError(
                f"{type(encoder).__name__} reads in both directions: its states change with every new token, so "
                "a cache of earlier states would be wrong. Call it without a cache and with use_cache=False."
            )
        if keyword is None or (accepted is not None and "use_cache" not in accepted):
            raise CacheError(
                f"{type(encoder).__name__}.forward takes no generation cache (no {CACHE_NAME} and use_cache "
                "parameters); call it without a cache and with use_cache=False."
            )
        return {} if cache is None else {keyword: cache}

    # --- facts -------------------------------------------------------------------------------------
    @family_fact
    def hidden_size(self) -> int:
        """Width of the hidden states ``encode`` returns."""
        config = self.config.get_text_config() if hasattr(self.config, "get_text_config") else self.config
        for name in ("hidden_size", "d_model", "n_embd", "dim", "embed_dim"):
            value = getattr(config, name, None)
            if isinstance(value, int):
                return value
        return self.get_input_embeddings().embedding_dim

    @family_fact
    def hidden_dropout_prob(self) -> float:
        """Dropout for heads: the config's hidden dropout, else the family's ``default_dropout`` (0.1)."""
        names: tuple[str, ...] = (self.family.dropout_attribute,) if self.family.dropout_attribute else ()
        if self.family is ModelArchitectures.GENERIC:
            names = _DROPOUT_ATTRIBUTES
        for name in names:
            value = getattr(self.config, name, None)
            if isinstance(value, (int, float)):
                return float(value)
        return self.family.default_dropout

    @family_fact
    def is_causal(self) -> bool:
        """Whether the backbone attends left to right only."""
        if self.family is ModelArchitectures.GENERIC:
            return bool(getattr(self.config, "is_decoder", False)) or is_causal_only_model_type(self.config.model_type)
        return self.family.is_causal

    @family_fact
    def has_token_type_ids(self) -> bool:
        """Whether ``encode`` passes segment ids on to the backbone."""
        if self.family is ModelArchitectures.GENERIC:
            module_class = type(self.encoder_module())
            accepted = _forward_parameters(module_class) or {"token_type_ids"}  # type: ignore[arg-type]  # mypy sees no class as Hashable (python/mypy#11470)
            return "token_type_ids" in accepted and getattr(self.config, "type_vocab_size", 0) > 0
        return self.family.has_token_type_ids

    @family_fact
    def vocab_size(self) -> int:
        """Number of distinct input ids (rows of the input embedding matrix)."""
        return self.get_input_embeddings().num_embeddings

    @family_fact
    def max_length(self) -> int | None:
        """Most tokens one forward pass takes (``None`` for position-free backbones such as T5): the config's
        number of positions, less those reserved before the first token (:attr:`position_offset`)."""
        for name in _MAX_LENGTH_ATTRIBUTES:
            value = getattr(self.config, name, None)
            if isinstance(value, int):
                return value - self.position_offset
        return None

    @family_fact
    def position_offset(self) -> int:
        """Positions reserved before the first token: the family's ``position_offset`` where it states one, else
        RoBERTa's convention read from the model itself. A position embedding with a padding index (RoBERTa,
        XLM-RoBERTa, CamemBERT, Data2VecText, RoBERTa-PreLayerNorm, XLM-RoBERTa-XL, MPNet...) numbers real tokens
        from ``padding_idx + 1``, so that many of its rows are never a token's position."""
        if self.family.position_offset:
            return self.family.position_offset
        for name, module in self.named_modules():
            if name.endswith("position_embeddings"):  # an nn.Embedding, or I-BERT's QuantEmbedding
                padding_idx = getattr(module, "padding_idx", None)
                return padding_idx + 1 if isinstance(padding_idx, int) else 0
        return 0

    @family_fact
    def logit_scale(self) -> float:
        """The factor the backbone's own causal-LM head scales its logits by: the config value the family's
        ``logit_scale_attribute`` names (its inverse where the family divides), else 1."""
        name = self.family.logit_scale_attribute
        value = getattr(self.config, name, None) if name is not None else None
        if value is None:
            return 1.0
        return 1.0 / value if self.family.logit_scale_divides else float(value)

    @family_fact
    def padding_side(self) -> str:
        """Where the family's tokenizer pads."""
        return self.family.padding_side

    @family_fact
    def tokenizer_class_name(self) -> str | None:
        """Name of the family's tokenizer class in transformers."""
        return self.family.tokenizer_class


class GenericWrapper(ArchitWrapper):
    """The wrapper of every family without quirks: ``encode`` calls the model's own ``forward``."""


class CanineWrapper(ArchitWrapper):
    """CANINE reads Unicode code points through hash embeddings: it has no embedding matrix to count."""

    UNICODE_CODE_POINTS = 0x110000

    @family_fact
    def vocab_size(self) -> int:
        return self.UNICODE_CODE_POINTS


class ReformerWrapper(ArchitWrapper):
    """Reformer's output joins its two reversible streams: twice ``config.hidden_size`` wide."""

    @family_fact
    def hidden_size(self) -> int:
        return 2 * self.config.hidden_size

    @family_fact
    def is_causal(self) -> bool:
        return bool(self.config.is_decoder)


WRAPPERS: Registry[type[ArchitWrapper]] = Registry(
    "wrapper",
    UnknownArchitectureError,
    "Families without one use GenericWrapper; register one with @archit.extend.register_wrapper(family).",
)
"""The family-specific wrappers, by family name."""
WRAPPERS.register(CanineWrapper, "CANINE")
WRAPPERS.register(ReformerWrapper, "REFORMER")


def register_wrapper(family: Family | str, exist_ok: bool = False) -> Callable[[type], type]:
    """Class decorator registering a wrapper for a family (from user code too).

    Raises:
        RegistrationError: the class does not derive from :class:`ArchitWrapper`, or the family already has
            a wrapper and ``exist_ok`` is false.
    """
    name = ModelArchitectures.get(family).name

    def decorator(wrapper: type) -> type:
        if not (isinstance(wrapper, type) and issubclass(wrapper, ArchitWrapper)):
            raise RegistrationError(f"A wrapper must subclass archit.modeling.ArchitWrapper; got {wrapper!r}.")
        return WRAPPERS.register(wrapper, name, exist_ok=exist_ok)

    return decorator


def get_wrapper_class(family: Family | str) -> type[ArchitWrapper]:
    """The wrapper registered for a family; :class:`GenericWrapper` when it has none."""
    name = ModelArchitectures.get(family).name
    return WRAPPERS.get(name) if name in WRAPPERS else GenericWrapper


def wrap(model: ModelT, family: Family | str | None = None) -> ModelT:
    """Wrap ``model`` in place with its family's wrapper and return it; see :meth:`ArchitWrapper.wrap`."""
    return ArchitWrapper.wrap(model, family)


def unwrap(model: ModelT) -> ModelT:
    """Give a wrapped model its original class back, in place, and return it (unwrapped: unchanged)."""
    if isinstance(model, ArchitWrapper):
        model.__class__ = model._archit_unwrapped_class
    return model


def is_wrapped(model: Any) -> bool:
    """Whether ``model`` has been through :func:`wrap`."""
    return isinstance(model, ArchitWrapper)


_SWAPPED: dict[tuple[type, type, Family], type] = {}


def _swapped_class(wrapper: type[ArchitWrapper], original: type, family: Family) -> type:
    key = (wrapper, original, family)
    swapped = _SWAPPED.get(key)
    if swapped is None:
        if not issubclass(original, nn.Module):
            raise UnknownArchitectureError(f"Only torch modules can be wrapped; got a {original.__name__}.")
        module = sys.modules[__name__]
        attribute = f"{wrapper.__name__}_{family.name}_{original.__name__}"
        if hasattr(module, attribute):  # same names, other classes (user code redefining a class)
            attribute += f"_{len(_SWAPPED)}"
        namespace = {
            "__module__": __name__,
            "__qualname__": attribute,
            "__doc__": original.__doc__,
            "family": family,
            "_archit_unwrapped_class": original,
            "_archit_wrapper_class": wrapper,
        }
        # __name__ stays the HF class's, so save_pretrained writes the same "architectures" entry.
        swapped = type(original.__name__, (wrapper, original), namespace)
        share_output_capture_registration(swapped, original)
        setattr(module, attribute, swapped)
        _SWAPPED[key] = swapped
    return swapped


@functools.cache
def _forward_parameters(module_class: type[nn.Module]) -> frozenset[str] | None:
    """Names ``forward`` accepts; ``None`` when it also takes ``**kwargs``."""
    parameters = inspect.signature(module_class.forward).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return frozenset(parameters)


def _rebuild_wrapped(wrapper: type[ArchitWrapper], original: type, family: Family) -> ArchitWrapper:
    return object.__new__(_swapped_class(wrapper, original, family))
