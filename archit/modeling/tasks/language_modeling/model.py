"""Masked and causal language modelling; ``ForCausalLM`` generates with the backbone's KV cache."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import torch
from transformers import Cache, GenerationMixin
from transformers.modeling_outputs import CausalLMOutputWithPast, MaskedLMOutput

from archit._compat import CACHE_NAME, cache_of, merge_cache_arguments
from archit.modeling.heads.base import HeadConfig, HeadSpec, checked_head_config
from archit.modeling.tasks.base import ModelWithHead
from archit.modeling.tasks.language_modeling.config import CausalLMHeadConfig, MaskedLMHeadConfig
from archit.modeling.tasks.language_modeling.head import build_lm_head, lm_head_checkpoint_prefixes
from archit.modeling.tasks.losses import ItemCount, check_labels, count_labelled, token_cross_entropy
from archit.modeling.wrappers import ArchitWrapper
from archit.resolution import Family

__all__ = ["ForCausalLM", "ForMaskedLM"]


class _LanguageModel(ModelWithHead):
    """Shared by both LM tasks: the family's pretrained head where its checkpoints hold one."""

    predicts_vocabulary = True

    @classmethod
    def checkpoint_head_prefixes(cls, family: Family, head_config: HeadConfig) -> tuple[str, str] | None:
        return lm_head_checkpoint_prefixes(family, head_config)


class ForMaskedLM(_LanguageModel):
    """Predict masked tokens. ``labels``: ``[batch_size, seq_len]`` token ids, -100 where nothing is masked."""

    task_name = "masked_lm"
    head_config_class = MaskedLMHeadConfig
    hf_auto_class = "AutoModelForMaskedLM"
    output_class = MaskedLMOutput

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        return build_lm_head(backbone, checked_head_config(type(self).__name__, head_config, MaskedLMHeadConfig))

    @classmethod
    def head_config_candidates(cls, head_config: HeadConfig, free: set[str]) -> list[HeadConfig]:
        """``head_config``, then (where the caller left them open) a transform without biases (ModernBERT) and
        the decoder alone (XLM)."""
        config = checked_head_config(cls.__name__, head_config, MaskedLMHeadConfig)
        candidates: list[HeadConfig] = [config]
        if {"transform", "transform_bias"} <= free and config.transform:
            candidates.append(attrs.evolve(config, transform_bias=not config.transform_bias))
            candidates.append(attrs.evolve(config, transform=False))
        return candidates

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
        """Cross-entropy over masked tokens; ``logits`` ``[batch_size, seq_len, vocab_size]``."""
        return token_cross_entropy(logits, labels, num_items_in_batch)


class ForCausalLM(_LanguageModel, GenerationMixin):
    """Predict the next token; ``generate()`` works with the backbone's own KV cache.

    ``labels``: ``[batch_size, seq_len]``, usually the input ids; they are shifted inside, as in transformers.
    """

    task_name = "causal_lm"
    head_config_class = CausalLMHeadConfig
    hf_auto_class = "AutoModelForCausalLM"

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        return build_lm_head(backbone, checked_head_config(type(self).__name__, head_config, CausalLMHeadConfig))

    def forward(  # type: ignore[override]  # other inputs than the shared forward of label-only tasks
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        use_cache: bool | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        labels: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        past_key_values: Cache | None = None,
        num_items_in_batch: ItemCount = None,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        """Returns ``logits`` ``[batch_size, seq_len, vocab_size]``, the cache, and the shifted ``loss`` (divided
        by ``num_items_in_batch`` when given, see :mod:`~archit.modeling.tasks.losses`).

        The cache comes and goes under the name the installed transformers uses (``cache`` from 5.24, which
        ``generate()`` passes; ``past_key_values`` before, still accepted where transformers accepts it).
        """
        cache = merge_cache_arguments(cache, past_key_values)
        extra = {CACHE_NAME: cache, "position_ids": position_ids, "inputs_embeds": inputs_embeds}
        encoded, logits = self.encode_and_score(
            input_ids,
            attention_mask,
            output_hidden_states=output_hidden_states,
            use_cache=bool(use_cache),
            **{name: value for name, value in extra.items() if value is not None},
            **kwargs,
        )
        loss = None
        if labels is not None:
            check_labels(labels, logits.shape[:2], floating=False)
            # position t predicts token t + 1
            loss = token_cross_entropy(logits[:, :-1], labels[:, 1:], num_items_in_batch)
        return CausalLMOutputWithPast(
            loss=loss, logits=logits, hidden_states=encoded.hidden_states, **{CACHE_NAME: cache_of(encoded)}
        )

    def count_loss_items(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """The labels that are not ``-100`` after the first position (position t predicts token t + 1)."""
        labels = batch.get("labels")
        return None if labels is None else count_labelled(labels[:, 1:])
