"""Tiny random configs: the one home of every tiny config the tests and benchmarks build.

Two kinds, for two jobs:

- :data:`TINY_CONFIGS` holds one hand-sized config per tested family, sized like transformers' own model
  testers, all sizes distinct (vocab 99, hidden 32, FFN 37, embedding 16 where it differs from hidden) so that a
  swapped axis fails loudly. :func:`tiny_config` gives a fresh one; the unit tests build on these.
- :func:`tiny_gpt_neox_config` (a Pythia-like GPT-NeoX with an untied output embedding) and
  :func:`tiny_recurrent_config` (archit's native LSTM, GRU and RNN) serve the tests of one concern each.
- :func:`synthesized_config` shrinks the defaults of *any* model type transformers knows (every size-like
  attribute, in every sub-config, keeping the relations between them), so that benchmarks and the coverage matrix
  run every model type without a hand-written config per type.

It lives under ``tests/`` because tiny configs are test fixtures (as transformers keeps its model testers in its
test tree) and archit has no use for them at run time; the benchmarks import it from here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import transformers
from transformers import PretrainedConfig

from archit.modeling.native import GRUConfig, LSTMConfig, RecurrentConfig, RNNConfig

VOCAB_SIZE = 99
HIDDEN_SIZE = 32
BATCH_SIZE = 3
SEQ_LEN = 7

_COMMON = {"vocab_size": VOCAB_SIZE}
_BERT_LIKE = {
    **_COMMON,
    "hidden_size": HIDDEN_SIZE,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
}
_SEQ2SEQ = {
    **_COMMON,
    "d_model": HIDDEN_SIZE,
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
    "encoder_ffn_dim": 37,
    "decoder_ffn_dim": 37,
    "max_position_embeddings": 64,
}
_DECODER = {
    **_COMMON,
    "hidden_size": HIDDEN_SIZE,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
}

TINY_CONFIGS: dict[str, Callable[[], PretrainedConfig]] = {
    "BERT": lambda: transformers.BertConfig(**_BERT_LIKE),
    "ROBERTA": lambda: transformers.RobertaConfig(**_BERT_LIKE),
    "XLM_ROBERTA": lambda: transformers.XLMRobertaConfig(**_BERT_LIKE),
    "DEBERTA": lambda: transformers.DebertaConfig(**_BERT_LIKE),
    "DEBERTA_V2": lambda: transformers.DebertaV2Config(**_BERT_LIKE),
    "ELECTRA": lambda: transformers.ElectraConfig(**_BERT_LIKE, embedding_size=16),
    "ALBERT": lambda: transformers.AlbertConfig(**_BERT_LIKE, embedding_size=16),
    "DISTILBERT": lambda: transformers.DistilBertConfig(
        **_COMMON, dim=HIDDEN_SIZE, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64
    ),
    "XLM": lambda: transformers.XLMConfig(
        **_COMMON, emb_dim=HIDDEN_SIZE, n_layers=2, n_heads=4, max_position_embeddings=64
    ),
    "MODERNBERT": lambda: transformers.ModernBertConfig(
        **_COMMON,
        hidden_size=HIDDEN_SIZE,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=64,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        cls_token_id=1,
        sep_token_id=2,
    ),
    "CANINE": lambda: transformers.CanineConfig(
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        num_hash_buckets=64,
        max_position_embeddings=256,
    ),
    "BART": lambda: transformers.BartConfig(**_SEQ2SEQ),
    "MBART": lambda: transformers.MBartConfig(**_SEQ2SEQ),
    "T5": lambda: transformers.T5Config(
        **_COMMON,
        d_model=HIDDEN_SIZE,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        decoder_start_token_id=0,
    ),
    "GPT2": lambda: transformers.GPT2Config(
        **_COMMON, n_embd=HIDDEN_SIZE, n_layer=2, n_head=4, n_inner=37, n_positions=64, bos_token_id=1, eos_token_id=2
    ),
    "GPT_BIGCODE": lambda: transformers.GPTBigCodeConfig(
        **_COMMON, n_embd=HIDDEN_SIZE, n_layer=2, n_head=4, n_inner=37, n_positions=64, bos_token_id=1, eos_token_id=2
    ),
    "LLAMA": lambda: transformers.LlamaConfig(**_DECODER),
    "MISTRAL": lambda: transformers.MistralConfig(**_DECODER),
    "QWEN3": lambda: transformers.Qwen3Config(**_DECODER, head_dim=8),
}
"""One tiny config per tested family, keyed by family name."""


def tiny_config(family_name: str, **overrides: Any) -> PretrainedConfig:
    """A fresh tiny config of the family, with ``overrides`` (config fields) applied before it is built."""
    config = TINY_CONFIGS[family_name]()
    return type(config).from_dict({**config.to_dict(), **overrides}) if overrides else config


def tiny_gpt_neox_config(**overrides: Any) -> transformers.GPTNeoXConfig:
    """A Pythia-like GPT-NeoX: untied input and output embeddings, the output one named ``embed_out``."""
    values = {
        **_COMMON,
        "hidden_size": HIDDEN_SIZE,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "max_position_embeddings": 64,
        "tie_word_embeddings": False,
    }
    return transformers.GPTNeoXConfig(**{**values, **overrides})


RECURRENT_EMBEDDING_SIZE = 16
RECURRENT_HIDDEN_SIZE = 24
RECURRENT_CONFIGS: dict[str, type[RecurrentConfig]] = {"LSTM": LSTMConfig, "GRU": GRUConfig, "RNN": RNNConfig}


def tiny_recurrent_config(family: str, **overrides: Any) -> RecurrentConfig:
    """A tiny config of a native recurrent family, sizes all distinct (vocab 99, embeddings 16, hidden 24)."""
    sizes = {
        **_COMMON,
        "embedding_size": RECURRENT_EMBEDDING_SIZE,
        "hidden_size": RECURRENT_HIDDEN_SIZE,
        "num_hidden_layers": 2,
        "pad_token_id": 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        **overrides,
    }
    return RECURRENT_CONFIGS[family](**sizes)


# --- configs synthesized from a model type's defaults ---------------------------------------------

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


def synthesized_config(model_type: str) -> Any:
    """The config class's defaults for ``model_type``, rebuilt with every size-like attribute shrunk.

    The config is rebuilt through its class from its own values, shrunk by :func:`tiny_kwargs`, so that
    attributes the class derives (``head_dim``, ``layer_types``, ``rope_parameters``...) are derived again from
    the tiny sizes. Then special token ids are moved inside the tiny vocabulary (see :data:`SPECIAL_FLOOR`),
    size attributes left at ``None`` are filled (see :data:`FILL_MISSING`). :data:`TYPE_OVERRIDES` applies to
    the config, or sub-config, of that model type.
    """
    default = transformers.AutoConfig.for_model(model_type)
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
    for value in vars(config).values():
        if isinstance(value, PretrainedConfig):
            yield value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_NO_DEFAULT = object()


def _declared_defaults(config_class: type) -> dict[str, Any]:
    """The constructor arguments of a config class (and of its bases) with their defaults."""
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
