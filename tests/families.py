"""Tiny random configs of every tested family, sized like transformers' own model testers.

Sizes are all distinct (vocab 99, hidden 32, FFN 37, embedding 16 where it differs from hidden) so that a
swapped axis fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable

import transformers
from transformers import PretrainedConfig

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


def tiny_config(family_name: str) -> PretrainedConfig:
    """A fresh tiny config of the family."""
    return TINY_CONFIGS[family_name]()
