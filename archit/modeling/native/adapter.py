"""Give any PyTorch module that maps token ids to hidden states the Hugging Face API, as an archit family.

``adapt_module(MyModule, "my-module")`` writes a config class whose fields are ``MyModule``'s constructor
arguments and a ``PreTrainedModel`` that builds ``MyModule`` from it, registers both with ``AutoConfig`` and
``AutoModel``, and registers a :class:`~archit.resolution.Family`; from then on the module is a backbone like
BERT: ``save_pretrained``/``from_pretrained``, ``AutoModel``, ``wrap()`` and every archit head work on it.

What the module must do:

- ``__init__`` takes keyword arguments that all have JSON-serialisable defaults (they become the config);
- ``forward(input_ids, attention_mask=None)`` returns ``(batch_size, seq_len, hidden_size)`` hidden states
  (``attention_mask`` is optional in the signature; a tuple or an object with ``last_hidden_state`` is fine);
- it holds an :class:`torch.nn.Embedding` (the first one found is the input embedding, or name it).

A causal module (``causal=True``) serves causal LM and ``generate()``. By default the adapter's cache is the
token history and each step re-runs the prefix; a module whose ``forward`` also takes ``state=`` and returns
``(hidden_states, state)`` (state: a tensor or tuple of tensors, batch first) is stepped one token at a time.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from typing import Any, ClassVar

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel

from archit.errors import AdaptedOutputError, ModelInputError, NativeConfigError, RecurrentStateError
from archit.modeling.backbones import register_backbone
from archit.modeling.native.cache import CachedBackboneMixin, RecurrentCache, as_recurrent_cache
from archit.resolution import Family

__all__ = ["AdaptedConfig", "AdaptedModel", "adapt_module", "register_backbone"]

_HIDDEN_SIZE_NAMES = ("hidden_size", "d_model", "n_embd", "dim", "embed_dim", "embedding_dim", "width")
_DROPOUT_NAMES = ("hidden_dropout_prob", "hidden_dropout", "dropout", "dropout_rate", "resid_pdrop")


class AdaptedConfig(PretrainedConfig):
    """Config of an adapted module: its constructor arguments (:attr:`module_arguments`) plus transformers' own.

    Subclasses are made by :func:`adapt_module`; each constructor argument is an attribute of the config.

    Args:
        use_cache: a causal module returns its cache for generation by default.
        num_hidden_layers: 1 unless the module takes it: the adapter's cache holds one state (transformers'
            ``generate()`` reads this to size the cache it creates before the adapter replaces it).
        **kwargs: the module's constructor arguments (defaults: the constructor's) and
            :class:`~transformers.PretrainedConfig`'s (``pad_token_id``...).
    """

    model_type = "archit-adapted"
    module_arguments: ClassVar[dict[str, Any]] = {}
    """The module's constructor arguments and their defaults."""

    def __init__(self, use_cache: bool = True, **kwargs: Any) -> None:
        values = {name: kwargs.pop(name, default) for name, default in self.module_arguments.items()}
        self.use_cache = use_cache
        if "num_hidden_layers" not in self.module_arguments:
            # what transformers' generate() sizes its default cache by; the adapter's cache holds one state
            self.num_hidden_layers = kwargs.pop("num_hidden_layers", 1)
        super().__init__(**kwargs)
        for name, value in values.items():
            setattr(self, name, value)

    def module_kwargs(self) -> dict[str, Any]:
        """The keyword arguments to build the module with."""
        return {name: getattr(self, name) for name in self.module_arguments}


class AdaptedModel(CachedBackboneMixin, PreTrainedModel):
    """A user module with the ``PreTrainedModel`` API; made by :func:`adapt_module`.

    Its ``forward`` (:class:`~archit.modeling.native.cache.CachedBackboneMixin`) takes ``input_ids`` only (the
    module embeds them); a causal module continues from the cache, a non-causal one returns none.
    ``hidden_states`` are (embedding output, last hidden state).

    The module sits at ``self.module``. Its weights are initialised as PyTorch initialises them: each
    submodule's ``reset_parameters()``, children before parents, so a module that defines its own
    ``reset_parameters()`` has the last word.

    Class attributes:
        module_class: the user module class.
        is_causal_module: the module reads left to right only, so it can generate.
        embeddings_path: dotted path of the input :class:`~torch.nn.Embedding` inside the module.
    """

    config_class = AdaptedConfig
    base_model_prefix = "adapted"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False
    module_class: ClassVar[type[nn.Module]]
    is_causal_module: ClassVar[bool] = False
    embeddings_path: ClassVar[str | None] = None

    def __init__(self, config: AdaptedConfig) -> None:
        super().__init__(config)
        self.module = self.module_class(**config.module_kwargs())
        self.post_init()

    @classmethod
    def _is_stateful_module(cls) -> bool:
        return "state" in _forward_parameters(cls.module_class)  # type: ignore[arg-type]  # mypy sees no class as Hashable (python/mypy#11470)

    @classmethod
    def _accepts_attention_mask(cls) -> bool:
        return "attention_mask" in _forward_parameters(cls.module_class)  # type: ignore[arg-type]  # mypy sees no class as Hashable (python/mypy#11470)

    def _embeddings_location(self) -> tuple[nn.Module, str]:
        path = self.embeddings_path or next(
            (name for name, child in self.module.named_modules() if isinstance(child, nn.Embedding)), None
        )
        if path is None:
            raise NativeConfigError(
                f"{self.module_class.__name__} holds no torch.nn.Embedding; adapt_module needs one as input "
                "embedding. Pass embeddings='dotted.path' to adapt_module if yours is another module."
            )
        parent, _, name = path.rpartition(".")
        return (self.module.get_submodule(parent) if parent else self.module), name

    def get_input_embeddings(self) -> nn.Module:
        parent, name = self._embeddings_location()
        return getattr(parent, name)

    def set_input_embeddings(self, value: nn.Module) -> None:
        parent, name = self._embeddings_location()
        setattr(parent, name, value)

    def _init_weights(self, module: nn.Module) -> None:
        reset = getattr(module, "reset_parameters", None)
        if isinstance(module, nn.MultiheadAttention):  # its input projection is its own parameter, reset here
            reset = module._reset_parameters
        if callable(reset) and module is not self:
            reset()

    def _inputs(self, input_ids: torch.LongTensor | None, inputs_embeds: torch.Tensor | None) -> torch.Tensor:
        if input_ids is None or inputs_embeds is not None:
            raise ModelInputError(f"{type(self).__name__} takes input_ids (its module embeds them), not inputs_embeds.")
        return input_ids

    def _cache(self, cache: Any, use_cache: bool) -> RecurrentCache | None:
        if not self.is_causal_module and cache is not None and cache.get_seq_length() > 0:
            raise RecurrentStateError(
                f"{type(self).__name__} adapts a non-causal module: it cannot continue from a cache. "
                "Adapt it with causal=True if it reads left to right only."
            )
        return as_recurrent_cache(cache, use_cache, batch_dim=0) if self.is_causal_module else None

    def _encode(
        self, inputs: torch.Tensor, attention_mask: torch.Tensor | None, cache: RecurrentCache | None, keep_all: bool
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        captured: list[torch.Tensor] = []
        hook = None
        if keep_all:
            hook = self.get_input_embeddings().register_forward_hook(lambda _m, _i, output: captured.append(output))
        try:
            hidden = self._run_module(inputs, attention_mask, cache)
        finally:
            if hook is not None:
                hook.remove()
        return hidden, (captured[0][:, -hidden.shape[1] :], hidden) if keep_all else None

    def _run_module(
        self, input_ids: torch.LongTensor, attention_mask: torch.Tensor | None, cache: RecurrentCache | None
    ) -> torch.Tensor:
        """The module's hidden states for ``input_ids``, continuing from ``cache``: ``(batch, seq_len, hidden)``."""
        seq_len = input_ids.shape[1]
        if self._is_stateful_module():
            state = cache.get_state(0) if cache is not None else None
            inputs = self._module_inputs(input_ids, attention_mask)
            hidden, state = self.module(**inputs, state=state[0] if state is not None and len(state) == 1 else state)
            if cache is not None:
                cache.update_state(tuple(state) if isinstance(state, (tuple, list)) else (state,), 0)
            return _hidden_states(hidden)
        history = cache.get_state(0) if cache is not None else None
        if history is not None:  # no state: re-run the prefix with the new tokens
            past_ids, past_mask = history
            input_ids = torch.cat([past_ids, input_ids], dim=1)
            if attention_mask is not None and attention_mask.shape[1] != input_ids.shape[1]:
                attention_mask = torch.cat([past_mask, attention_mask[:, -seq_len:]], dim=1)
        if cache is not None:
            mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
            cache.update_state((input_ids, mask[:, -input_ids.shape[1] :]), 0)
        hidden = _hidden_states(self.module(**self._module_inputs(input_ids, attention_mask)))
        return hidden[:, -seq_len:]

    def _module_inputs(self, input_ids: torch.LongTensor, attention_mask: torch.Tensor | None) -> dict[str, Any]:
        inputs: dict[str, Any] = {"input_ids": input_ids}
        if self._accepts_attention_mask():
            inputs["attention_mask"] = None if attention_mask is None else attention_mask[:, -input_ids.shape[1] :]
        return inputs


@functools.cache
def _forward_parameters(module_class: type[nn.Module]) -> frozenset[str]:
    return frozenset(inspect.signature(module_class.forward).parameters)


def _hidden_states(output: Any) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    if getattr(output, "last_hidden_state", None) is not None:
        return output.last_hidden_state
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise AdaptedOutputError(
        f"An adapted module must return hidden states (a tensor, a tuple starting with one, or an object with "
        f"last_hidden_state); got a {type(output).__name__}."
    )


def _module_arguments(module_class: type[nn.Module], defaults: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments of ``module_class`` and their defaults, ``defaults`` taking precedence.

    Raises:
        NativeConfigError: an argument has no default, or ``defaults`` names an argument that does not exist.
    """
    parameters = list(inspect.signature(module_class.__init__).parameters.values())[1:]
    named = [p for p in parameters if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    unknown = sorted(set(defaults) - {p.name for p in named})
    if unknown:
        raise NativeConfigError(
            f"defaults names {', '.join(unknown)}, which {module_class.__name__}.__init__ does not take; its "
            f"arguments are {', '.join(p.name for p in named) or 'none'}."
        )
    required = [p.name for p in named if p.default is inspect.Parameter.empty and p.name not in defaults]
    if required:
        raise NativeConfigError(
            f"{module_class.__name__}.__init__ has arguments without a default ({', '.join(required)}); transformers "
            "builds configs without arguments, so give each one a default (in the signature or in defaults=)."
        )
    return {p.name: defaults.get(p.name, p.default) for p in named}


def _camel_case(model_type: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", model_type) if part)


def adapt_module(
    module_class: type[nn.Module],
    model_type: str,
    *,
    causal: bool = False,
    family_name: str | None = None,
    hidden_size: str | None = None,
    embeddings: str | None = None,
    class_name: str | None = None,
    defaults: dict[str, Any] | None = None,
    exist_ok: bool = False,
    **family_facts: Any,
) -> tuple[type[AdaptedConfig], type[AdaptedModel]]:
    """Turn ``module_class`` into a transformers backbone and an archit family.

    Args:
        module_class: an :class:`~torch.nn.Module` whose ``forward(input_ids, attention_mask=None)`` returns
            ``(batch_size, seq_len, hidden_size)`` hidden states; every constructor argument needs a default.
        model_type: the new ``config.model_type`` (``"tiny-transformer"``), registered with ``AutoConfig``.
        causal: the module reads left to right only (a decoder): it can do causal LM and ``generate()``.
        family_name: the archit family's name; the model type in upper case (``"TINY_TRANSFORMER"``) by default.
        hidden_size: the constructor argument that holds the output width, when not one of ``hidden_size``,
            ``d_model``, ``n_embd``, ``dim``, ``embed_dim``, ``embedding_dim``, ``width``.
        embeddings: dotted path of the input embedding module; the first :class:`~torch.nn.Embedding` otherwise.
        class_name: prefix of the new classes' names (``<class_name>Config``, ``<class_name>Model``); the model
            type in camel case by default. Assign the classes to these names to make wrapped models picklable.
        defaults: config defaults that differ from the constructor's (``{"causal": True}``).
        exist_ok: replace an earlier adaptation with the same names.
        **family_facts: further :class:`~archit.resolution.Family` facts (``padding_side``, ``tokenizer_class``...).

    Returns:
        The config class and the model class, both registered.

    Raises:
        NativeConfigError: a constructor argument has no default, none holds the hidden size, or ``defaults``
            names an argument the constructor does not have.
        RegistrationError: the model type or family name is taken and ``exist_ok`` is false.
    """
    arguments = _module_arguments(module_class, defaults or {})
    width = hidden_size or next((name for name in _HIDDEN_SIZE_NAMES if name in arguments), None)
    if width is None or width not in arguments:
        raise NativeConfigError(
            f"Cannot tell which argument of {module_class.__name__} is the hidden size (arguments: "
            f"{', '.join(arguments) or 'none'}); pass hidden_size='<argument name>' to adapt_module."
        )
    prefix = class_name or _camel_case(model_type)
    caller = sys._getframe(1).f_globals.get("__name__", __name__)
    config_namespace: dict[str, Any] = {
        "__module__": caller,
        "__qualname__": f"{prefix}Config",
        "__doc__": f"Config of the adapted {module_class.__name__}: its constructor arguments.",
        "model_type": model_type,
        "module_arguments": arguments,
        "__init__": AdaptedConfig.__init__,  # explicit: transformers 5 would generate one that skips it
    }
    if width != "hidden_size":
        config_namespace["attribute_map"] = {"hidden_size": width}
    config_class = type(f"{prefix}Config", (AdaptedConfig,), config_namespace)
    model_class = type(
        f"{prefix}Model",
        (AdaptedModel,),
        {
            "__module__": caller,
            "__qualname__": f"{prefix}Model",
            "__doc__": f"{module_class.__name__} with the transformers PreTrainedModel API.",
            "config_class": config_class,
            "base_model_prefix": re.sub(r"\W", "_", model_type),
            "module_class": module_class,
            "is_causal_module": causal,
            "embeddings_path": embeddings,
        },
    )
    dropout = next((name for name in _DROPOUT_NAMES if name in arguments), None)
    facts: dict[str, Any] = {"has_token_type_ids": False, "dropout_attribute": dropout, "is_causal": causal}
    facts.update({"padding_side": "left"} if causal else {})
    name = family_name or re.sub(r"\W", "_", model_type).upper()
    register_backbone(
        config_class, model_class, Family(name, (model_type,), **{**facts, **family_facts}), None, exist_ok
    )
    return config_class, model_class
