"""How many of transformers' text model types archit's wrapper serves, measured on tiny random models.

For every model type that transformers' Auto classes map to a causal LM, masked LM or token-classification
model, this script builds a tiny config from the config class's defaults, builds the bare model the way archit
does, and runs a forward pass on token ids with an attention mask in plain transformers. A type whose plain
forward pass gives hidden states is *runnable*. The same object is then wrapped with ``archit.modeling.wrap``
and ``encode()`` must return the plain hidden states (same shape, same values in eval mode), one vector per
token, as wide as the wrapper's ``hidden_size``. Such a type is *wrapped*.

Each type runs in a worker process with a time limit, so one hanging or huge model cannot stall the run::

    python benchmarks/coverage.py --jobs 2
    python benchmarks/coverage.py --types bert gpt2 llama --json-only

The table comes first; the last line is one JSON object ``{"runnable": N, "wrapped": M, "failed": {type:
reason}}`` where ``failed`` lists the runnable types that the wrapper does not serve.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import IO, Any

__all__ = [
    "TypeResult",
    "auto_model_class",
    "build_backbone",
    "check_type",
    "format_table",
    "main",
    "model_types",
    "run",
    "summarize",
    "tiny_config",
]

BATCH_SIZE = 3
SEQ_LEN = 7
LAYERS = 2
MAX_LAYERS = 4
"""Hybrid models keep one layer of each kind, up to this many."""
HIDDEN = 64
HEADS = 4
KV_HEADS = 2
HEAD_DIM = HIDDEN // HEADS
FFN = 96
VOCAB = 256
SPECIAL_FLOOR = 3
"""Special token ids below this are kept (pad/bos/eos are 0, 1, 2 in many configs); the others move to the
top of the vocabulary, and the input ids are drawn between the two, so no input is an image or audio token."""

# Every size-like config attribute and its tiny value; an attribute is only ever made smaller (min of both).
# The same table applies to every sub-config (text_config, vision_config, encoder, decoder...).
SIZES: dict[str, int] = {
    # widths of the hidden states
    **dict.fromkeys(
        ("hidden_size", "d_model", "n_embd", "dim", "emb_dim", "embed_dim", "model_dim", "true_hidden_size"), HIDDEN
    ),
    **dict.fromkeys(("word_embed_proj_dim", "lru_width", "pooler_hidden_size", "intra_bottleneck_size"), HIDDEN),
    **dict.fromkeys(("hidden_size_global", "d_latents", "embedding_dim", "backbone_hidden_size"), HIDDEN),
    **dict.fromkeys(("input_embedding_size", "output_embedding_size", "cross_attention_hidden_size"), HIDDEN),
    **dict.fromkeys(("embedding_size", "entity_emb_size", "pronunciation_embed_dim", "shape_embed_dim"), 32),
    **dict.fromkeys(("hidden_size_per_layer_input", "ple_embed_dim", "prediction_head_size"), 16),
    **dict.fromkeys(("projector_input_dim", "projector_output_dim", "vision_output_dim"), HIDDEN),
    **dict.fromkeys(("nemo_conv_channels", "ext_pw_out_channel", "depthwise_separable_out_channel"), 32),
    **dict.fromkeys(("output_channels", "downsample_hidden_size"), 32),
    # depth
    **dict.fromkeys(("num_hidden_layers", "n_layer", "n_layers", "num_layers", "encoder_layers"), LAYERS),
    **dict.fromkeys(("decoder_layers", "num_decoder_layers", "num_encoder_layers", "depth"), LAYERS),
    # attention heads and their widths
    **dict.fromkeys(("num_attention_heads", "n_head", "n_heads", "num_heads", "encoder_attention_heads"), HEADS),
    **dict.fromkeys(("decoder_attention_heads", "swa_num_attention_heads", "index_n_heads", "mamba_n_heads"), HEADS),
    **dict.fromkeys(
        ("num_key_value_heads", "num_kv_heads", "multi_query_group_num", "swa_num_key_value_heads"), KV_HEADS
    ),
    **dict.fromkeys(("linear_num_key_heads", "indexer_n_heads"), KV_HEADS),
    "linear_num_value_heads": HEADS,
    **dict.fromkeys(("head_dim", "d_kv", "d_head", "dim_head", "attention_head_size", "kv_channels"), HEAD_DIM),
    **dict.fromkeys(("v_head_dim", "qk_nope_head_dim", "qk_rope_head_dim", "index_head_dim"), HEAD_DIM),
    **dict.fromkeys(("linear_key_head_dim", "linear_value_head_dim", "linear_head_dim", "swa_head_dim"), HEAD_DIM),
    **dict.fromkeys(("attention_head_dim", "mamba_d_head", "mamba_head_dim", "mamba_headdim"), HEAD_DIM),
    "qk_head_dim": 2 * HEAD_DIM,
    "rotary_dim": HEAD_DIM // 2,
    # feed-forward widths
    **dict.fromkeys(("intermediate_size", "ffn_dim", "encoder_ffn_dim", "decoder_ffn_dim", "d_ff", "d_inner"), FFN),
    **dict.fromkeys(("dim_ff", "dff", "n_inner", "hidden_dim", "feed_forward_size", "ffn_hidden_size"), FFN),
    **dict.fromkeys(("intermediate_size_mlp", "dense_intermediate_size", "mlp_dim", "attention_hidden_size"), FFN),
    **dict.fromkeys(("moe_intermediate_size", "shared_expert_intermediate_size", "expert_ffn_hidden_size"), 48),
    **dict.fromkeys(("shared_intermediate_size", "moe_shared_expert_intermediate_size"), 48),
    "shared_experts_intermediate_size": 48,
    # mixtures of experts
    **dict.fromkeys(("num_experts", "n_routed_experts", "num_local_experts", "moe_num_experts"), 4),
    **dict.fromkeys(("zero_expert_num", "n_group", "num_expert_group", "topk_group", "n_shared_experts"), 1),
    **dict.fromkeys(("num_experts_per_tok", "moe_topk", "top_k"), 2),
    # low-rank projections and state-space models
    **dict.fromkeys(("q_lora_rank", "kv_lora_rank", "o_lora_rank", "hc_lowrank", "laurel_rank", "embedding_rank"), 16),
    **dict.fromkeys(("mamba_d_state", "state_size", "ssm_state_size", "adapter_rank"), 16),
    **dict.fromkeys(("time_step_rank", "mamba_dt_rank", "router_hidden_size"), 16),
    **dict.fromkeys(("n_groups", "mamba_n_groups", "mamba_ngroups"), 1),
    # vocabularies and positions
    **dict.fromkeys(("vocab_size", "decoder_vocab_size", "vocab_size_per_layer_input", "unpadded_vocab_size"), VOCAB),
    **dict.fromkeys(("entity_vocab_size", "shape_vocab_size", "pronunciation_vocab_size"), VOCAB),
    "encoder_hash_byte_group_vocab": VOCAB,
    **dict.fromkeys(("max_position_embeddings", "n_positions", "n_ctx", "max_seq_len", "context_length"), 128),
    **dict.fromkeys(("max_source_positions", "max_target_positions", "original_max_position_embeddings"), 128),
    "num_hash_buckets": 64,
    # no layer reuses another's key/value cache, and the first layer already has experts (so MoE runs too)
    **dict.fromkeys(("num_kv_shared_layers", "first_k_dense_replace"), 0),
    "mamba_d_ssm": 2 * HIDDEN,  # the inner width of a Mamba-2 mixer, when a config states it
}

# Non-size settings a CPU run needs, wherever a config has them: transformers 4 refuses the slow Mamba path
# (no CUDA kernels here) unless told.
SETTINGS: dict[str, Any] = {"use_mamba_kernels": False}

# The depth attributes; per-layer lists (layer_types, per-layer head counts...) are cut with them.
_DEPTH_NAMES = ("num_hidden_layers", "n_layer", "n_layers", "num_layers", "encoder_layers", "decoder_layers")

# Size attributes that some configs leave at None although their model needs a number, and their value.
FILL_MISSING: dict[str, int] = {
    "head_dim": HEAD_DIM,
    "num_key_value_heads": KV_HEADS,
    "vocab_size": VOCAB,
    "num_experts_per_tok": 2,
    "pad_token_id": 0,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
}

# The few types that need a relation the generic table cannot state, each with its reason.
TYPE_OVERRIDES: dict[str, dict[str, Any]] = {
    # attention_types is a run-length code of the layer pattern: one global and one local layer
    "gpt_neo": {"attention_types": [[["global", "local"], 1]]},
    # the block pattern repeats over the layers; the default starts with two recurrent blocks and no attention
    "recurrent_gemma": {"block_types": ["recurrent", "attention"]},
    # the default hybrid stacks hold mamba layers only, and the bare forward needs one attention layer
    "bamba": {"attn_layer_indices": [1]},
    "granitemoehybrid": {"layer_types": ["mamba", "attention"]},
    # 4 x coordinate_size + 2 x shape_size must be the hidden size
    "layoutlmv3": {"coordinate_size": 10, "shape_size": 12},
    # the layout stream is hidden_size / channel_shrink_ratio wide and its six box embeddings hidden_size / 6
    "lilt": {"hidden_size": 48},
    # the default has no layer_types at all
    "lfm2_moe": {"layer_types": ["conv", "full_attention"]},
    # the axial position embedding widths sum to the hidden size
    "reformer": {"axial_pos_embds_dim": [32, 32], "axial_pos_shape": [8, 16]},
    # the default layer pattern uses indexed attention, whose indexer sizes default to None (also as text_config)
    "qwen4_exp_text": {
        "indexer_n_heads": 4,
        "indexer_kv_heads": 1,
        "indexer_head_dim": 16,
        "indexer_budget": 8,
        "indexer_compress_ratio": 2,
    },
    # the shared transformer block is tied across hybrid layers, and tying needs a second one to tie into
    "zamba": {
        "num_hidden_layers": 3,
        "attn_layer_period": 1,
        "attn_layer_offset": 0,
        "layers_block_type": ["hybrid"] * 3,
    },
    # attention every attn_layer_period layers from attn_layer_offset, experts likewise; the default has none in 2
    "jamba": {
        "attn_layer_period": 2,
        "attn_layer_offset": 1,
        "expert_layer_period": 2,
        "expert_layer_offset": 1,
    },
    # adaptive embedding cut-offs (transformers 4 only) must lie inside the vocabulary
    "transfo-xl": {"cutoffs": [64, 128]},
}

_TOKEN_ID_SUFFIXES = ("_token_id", "_token_index", "_token_ids")


@dataclass
class TypeResult:
    """The outcome for one model type.

    Args:
        model_type: the ``config.model_type``.
        family: the archit family it resolves to (``""`` when it resolves to none).
        status: ``"wrapped"``, ``"failed"`` (runnable, but the wrapper does not serve it), ``"not_runnable"``
            (plain transformers fails with the tiny config), ``"skipped"`` (too large) or ``"timeout"``.
        reason: one line on why, for every status but ``"wrapped"``.
        runnable: plain transformers builds the model and returns hidden states.
        seconds: wall time spent on the type.
    """

    model_type: str
    family: str = ""
    status: str = "not_runnable"
    reason: str = ""
    runnable: bool = False
    seconds: float = 0.0


# --- the types ---------------------------------------------------------------------------------------


def model_types() -> list[str]:
    """Every model type transformers maps to a causal LM, masked LM or token-classification model, sorted."""
    from transformers.models.auto import modeling_auto

    mappings = (
        modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES,
    )
    return sorted({model_type for mapping in mappings for model_type in mapping})


# --- tiny configs ------------------------------------------------------------------------------------


def tiny_config(model_type: str) -> Any:
    """The config class's defaults for ``model_type``, rebuilt with every size-like attribute shrunk.

    The config is rebuilt through its class from its own values, shrunk by :func:`tiny_kwargs`, so that
    attributes the class derives (``head_dim``, ``layer_types``, ``rope_parameters``...) are derived again from
    the tiny sizes. Then special token ids are moved inside the tiny vocabulary (see :data:`SPECIAL_FLOOR`),
    size attributes left at ``None`` are filled (see :data:`FILL_MISSING`). :data:`TYPE_OVERRIDES` applies to
    the config, or sub-config, of that model type.
    """
    from transformers import AutoConfig

    default = AutoConfig.for_model(model_type)
    config = _rebuild(default, frozenset(_hidden_sizes(default)))
    _move_special_token_ids(config)
    _fill_missing(config)
    return config


def _rebuild(config: Any, hidden_sizes: frozenset[int] = frozenset()) -> Any:
    return type(config)(**tiny_kwargs(config, hidden_sizes))


def _hidden_sizes(config: Any) -> set[int]:
    """The hidden sizes of a config and its sub-configs (a width equal to one of them follows the tiny one)."""
    sizes = {_attribute(config, "hidden_size")} - {None}
    for sub_config in _sub_configs(config):
        sizes |= _hidden_sizes(sub_config)
    return sizes


def _attribute(config: Any, name: str) -> Any:
    """``config.<name>`` through the class's ``attribute_map``, read without per-layer access checks."""
    return vars(config).get(getattr(config, "attribute_map", {}).get(name, name))


def _sub_configs(config: Any) -> Iterator[Any]:
    from transformers import PretrainedConfig

    for value in vars(config).values():
        if isinstance(value, PretrainedConfig):
            yield value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_NO_DEFAULT = object()


def _declared_defaults(config_class: type) -> dict[str, Any]:
    """The constructor arguments of a config class (and of its bases) with their defaults."""
    import inspect

    defaults: dict[str, Any] = {}
    for klass in config_class.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        for name, parameter in inspect.signature(klass.__init__).parameters.items():
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY) and name != "self":
                default = _NO_DEFAULT if parameter.default is parameter.empty else parameter.default
                defaults.setdefault(name, default)
    return defaults


def tiny_kwargs(config: Any, hidden_sizes: frozenset[int] = frozenset()) -> dict[str, Any]:
    """Constructor arguments that rebuild ``config`` at tiny size.

    Arguments the class derives when they are left out (declared with default ``None`` but set) are left out;
    every size-like argument is shrunk (:data:`SIZES`; a width equal to the hidden size, or to one of
    ``hidden_sizes``, becomes :data:`HIDDEN`); per-layer lists keep the layers :func:`_kept_layers` chooses;
    sub-configs are rebuilt the same way.
    """
    from transformers import PretrainedConfig

    declared = _declared_defaults(type(config))
    aliases = {stored: standard for standard, stored in getattr(config, "attribute_map", {}).items()}
    hidden_sizes = hidden_sizes | {_attribute(config, "hidden_size")}
    kept, depth_names = _kept_layers(config)
    kwargs: dict[str, Any] = {}
    for name, value in vars(config).items():
        key = aliases.get(name, name)
        default, size = declared.get(name, declared.get(key, _NO_DEFAULT)), SIZES.get(name, SIZES.get(key))
        if isinstance(value, PretrainedConfig):
            kwargs[name] = _rebuild(value, hidden_sizes).to_diff_dict()  # transformers 4 wants dicts here
        elif name not in declared and key not in declared:
            continue  # set by the class itself, or bookkeeping
        elif isinstance(value, (list, tuple)) and kept is not None and len(value) == kept[0]:
            value = type(value)(value[i] for i in kept[1])
            kwargs[name] = value if size is None else _shrunk(value, size)
        elif name in depth_names and kept is not None:
            kwargs[name] = len(kept[1])
        elif default is None and value is not None:
            continue  # derived from the others when left out
        elif _is_int(value) and value > 0 and _is_width(key) and value in hidden_sizes:
            kwargs[name] = HIDDEN
        elif size is not None and (_is_int(value) or isinstance(value, (list, tuple))):
            kwargs[name] = _shrunk(value, size)
        elif value != default:
            kwargs[name] = value  # a default of the instance (a composite's sub-config), not of the class
    heads, kv_heads = _attribute(config, "num_attention_heads"), _attribute(config, "num_key_value_heads")
    kv_name = getattr(config, "attribute_map", {}).get("num_key_value_heads", "num_key_value_heads")
    if kv_name in kwargs and _is_int(heads) and _is_int(kv_heads) and kv_heads > 0 and heads % kv_heads == 0:
        # keep the ratio of query heads to key/value heads (multi-head latent attention needs them equal)
        kwargs[kv_name] = max(1, min(heads, HEADS) * kv_heads // heads)
    _fit_state_space_heads(config, kwargs)
    kwargs.update({name: value for name, value in SETTINGS.items() if name in vars(config)})
    kwargs.update(TYPE_OVERRIDES.get(getattr(config, "model_type", ""), {}))
    return kwargs


def _fit_state_space_heads(config: Any, kwargs: dict[str, Any]) -> None:
    """Mamba-2 style mixers need ``heads * head_dim == expand * hidden_size`` (or ``mamba_d_ssm`` when set)."""

    def value(names: tuple[str, ...]) -> tuple[str | None, Any]:
        for name in names:
            found = kwargs.get(name, _attribute(config, name))
            if _is_int(found):
                return name, found
        return None, None

    _, expand = value(("mamba_expand", "expand"))
    heads_name, heads = value(_SSM_HEADS)
    head_dim_name, _ = value(_SSM_HEAD_DIMS)
    _, hidden = value(("hidden_size", "d_model"))
    if None in (expand, heads_name, head_dim_name, hidden):
        return
    inner = value(("mamba_d_ssm",))[1] or expand * hidden
    if inner % heads == 0:
        kwargs[head_dim_name] = inner // heads


def _shrunk(value: Any, tiny: int) -> Any:
    """``min(value, tiny)`` for a positive size, element-wise for a list of sizes; other values unchanged."""
    if isinstance(value, (list, tuple)):
        return type(value)(_shrunk(v, tiny) for v in value)
    return min(value, tiny) if _is_int(value) and value > 0 else value


_SSM_HEADS = ("mamba_n_heads", "mamba_num_heads", "n_mamba_heads", "num_heads")
_SSM_HEAD_DIMS = ("mamba_d_head", "mamba_head_dim", "mamba_headdim", "head_dim")
_WIDTH_WORDS = ("hidden", "embed", "emb_", "width", "dim", "d_model", "_size")
_NOT_WIDTH_WORDS = ("vocab", "position", "window", "chunk", "bucket", "image", "patch", "kernel", "pool", "group")


def _is_width(name: str) -> bool:
    """Whether an attribute name reads like a width that must follow the hidden size when it equals it."""
    return any(w in name for w in _WIDTH_WORDS) and not any(w in name for w in _NOT_WIDTH_WORDS)


def _kept_layers(config: Any) -> tuple[tuple[int, list[int]] | None, set[str]]:
    """Which layers a tiny version of ``config`` keeps: ``((original depth, kept indices), depth names)``.

    A per-layer list is a list whose length is the original depth (``layer_types``, per-layer head counts...).
    The layers kept are the first of each distinct combination of per-layer values (so a hybrid model keeps an
    attention layer and a recurrent one), then the first others, up to :data:`LAYERS`. ``None`` when the
    config is already shallow.
    """
    aliases = {stored: standard for standard, stored in getattr(config, "attribute_map", {}).items()}
    depth_names = {name for name in vars(config) if name in _DEPTH_NAMES or aliases.get(name) in _DEPTH_NAMES}
    depths = {vars(config)[name] for name in depth_names if _is_int(vars(config)[name])}
    if len(depths) != 1 or max(depths) <= LAYERS:
        return None, depth_names
    depth = depths.pop()
    # kinds are told apart by the per-layer lists of names (layer_types...), not by numbers or layer indices
    kinds = [v for v in vars(config).values() if isinstance(v, (list, tuple)) and len(v) == depth]
    kinds = [v for v in kinds if all(isinstance(item, str) for item in v)]
    signatures = [tuple(v[i] for v in kinds) for i in range(depth)]
    kept = sorted({signature: i for i, signature in reversed(list(enumerate(signatures)))}.values())[:MAX_LAYERS]
    kept = sorted(kept + [i for i in range(depth) if i not in kept][: max(0, LAYERS - len(kept))])
    return (depth, kept), depth_names


def _fill_missing(config: Any) -> None:
    """Give the size attributes of :data:`FILL_MISSING` that are ``None`` their tiny value, in the whole tree."""
    for sub_config in _sub_configs(config):
        _fill_missing(sub_config)
    for name in FILL_MISSING:
        if name in vars(config) and vars(config)[name] is None:
            setattr(config, name, FILL_MISSING[name])


def _walk_token_ids(config: Any) -> Iterator[tuple[Any, str, Any]]:
    """Every ``(config, name, value)`` of a special token id in the config tree."""
    for sub_config in _sub_configs(config):
        yield from _walk_token_ids(sub_config)
    for name, value in list(vars(config).items()):
        if name.endswith(_TOKEN_ID_SUFFIXES) and (_is_int(value) or isinstance(value, (list, tuple))):
            yield config, name, value


def _vocab_sizes(config: Any) -> list[int]:
    sizes = [value for name, value in vars(config).items() if name == "vocab_size" and _is_int(value)]
    for sub_config in _sub_configs(config):
        sizes += _vocab_sizes(sub_config)
    return sizes


def input_id_range(config: Any) -> tuple[int, int]:
    """``(low, high)``: the ids between the kept special ids and the moved ones, for random inputs."""
    vocab = min(_vocab_sizes(config) or [VOCAB])
    moved = {v for _, _, value in _walk_token_ids(config) for v in _ids(value) if v >= SPECIAL_FLOOR}
    return SPECIAL_FLOOR, max(SPECIAL_FLOOR + 1, vocab - len(moved))


def _ids(value: Any) -> list[int]:
    return [v for v in (value if isinstance(value, (list, tuple)) else [value]) if _is_int(v)]


def _move_special_token_ids(config: Any) -> None:
    """Give every special token id ``>= SPECIAL_FLOOR`` its own id at the top of the tiny vocabulary."""
    vocab = min(_vocab_sizes(config) or [VOCAB])
    new_ids: dict[int, int] = {}
    for owner, name, value in list(_walk_token_ids(config)):
        for old in _ids(value):
            if old >= SPECIAL_FLOOR and old not in new_ids:
                new_ids[old] = vocab - 1 - len(new_ids)
        if isinstance(value, (list, tuple)):
            setattr(owner, name, type(value)(new_ids.get(v, v) if _is_int(v) else v for v in value))
        else:
            setattr(owner, name, new_ids.get(value, value))


# --- one type ----------------------------------------------------------------------------------------


def build_backbone(config: Any) -> tuple[Any, str, str]:
    """Build the bare model for ``config`` the way archit does; returns ``(model, family name, problem)``.

    The class is ``backbone_class(resolve(config), config)``. When archit resolves no family, the model is
    built from the class ``AutoModel`` maps the config to and the family name is ``""``. When archit resolves a
    family but cannot give its backbone class, the model is built the same way, and ``problem`` says why archit
    failed.
    """
    from archit.errors import UnknownArchitectureError
    from archit.modeling.base_models import backbone_class
    from archit.resolution import resolve

    try:
        family = resolve(config)
    except UnknownArchitectureError:
        return auto_model_class(config)(config), "", ""
    try:
        klass = backbone_class(family, config)
        if not isinstance(klass, type):
            names = ", ".join(getattr(k, "__name__", repr(k)) for k in klass)
            raise TypeError(f"backbone_class() returned a tuple ({names}), not a class")
    except Exception as error:
        return auto_model_class(config)(config), family.name, _short(error)
    return klass(config), family.name, ""


def auto_model_class(config: Any) -> type:
    """The bare model class ``AutoModel`` maps ``config`` to; the first one where it maps to several (Funnel).

    Raises:
        LookupError: ``AutoModel`` maps no class to the config.
    """
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    try:
        klass = MODEL_MAPPING[type(config)]
    except KeyError:
        raise LookupError(f"AutoModel maps no bare model class to {type(config).__name__}") from None
    return klass[0] if isinstance(klass, (tuple, list)) else klass


def parameter_bytes(config: Any) -> int | None:
    """Bytes the parameters and buffers of the bare model would take, counted on the meta device.

    Returns:
        The byte count; ``None`` when the model cannot be built on the meta device.
    """
    import itertools

    import torch

    try:
        with torch.device("meta"):
            model = build_backbone(config)[0]
    except Exception:
        return None
    return sum(t.numel() * t.element_size() for t in itertools.chain(model.parameters(), model.buffers()))


def make_inputs(config: Any, generator_seed: int = 0) -> dict[str, Any]:
    """Token ids and an attention mask with two padded positions at the end of the first row."""
    import torch

    low, high = input_id_range(config)
    generator = torch.Generator().manual_seed(generator_seed)
    input_ids = torch.randint(low, high, (BATCH_SIZE, SEQ_LEN), generator=generator)
    attention_mask = torch.ones(BATCH_SIZE, SEQ_LEN, dtype=torch.long)
    attention_mask[0, SEQ_LEN - 2 :] = 0
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def _accepted(module: Any) -> frozenset[str] | None:
    import inspect

    parameters = inspect.signature(type(module).forward).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return frozenset(parameters)


def plain_hidden_states(model: Any, inputs: dict[str, Any]) -> Any:
    """Hidden states of the last layer from the model's own ``forward`` (its encoder's, for encoder-decoders).

    Raises:
        RuntimeError: the forward pass takes no ``input_ids`` or returns no ``(batch, seq, width)`` tensor.
    """
    import torch

    module = model
    if getattr(model.config, "is_encoder_decoder", False) and hasattr(model, "get_encoder"):
        module = model.get_encoder()
    accepted = _accepted(module)
    if accepted is not None and "input_ids" not in accepted:
        raise RuntimeError(f"{type(module).__name__}.forward takes no input_ids")
    candidates = {**inputs, "output_hidden_states": True, "return_dict": True, "use_cache": False}
    # a forward that takes **kwargs gets use_cache only where it names it: the kwargs may reach modules that don't
    kwargs = {k: v for k, v in candidates.items() if (k in accepted if accepted is not None else k != "use_cache")}
    with torch.no_grad():
        outputs = module(**kwargs)
    hidden = getattr(outputs, "last_hidden_state", None)
    if hidden is None and getattr(outputs, "hidden_states", None):
        hidden = outputs.hidden_states[-1]
    if hidden is None and isinstance(outputs, tuple) and outputs:
        hidden = outputs[0]
    if not (isinstance(hidden, torch.Tensor) and hidden.ndim == 3 and hidden.shape[0] == BATCH_SIZE):
        raise RuntimeError(f"{type(outputs).__name__} holds no (batch, seq, width) hidden states")
    return hidden


def wrapped_problem(model: Any, inputs: dict[str, Any], reference: Any) -> str:
    """Wrap ``model``, run ``encode`` and compare with ``reference``; ``""`` when everything agrees."""
    import torch

    from archit.modeling import wrap

    wrapped = wrap(model)
    with torch.no_grad():
        hidden = wrapped.encode(inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    if hidden is None:
        return "encode() returned no last_hidden_state"
    if hidden.shape != reference.shape:
        return f"encode() shape {tuple(hidden.shape)} != plain {tuple(reference.shape)}"
    if hidden.shape[1] != SEQ_LEN:
        return f"{hidden.shape[1]} hidden states for {SEQ_LEN} tokens (not one per token)"
    if wrapped.hidden_size != hidden.shape[-1]:
        return f"hidden_size fact {wrapped.hidden_size} != width {hidden.shape[-1]} of the hidden states"
    if not torch.allclose(hidden, reference, atol=1e-5, rtol=1e-4):
        return f"encode() values differ from plain (max abs diff {(hidden - reference).abs().max().item():.2e})"
    return ""


def _short(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= 160 else text[:157] + "..."


def check_type(
    model_type: str, max_bytes: float = 1e9, progress: Callable[[str, str], None] | None = None
) -> TypeResult:
    """Build, run plain, wrap and encode one model type.

    Args:
        model_type: a ``config.model_type`` transformers knows.
        max_bytes: skip the type when the tiny model's parameters would take more than this.
        progress: called with ``(phase, family)`` when the plain run succeeded (``phase == "runnable"``), so a
            supervisor that times the type out knows whether plain transformers got through.

    Returns:
        The :class:`TypeResult`; nothing is raised for a failing model.
    """
    import torch

    start = time.perf_counter()
    result = TypeResult(model_type)
    try:
        config = tiny_config(model_type)
        size = parameter_bytes(config)
        if size is not None and size > max_bytes:
            result.status, result.reason = "skipped", f"tiny config still has {size / 1e6:.0f} MB of weights"
            return _timed(result, start)
        torch.manual_seed(0)
        model, result.family, problem = build_backbone(config)
        model.eval()
        inputs = make_inputs(config)
        reference = plain_hidden_states(model, inputs)
    except Exception as error:
        result.reason = _short(error)
        return _timed(result, start)
    result.runnable = True
    if progress is not None:
        progress("runnable", result.family)
    try:
        problem = problem or wrapped_problem(model, inputs, reference)
    except Exception as error:
        problem = _short(error)
    result.status, result.reason = ("failed", problem) if problem else ("wrapped", "")
    return _timed(result, start)


def _timed(result: TypeResult, start: float) -> TypeResult:
    result.seconds = round(time.perf_counter() - start, 2)
    return result


# --- the pool ----------------------------------------------------------------------------------------


class _Worker:
    """A child interpreter running :func:`_worker_loop`, one model type at a time."""

    def __init__(self, max_bytes: float, max_memory: float) -> None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, os.path.abspath(__file__), "--worker", f"--max-bytes={max_bytes}"]
        self.process = subprocess.Popen(
            [*command, f"--max-memory={max_memory}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )
        self.buffer = b""
        self.model_type: str | None = None
        self.family = ""
        self.runnable = False
        self.started = 0.0
        self.ready = False

    def send(self, model_type: str) -> None:
        self.model_type, self.family, self.runnable, self.started = model_type, "", False, time.perf_counter()
        assert self.process.stdin is not None
        self.process.stdin.write(model_type + "\n")
        self.process.stdin.flush()

    def receive(self) -> list[dict[str, Any]] | None:
        """The complete JSON lines that have arrived; ``None`` once the worker has exited."""
        data = os.read(self.process.stdout.fileno(), 1 << 16)
        if not data:
            return None
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def run(
    types: Iterable[str],
    jobs: int = 2,
    timeout: float = 30.0,
    max_bytes: float = 1e9,
    max_memory: float = 3e9,
    on_result: Callable[[TypeResult], None] | None = None,
) -> list[TypeResult]:
    """Check every type in ``jobs`` worker processes, each type with its own time limit.

    Args:
        types: model types to check.
        jobs: worker processes (``0``: check in this process, without time limit; for tests).
        timeout: seconds one type may take, once its worker is ready.
        max_bytes: skip types whose tiny model's parameters take more bytes than this.
        max_memory: data-segment limit of each worker, in bytes (``RLIMIT_DATA``).
        on_result: called with each result as it arrives.

    Returns:
        One :class:`TypeResult` per type, in the order of ``types``.
    """
    types = list(types)
    if jobs <= 0:
        results = []
        for model_type in types:
            results.append(check_type(model_type, max_bytes))
            if on_result is not None:
                on_result(results[-1])
        return results
    by_type: dict[str, TypeResult] = {}

    def finish(result: TypeResult) -> None:
        by_type[result.model_type] = result
        if on_result is not None:
            on_result(result)

    _supervise(types, jobs, timeout, max_bytes, max_memory, finish)
    return [by_type[model_type] for model_type in types]


def _supervise(
    types: list[str],
    jobs: int,
    timeout: float,
    max_bytes: float,
    max_memory: float,
    finish: Callable[[TypeResult], None],
) -> None:
    """Feed ``types`` to workers, replacing any worker that dies or overruns ``timeout`` on a type."""
    pending = list(reversed(types))
    selector = selectors.DefaultSelector()
    workers: list[_Worker] = []

    def start_worker() -> None:
        worker = _Worker(max_bytes, max_memory)
        workers.append(worker)
        selector.register(worker.process.stdout, selectors.EVENT_READ, worker)

    def retire(worker: _Worker, status: str, reason: str) -> None:
        selector.unregister(worker.process.stdout)
        workers.remove(worker)
        worker.kill()
        if worker.model_type is not None:
            seconds = round(time.perf_counter() - worker.started, 2)
            status = "failed" if worker.runnable else status
            finish(TypeResult(worker.model_type, worker.family, status, reason, worker.runnable, seconds))
        if pending:
            start_worker()

    def handle(worker: _Worker, message: dict[str, Any]) -> None:
        if message.get("phase") == "runnable":
            worker.runnable, worker.family = True, message["family"]
            return
        if "result" in message:
            finish(TypeResult(**message["result"]))
            worker.model_type = None
        worker.ready = True
        if pending:
            worker.send(pending.pop())
        else:
            selector.unregister(worker.process.stdout)
            workers.remove(worker)
            worker.kill()

    try:
        for _ in range(min(jobs, len(pending))):
            start_worker()
        while workers:
            for key, _ in selector.select(timeout=1.0):
                worker: _Worker = key.data
                messages = worker.receive()
                if messages is None and not worker.ready:
                    raise RuntimeError(
                        f"A benchmark worker exited before it was ready (exit code {worker.process.wait()}); run "
                        f"{os.path.basename(__file__)} --jobs 0 to see the error in this process."
                    )
                if messages is None:
                    retire(worker, "not_runnable", f"worker died (exit code {worker.process.wait()})")
                for message in messages or ():
                    handle(worker, message)
            now = time.perf_counter()
            for worker in list(workers):
                if worker.model_type is not None and now - worker.started > timeout:
                    retire(worker, "timeout", f"took more than {timeout:.0f} s")
    finally:
        for worker in workers:
            worker.kill()
        selector.close()


def _worker_loop(max_bytes: float, max_memory: float, channel: IO[str]) -> None:
    """Read model types from stdin, one per line; write one JSON line per event to ``channel``."""
    import resource
    import warnings

    import torch
    from transformers.utils import logging

    if max_memory > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (int(max_memory), int(max_memory)))
    torch.set_num_threads(1)
    logging.set_verbosity_error()
    warnings.filterwarnings("ignore")

    def send(message: dict[str, Any]) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    send({"ready": True})
    for line in sys.stdin:
        model_type = line.strip()
        try:
            result = check_type(model_type, max_bytes, lambda phase, family: send({"phase": phase, "family": family}))
        except BaseException as error:  # a model calling sys.exit() or the like must not end the loop
            traceback.print_exc()
            result = TypeResult(model_type, reason=_short(error))
        send({"result": asdict(result)})


# --- report ------------------------------------------------------------------------------------------


def summarize(results: Iterable[TypeResult]) -> dict[str, Any]:
    """``{"runnable": N, "wrapped": M, "failed": {type: reason}}`` over runnable types only."""
    results = list(results)
    runnable = [r for r in results if r.runnable]
    return {
        "runnable": len(runnable),
        "wrapped": sum(r.status == "wrapped" for r in runnable),
        "failed": {r.model_type: r.reason for r in runnable if r.status != "wrapped"},
    }


def format_table(results: Iterable[TypeResult]) -> str:
    """A fixed-width table: model type, family, status, seconds and a short reason; then the totals."""
    results = list(results)
    rows = [("model type", "family", "status", "s", "reason")]
    rows += [(r.model_type, r.family or "-", r.status, f"{r.seconds:.1f}", r.reason[:100]) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)) for row in rows]
    summary = summarize(results)
    counts = {status: sum(r.status == status for r in results) for status in ("not_runnable", "skipped", "timeout")}
    ratio = summary["wrapped"] / summary["runnable"] if summary["runnable"] else 0.0
    lines.append(
        f"{len(results)} types: {summary['runnable']} runnable, {summary['wrapped']} wrapped "
        f"(wrapped/runnable = {ratio:.3f}); " + ", ".join(f"{count} {status}" for status, count in counts.items())
    )
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints the table and, last, the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--types", nargs="+", help="model types to check (default: all text LM types)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes; 0 runs in this process")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one type may take")
    parser.add_argument("--max-bytes", type=float, default=1e9, help="skip tiny models with more parameter bytes")
    parser.add_argument("--max-memory", type=float, default=3e9, help="memory limit of each worker, in bytes")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        channel = os.fdopen(os.dup(sys.stdout.fileno()), "w")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # models that print must not corrupt the channel
        _worker_loop(args.max_bytes, args.max_memory, channel)
        return 0
    import transformers

    types = args.types or model_types()
    start = time.perf_counter()
    show = None if args.json_only else lambda r: print(f"{r.model_type}: {r.status} {r.reason}"[:150], file=sys.stderr)
    results = run(types, args.jobs, args.timeout, args.max_bytes, args.max_memory, on_result=show)
    if not args.json_only:
        print(format_table(results))
        print(f"transformers {transformers.__version__}, {time.perf_counter() - start:.0f} s with {args.jobs} jobs")
    print(json.dumps(summarize(results)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
