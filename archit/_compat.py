"""Every contact between archit and transformers that is not stable public API, in one module.

transformers renames keywords between releases (5.24 calls the generation cache ``cache``, earlier releases
``past_key_values``), changes the format of class attributes (``_tied_weights_keys``), and keeps a few tables
and hooks archit needs in private modules. Each entry here is decided by feature detection (a dataclass
field, a signature, ``hasattr``), never by a version string; its docstring says why archit needs it and which
test pins it. ``tests/test_compat.py`` checks, on every transformers version CI runs, that every entry of
``__all__`` is used somewhere in archit and that every private symbol named in :data:`PRIVATE_SYMBOLS` exists, so that a rename
fails loudly in CI instead of silently for users. No other archit module imports transformers internals
(``lint-imports`` enforces it, see ``pyproject.toml``).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPast
from transformers.models.auto import configuration_auto, modeling_auto

from archit.errors import CacheError

__all__ = [
    "CACHE_NAME",
    "LOADING_LOGGERS",
    "PRIVATE_SYMBOLS",
    "bare_model_class",
    "cache_keyword",
    "cache_of",
    "init_weights_like",
    "is_causal_only_model_type",
    "is_known_model_type",
    "is_text_model_type",
    "lm_head_class",
    "merge_cache_arguments",
    "mismatched_key_names",
    "pop_cache_argument",
    "set_attention_implementation",
    "share_output_capture_registration",
    "tied_weights_keys",
    "warmup_arguments",
]

# --- the generation cache's name --------------------------------------------------------------------------
LEGACY_CACHE_NAME = "past_key_values"
"""The cache's name up to transformers 5.23 (a deprecated alias from 5.24 on, to be removed)."""

CACHE_NAME: str = (
    "cache" if "cache" in {field.name for field in dataclasses.fields(BaseModelOutputWithPast)} else LEGACY_CACHE_NAME
)
"""The name transformers uses for the generation cache in ``forward``, ``ModelOutput`` and ``generate()``:
``cache`` from 5.24, ``past_key_values`` before. Detected from ``BaseModelOutputWithPast``'s fields.
Pinned by ``tests/modeling/test_generation.py`` (caller names, cached generation) and ``tests/test_compat.py``."""

ACCEPTED_CACHE_NAMES: tuple[str, ...] = tuple(dict.fromkeys((CACHE_NAME, LEGACY_CACHE_NAME)))
"""The names under which callers may pass a cache: both where transformers still accepts the old one."""


def pop_cache_argument(kwargs: dict[str, Any]) -> Any:
    """Remove the cache from keyword arguments under whichever accepted name it was passed, and return it.

    Raises:
        CacheError: the cache was passed under two names, or as ``cache`` to a transformers release that calls
            it ``past_key_values``.
    """
    if CACHE_NAME != "cache" and "cache" in kwargs:
        raise CacheError(
            f"The installed transformers names the generation cache {CACHE_NAME!r}; 'cache' is its name from "
            f"transformers 5.24 on. Pass {CACHE_NAME}=... instead."
        )
    given = [name for name in ACCEPTED_CACHE_NAMES if name in kwargs]
    if len(given) > 1 and all(kwargs[name] is not None for name in given):
        raise CacheError(f"The cache was passed twice, as {' and '.join(given)}; pass it once, as {CACHE_NAME}=.")
    values = [kwargs.pop(name) for name in given]
    return next((value for value in values if value is not None), None)


def merge_cache_arguments(cache: Any, past_key_values: Any) -> Any:
    """The cache of a ``forward(..., cache=None, past_key_values=None)`` that accepts both names.

    Raises:
        CacheError: as :func:`pop_cache_argument`.
    """
    given = {
        name: value for name, value in (("cache", cache), (LEGACY_CACHE_NAME, past_key_values)) if value is not None
    }
    return pop_cache_argument(given)


def cache_keyword(accepted: frozenset[str] | None) -> str | None:
    """The keyword under which a ``forward`` taking the parameters ``accepted`` (``None``: it also takes
    ``**kwargs``) expects the cache; ``None`` when it takes no cache. Backbones of the installed release use
    :data:`CACHE_NAME`; remote code written for an older release may still name it ``past_key_values``."""
    if accepted is None or CACHE_NAME in accepted:
        return CACHE_NAME
    return LEGACY_CACHE_NAME if LEGACY_CACHE_NAME in accepted else None


def cache_of(outputs: Any) -> Any:
    """The cache a model output holds (``None`` when it holds none), read without deprecation warnings."""
    if isinstance(outputs, Mapping):
        return outputs.get(CACHE_NAME)
    return getattr(outputs, CACHE_NAME, None)


# --- recording hidden states of swapped classes -----------------------------------------------------------
def _output_capture_registry() -> dict | None:
    for module_name in ("transformers.utils.output_capturing", "transformers.utils.generic"):
        try:
            registry = getattr(importlib.import_module(module_name), "_CAN_RECORD_REGISTRY", None)
        except ImportError:
            continue
        if isinstance(registry, dict):
            return registry
    return None


def share_output_capture_registration(swapped: type, original: type) -> None:
    """Let a class made by archit's ``__class__`` swap record hidden states and attentions like ``original``.

    transformers (4.57 to 5.x) keeps each model class's ``_can_record_outputs`` in the private
    ``_CAN_RECORD_REGISTRY``, keyed by ``str(model.__class__)`` and filled in ``PreTrainedModel.__init__``; a
    swapped class is never initialised, so without its own entry ``output_hidden_states=True`` would return
    nothing. Pinned by ``tests/modeling/test_wrappers.py::test_encode_returns_every_layer``.
    """
    registry = _output_capture_registry()
    if registry is not None and issubclass(original, PreTrainedModel):
        dict.__setitem__(registry, str(swapped), original._can_record_outputs)


# --- weight tying and initialisation ----------------------------------------------------------------------
TIED_WEIGHTS_AS_MAPPING: bool = hasattr(PreTrainedModel, "get_expanded_tied_weights_keys")
"""transformers 5 ties weights from a ``{target: source}`` dict in ``_tied_weights_keys``; 4.x reads a list of
targets and ties ``get_output_embeddings()`` to the input embeddings. Pinned by the tied-head tests in
``tests/modeling/test_loading.py`` and ``tests/modeling/test_tasks.py``."""


def tied_weights_keys(mapping: dict[str, str]) -> dict[str, str] | list[str]:
    """``_tied_weights_keys`` in the installed release's format, from a ``{target: source}`` mapping."""
    return dict(mapping) if TIED_WEIGHTS_AS_MAPPING else list(mapping)


def init_weights_like(model: PreTrainedModel, module: Any) -> None:
    """Initialise ``module`` as ``model`` initialises its own modules (its ``_init_weights``, the hook every
    transformers model overrides). Used for the family heads built from transformers modules (BERT's
    prediction bias); pinned by ``tests/modeling/test_tasks.py::test_every_new_weight_is_initialised``."""
    model._init_weights(module)


def set_attention_implementation(config: Any, implementation: str) -> None:
    """Ask for an attention implementation on a config before the model is built (the backbone config of an
    archit model is a sub-config, which ``from_pretrained(attn_implementation=...)`` does not reach on every
    release). Pinned by ``tests/modeling/test_loading.py::test_attention_implementation_reaches_backbone``."""
    config._attn_implementation = implementation


# --- loading ----------------------------------------------------------------------------------------------
LOADING_LOGGERS = ("transformers.modeling_utils", "transformers.utils.loading_report")
"""The loggers through which ``from_pretrained`` reports missing, unexpected and mismatched keys (archit
states those itself, in its ``LoadingReport``). Pinned by ``tests/modeling/test_loading.py``."""


def mismatched_key_names(loading_info: Mapping[str, Any]) -> list[str]:
    """The names of the mismatched weights in ``from_pretrained(..., output_loading_info=True)``'s info:
    transformers 5 lists ``(name, checkpoint shape, model shape)``, 4.x only the names."""
    return sorted(entry if isinstance(entry, str) else entry[0] for entry in loading_info.get("mismatched_keys", []))


# --- the Auto classes' tables -----------------------------------------------------------------------------
_TEXT_MAPPINGS = (
    "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",
    "MODEL_FOR_MASKED_LM_MAPPING_NAMES",
    "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES",
    "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
)


def _mapping_names(name: str) -> Mapping[str, Any]:
    return getattr(modeling_auto, name)


def is_text_model_type(model_type: str) -> bool:
    """Whether transformers maps ``model_type`` to a model that takes token ids and returns hidden states (it
    has a causal-LM, masked-LM, token- or sequence-classification class). The ``*_MAPPING_NAMES`` tables are
    module attributes of ``transformers.models.auto.modeling_auto``, not top-level exports."""
    return any(model_type in _mapping_names(name) for name in _TEXT_MAPPINGS)


def is_causal_only_model_type(model_type: str) -> bool:
    """Whether ``model_type`` is a decoder-only language model (causal LM, no masked LM, no seq2seq LM)."""
    return (
        model_type in _mapping_names("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES")
        and model_type not in _mapping_names("MODEL_FOR_MASKED_LM_MAPPING_NAMES")
        and model_type not in _mapping_names("MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES")
    )


def is_known_model_type(model_type: str) -> bool:
    """Whether transformers has a config class for ``model_type``."""
    return model_type in configuration_auto.CONFIG_MAPPING_NAMES


def bare_model_class(config: Any) -> type | None:
    """The class ``AutoModel`` builds for ``config`` (``None`` when it maps none); transformers' first choice
    where it lists several (Funnel: ``FunnelModel`` before ``FunnelBaseModel``)."""
    try:
        klass = modeling_auto.MODEL_MAPPING[type(config)]
    except KeyError:
        return None
    return klass[0] if isinstance(klass, (tuple, list)) else klass


_LM_HEAD_CLASSES = {
    "BertOnlyMLMHead": "transformers.models.bert.modeling_bert",
    "RobertaLMHead": "transformers.models.roberta.modeling_roberta",
    "XLMRobertaLMHead": "transformers.models.xlm_roberta.modeling_xlm_roberta",
}


def lm_head_class(name: str) -> type:
    """One of transformers' internal LM-head modules (``BertOnlyMLMHead``, ``RobertaLMHead``,
    ``XLMRobertaLMHead``): archit builds the family's own head so that a checkpoint's pretrained head weights
    load into it unchanged. Pinned by the masked-LM loading tests of ``tests/modeling/test_loading.py``."""
    return getattr(importlib.import_module(_LM_HEAD_CLASSES[name]), name)


# --- training arguments -----------------------------------------------------------------------------------
def warmup_arguments(ratio: float) -> dict[str, float]:
    """``TrainingArguments`` keywords for a warm-up over a share of the steps: ``warmup_ratio`` where it
    exists, else ``warmup_steps`` below 1, which transformers 5 reads as a ratio. Pinned by
    ``tests/simple/test_run.py``."""
    from transformers import TrainingArguments  # the Trainer's import chain is only needed by runs

    fields = {field.name for field in dataclasses.fields(TrainingArguments)}
    return {"warmup_ratio": ratio} if "warmup_ratio" in fields else {"warmup_steps": ratio}


# --- the private symbols above, for the test that pins them -----------------------------------------------
PRIVATE_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("transformers.models.auto.modeling_auto", "MODEL_MAPPING"),
    *(("transformers.models.auto.modeling_auto", name) for name in _TEXT_MAPPINGS),
    ("transformers.models.auto.modeling_auto", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES"),
    ("transformers.models.auto.configuration_auto", "CONFIG_MAPPING_NAMES"),
    *((module, name) for name, module in _LM_HEAD_CLASSES.items()),
    ("transformers.modeling_utils.PreTrainedModel", "_init_weights"),
    ("transformers.modeling_utils.PreTrainedModel", "_tied_weights_keys"),
    ("transformers.configuration_utils.PretrainedConfig", "_attn_implementation"),
)
"""``(module or class path, attribute)`` of every private transformers symbol archit relies on; the output
capture registry is checked separately (it moved between modules, :func:`share_output_capture_registration`)."""
