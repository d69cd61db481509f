"""Every contact between archit and transformers that is not stable public API, in one module.

transformers renames keywords between releases (5.24 calls the generation cache ``cache``, earlier releases
``past_key_values``), changes the format of class attributes (``_tied_weights_keys``), and keeps a few tables
and hooks archit needs in private modules. Each entry here is decided by feature detection (a dataclass
field, a signature, ``hasattr``), never by a version string; its docstring says why archit needs it and which
test pins it. ``tests/test_compat.py`` checks, on every transformers version CI runs, that every entry of
``__all__`` is used somewhere in archit and that every private symbol named in :data:`PRIVATE_SYMBOLS` exists,
so that a rename
fails loudly in CI instead of silently for users. No other archit module imports transformers internals
(``lint-imports`` enforces it, see ``pyproject.toml``).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import re
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping
from typing import Any

import transformers
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPast
from transformers.models.auto import configuration_auto, modeling_auto

from archit.errors import CacheError

__all__ = [
    "CACHE_NAME",
    "KEY_MAPPING_RENAMES_BACKBONE_PREFIX",
    "LOADING_LOGGERS",
    "PRIVATE_SYMBOLS",
    "bare_model_class",
    "cache_is_empty",
    "cache_keyword",
    "cache_of",
    "decoder_free_attributes",
    "forget_key_mapping",
    "hf_task_class",
    "init_weights_like",
    "is_loading_report_message",
    "is_causal_only_model_type",
    "is_known_model_type",
    "is_text_model_type",
    "lm_head_class",
    "make_known_to_pipelines",
    "merge_cache_arguments",
    "mismatched_keys",
    "pop_adapter_path",
    "pop_cache_argument",
    "remote_code_class",
    "saved_names",
    "set_attention_implementation",
    "share_output_capture_registration",
    "sequential_training_order",
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


def cache_is_empty(cache: Any) -> bool:
    """Whether a cache a forward pass returned holds nothing of it. transformers 5 counts the tokens an attention
    cache holds (``get_seq_length``); a cache of state-space layers only (Mamba's, FalconMamba's) holds no tokens
    and raises there, so it is empty when its layers hold no state yet (``has_previous_state``). Pinned by the
    Mamba cells of ``tests/test_coverage_matrix.py`` and ``tests/modeling/test_generation.py``."""
    try:
        return cache.get_seq_length() == 0
    except ValueError:
        if not hasattr(cache, "has_previous_state"):  # transformers 4.x: no state-space layers to ask
            raise
        return not cache.has_previous_state()


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


def share_output_capture_registration(swapped: type, original: type[nn.Module]) -> None:
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


def decoder_free_attributes(model_class: type[PreTrainedModel]) -> dict[str, Any]:
    """Class attributes for a subclass of an encoder-decoder ``model_class`` (BART, mBART) built without its
    decoder: its declared ties without the decoder's (``_tied_weights_keys``, a dict in transformers 5, a list of
    weights tied to the input embeddings in 4.x), and for transformers 4, whose ``tie_weights()`` also calls each
    model's own ``_tie_weights`` hook (BART's reaches into the decoder), a hook that ties the rest. Pinned by
    ``tests/modeling/test_checkpoint_heads.py::test_bart_leaves_its_decoder_behind``."""
    declared = model_class._tied_weights_keys or ()
    if isinstance(declared, Mapping):
        kept: dict[str, str] | list[str] = {k: v for k, v in declared.items() if not k.startswith("decoder.")}
    else:
        kept = [name for name in declared if not name.startswith("decoder.")]
    attributes: dict[str, Any] = {"_tied_weights_keys": kept}
    if not TIED_WEIGHTS_AS_MAPPING:

        def _tie_weights(self: PreTrainedModel) -> None:
            if getattr(self.config, "tie_word_embeddings", True):
                for name in kept:
                    self.get_submodule(name.rpartition(".")[0]).weight = self.get_input_embeddings().weight

        attributes["_tie_weights"] = _tie_weights
    return attributes


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
"""The loggers through which ``from_pretrained`` reports missing, unexpected and mismatched keys. Pinned by
``tests/modeling/test_checkpoint_heads.py::test_loading_keeps_transformers_warnings_but_the_key_lists``."""

_LOADING_REPORT_MESSAGES = (
    # transformers 5: one table of MISSING / UNEXPECTED / MISMATCH keys, "<Class> LOAD REPORT from: <path>"
    re.compile(r"LOAD REPORT(\x1b\[[0-9;]*m)? from: "),
    # transformers 4: one message per list
    re.compile(r"^Some weights of .* (were not used when initializing|were not initialized from the model checkpoint)"),
)


KEY_MAPPING_RENAMES_BACKBONE_PREFIX: bool = importlib.util.find_spec("transformers.core_model_loading") is not None
"""Whether ``from_pretrained(key_mapping=...)`` can move a checkpoint's backbone to another prefix (Llama's
``LlamaForQuestionAnswering`` stores it under ``transformer.``, archit under ``model.``). transformers 5's loader
(``transformers.core_model_loading``) renames keys before it looks for the backbone prefix; 4.x looks at the
checkpoint's own names first, decides the backbone is missing its prefix and adds it to every key. Pinned by
the Llama question-answering case of ``tests/modeling/test_checkpoint_heads.py``."""


def is_loading_report_message(message: str) -> bool:
    """Whether a transformers log message is one of the key lists archit's ``LoadingReport`` states itself (and
    replaces). Every other message (``... will NOT tie them``, ``This checkpoint seem corrupted``, offloading
    notes) is not. Pinned by ``tests/modeling/test_checkpoint_heads.py``
    (``test_loading_keeps_transformers_warnings_but_the_key_lists``) on every CI version."""
    return any(pattern.search(message) for pattern in _LOADING_REPORT_MESSAGES)


def mismatched_keys(
    loading_info: Mapping[str, Any],
) -> list[tuple[str, tuple[int, ...] | None, tuple[int, ...] | None]]:
    """``(name, checkpoint shape, model shape)`` of the mismatched weights in ``from_pretrained(...,
    output_loading_info=True)``'s info: transformers 5 gives the shapes, 4.x only the names (``None`` shapes).
    Pinned by ``tests/modeling/test_checkpoint_heads.py::test_mismatch_errors_give_the_checkpoints_shape``."""
    entries: list[tuple[str, tuple[int, ...] | None, tuple[int, ...] | None]] = []
    for entry in loading_info.get("mismatched_keys", []):
        if isinstance(entry, str):
            entries.append((entry, None, None))
        else:
            name, checkpoint_shape, model_shape = entry
            entries.append((name, tuple(checkpoint_shape), tuple(model_shape)))
    return sorted(entries)


def saved_names(model: PreTrainedModel) -> dict[str, str]:
    """``{parameter name: the name save_pretrained stores it under}`` for the parameters of ``model`` (which may
    be on the meta device) that are stored under another name. transformers 5 saves some models in their
    original format (``GPTNeoXForCausalLM``'s ``lm_head`` as ``embed_out``), through the private
    ``transformers.core_model_loading.revert_weight_conversion``; transformers 4 names parameters as it stores
    them (an empty dict). Pinned by the GPT-NeoX cases of ``tests/modeling/test_checkpoint_heads.py``."""
    if not KEY_MAPPING_RENAMES_BACKBONE_PREFIX:
        return {}
    from transformers.core_model_loading import revert_weight_conversion

    parameters = dict(model.named_parameters(remove_duplicate=False))
    try:
        reverted = revert_weight_conversion(model, dict(parameters))
    except Exception:  # noqa: BLE001 (a conversion that cannot run on the meta device: keep the names)
        return {}
    stored = {id(tensor): name for name, tensor in reverted.items()}
    return {name: stored[id(tensor)] for name, tensor in parameters.items() if stored.get(id(tensor), name) != name}


def forget_key_mapping(model: PreTrainedModel, patterns: Mapping[str, str]) -> None:
    """Stop ``save_pretrained`` from writing weights loaded through ``key_mapping=patterns`` back under their
    checkpoint names. transformers 5 keeps the renamings a load used in the private ``model._weight_conversions``
    and reverts them on saving (``save_original_format=True``); archit maps an HF ``XForY`` head into its own
    ``head.`` and wants its checkpoints in its own layout. transformers 4 keeps nothing (a no-op). Pinned by
    ``tests/modeling/test_checkpoint_heads.py::test_a_reused_head_is_saved_in_archits_layout``."""
    conversions = getattr(model, "_weight_conversions", None)
    if not conversions:
        return
    mapped = set(patterns)

    def sources(conversion: Any) -> set[str]:
        # transformers rewrites source_patterns as it compiles them and keeps what it was given aside
        given = getattr(conversion, "_original_source_patterns", None) or getattr(conversion, "source_patterns", None)
        return {given} if isinstance(given, str) else set(given or ())

    model._weight_conversions = [conversion for conversion in conversions if not sources(conversion) & mapped]


ADAPTER_PATH_KEY = "_adapter_model_path"
"""The private ``adapter_kwargs`` entry through which transformers' Auto classes tell a model class's
``from_pretrained`` where the PEFT adapter they found is (the same in transformers 4.57 and 5.x)."""


def pop_adapter_path(adapter_kwargs: dict[str, Any]) -> str | None:
    """Remove and return the adapter an Auto class found (see :data:`ADAPTER_PATH_KEY`) from ``adapter_kwargs``;
    ``None`` when it names none. archit attaches that adapter itself, after loading the base checkpoint. Pinned by
    ``tests/simple/test_lora_runs.py::test_every_loader_gives_the_trained_model`` (the Auto class with an
    adapter directory)."""
    path = adapter_kwargs.pop(ADAPTER_PATH_KEY, None)
    return None if path is None else str(path)


# --- the Auto classes' tables -----------------------------------------------------------------------------
_TEXT_MAPPINGS = (
    "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",
    "MODEL_FOR_MASKED_LM_MAPPING_NAMES",
    "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES",
    "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
)
_TASK_MAPPINGS = {
    "AutoModelForTokenClassification": "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES",
    "AutoModelForSequenceClassification": "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
    "AutoModelForQuestionAnswering": "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES",
    "AutoModelForMultipleChoice": "MODEL_FOR_MULTIPLE_CHOICE_MAPPING_NAMES",
    "AutoModelForMaskedLM": "MODEL_FOR_MASKED_LM_MAPPING_NAMES",
    "AutoModelForCausalLM": "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",
}


def _mapping_names(name: str) -> MutableMapping[str, Any]:
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
    """Whether transformers has a config class for ``model_type``, its own or one registered with
    ``AutoConfig.register`` (``CONFIG_MAPPING``, where ``CONFIG_MAPPING_NAMES`` lists transformers' own only):
    a checkpoint of such a type loads without its custom code, as transformers loads it. Pinned by the
    remote-code tests of ``tests/modeling/test_checkpoint_heads.py``."""
    return model_type in configuration_auto.CONFIG_MAPPING


def bare_model_class(config: Any) -> type | None:
    """The class ``AutoModel`` builds for ``config`` (``None`` when it maps none); transformers' first choice
    where it lists several (Funnel: ``FunnelModel`` before ``FunnelBaseModel``)."""
    try:
        klass = modeling_auto.MODEL_MAPPING[type(config)]
    except KeyError:
        return None
    return klass[0] if isinstance(klass, (tuple, list)) else klass


def make_known_to_pipelines(model_type: str, auto_class: str, class_names: tuple[str, ...]) -> None:
    """Let transformers' pipelines take archit's task classes without logging "The model '...' is not supported
    for <task>". A pipeline (``fill-mask``, ``text-generation``, ``text-classification``...) checks the model's
    class name against its Auto class's ``*_MAPPING_NAMES`` table, which ``AutoModelFor....register`` does not
    fill, so ``class_names`` are listed there under ``model_type`` (a type ``CONFIG_MAPPING_NAMES`` does not hold,
    so that the Auto classes themselves never read the entry). The entry goes first: transformers 4.x's check
    takes the table's last value to say whether registered classes come in tuples. Pinned by the pipeline cases
    of ``tests/modeling/test_conformance.py``."""
    table = _mapping_names(_TASK_MAPPINGS[auto_class])
    table[model_type] = class_names[0] if len(class_names) == 1 else class_names
    if isinstance(table, OrderedDict):
        table.move_to_end(model_type, last=False)


def hf_task_class(auto_class: str, model_type: str) -> type[PreTrainedModel] | None:
    """The transformers class an Auto class builds for ``model_type`` (``("AutoModelForTokenClassification",
    "roberta")`` gives ``RobertaForTokenClassification``); ``None`` when it maps none. Read from the Auto class's
    ``*_MAPPING_NAMES`` table, so that no model class is imported but the one asked for. Pinned by the
    family-by-task matrix of ``tests/modeling/test_checkpoint_heads.py``."""
    name = _mapping_names(_TASK_MAPPINGS[auto_class]).get(model_type)
    return getattr(transformers, name, None) if isinstance(name, str) else None


def remote_code_class(config: Any, auto_class: str = "AutoModel") -> type:
    """The class a checkpoint's own code (``auto_map`` in its config, loaded with ``trust_remote_code=True``)
    registers for ``auto_class``, imported from the checkpoint's directory or hub repository as transformers does
    (``transformers.dynamic_module_utils``, not a documented module). Pinned by
    ``tests/modeling/test_checkpoint_heads.py::test_remote_code_checkpoints``."""
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    return get_class_from_dynamic_module(config.auto_map[auto_class], config._name_or_path)


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


def sequential_training_order() -> dict[str, str]:
    """``TrainingArguments`` fields that make the ``Trainer`` take the training set in its own order
    (``train_sampling_strategy="sequential"`` where it exists); ``{}`` before it (transformers 4.57), where the
    ``Trainer`` shuffles. Multi-task runs use it to keep the sampler's order of task batches; pinned by
    ``tests/simple/test_multitask.py::test_round_robin_keeps_its_order``."""
    from transformers import TrainingArguments

    fields = {field.name for field in dataclasses.fields(TrainingArguments)}
    return {"train_sampling_strategy": "sequential"} if "train_sampling_strategy" in fields else {}


# --- the private symbols above, for the test that pins them -----------------------------------------------
PRIVATE_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("transformers.models.auto.modeling_auto", "MODEL_MAPPING"),
    *(("transformers.models.auto.modeling_auto", name) for name in _TEXT_MAPPINGS),
    ("transformers.models.auto.modeling_auto", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES"),
    *(("transformers.models.auto.modeling_auto", name) for name in _TASK_MAPPINGS.values()),
    ("transformers.dynamic_module_utils", "get_class_from_dynamic_module"),
    *(
        (("transformers.core_model_loading", "revert_weight_conversion"),)
        if KEY_MAPPING_RENAMES_BACKBONE_PREFIX
        else ()
    ),
    ("transformers.models.auto.configuration_auto", "CONFIG_MAPPING"),
    *((module, name) for name, module in _LM_HEAD_CLASSES.items()),
    ("transformers.modeling_utils.PreTrainedModel", "_init_weights"),
    ("transformers.modeling_utils.PreTrainedModel", "_tied_weights_keys"),
    ("transformers.configuration_utils.PretrainedConfig", "_attn_implementation"),
)
"""``(module or class path, attribute)`` of every private transformers symbol archit relies on; the output
capture registry is checked separately (it moved between modules, :func:`share_output_capture_registration`)."""
