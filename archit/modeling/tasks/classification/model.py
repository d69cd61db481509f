"""Token classification, sequence classification (single-label, multi-label, regression), multiple choice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import torch
from transformers.modeling_outputs import MultipleChoiceModelOutput, SequenceClassifierOutput, TokenClassifierOutput

from archit.errors import HeadConfigError, ModelInputError
from archit.modeling.heads.base import HeadConfig, HeadSpec, checked_head_config
from archit.modeling.tasks.base import ModelWithHead
from archit.modeling.tasks.classification.config import SequenceClassificationHeadConfig, TokenClassificationHeadConfig
from archit.modeling.tasks.classification.head import SequenceClassificationHead, TokenClassificationHead
from archit.modeling.tasks.losses import (
    ItemCount,
    binary_cross_entropy,
    classification_cross_entropy,
    squared_error,
    token_cross_entropy,
)
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput

__all__ = [
    "ForMultiLabelSequenceClassification",
    "ForSequenceRegression",
    "ForSingleAnswerMultipleChoice",
    "ForSingleLabelSequenceClassification",
    "ForSingleLabelTokenClassification",
]


class ForSingleLabelTokenClassification(ModelWithHead):
    """One label per token (NER, POS tagging). ``labels``: ``[batch_size, seq_len]``, -100 ignored."""

    task_name = "token_classification"
    head_config_class = TokenClassificationHeadConfig
    hf_auto_class = "AutoModelForTokenClassification"
    output_class = TokenClassifierOutput

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        config = checked_head_config(type(self).__name__, head_config, TokenClassificationHeadConfig)
        return HeadSpec(TokenClassificationHead(backbone, config))

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
        """Cross-entropy over labelled tokens; ``logits`` ``[batch_size, seq_len, num_labels]``."""
        return token_cross_entropy(logits, labels, num_items_in_batch)


def _pooling_candidates(owner: str, head_config: HeadConfig, free: set[str]) -> list[HeadConfig]:
    """``head_config``, then (where the caller left pooling open) the variant that reads the backbone's own
    pooler, as BERT's, ALBERT's and CANINE's ``XForSequenceClassification`` and most ``XForMultipleChoice`` do.

    Raises:
        HeadConfigError: ``head_config`` is not a :class:`SequenceClassificationHeadConfig`.
    """
    head_config = checked_head_config(owner, head_config, SequenceClassificationHeadConfig)
    if "pooling" not in free or head_config.pooling == "pooler":
        return [head_config]
    return [head_config, attrs.evolve(head_config, pooling="pooler")]


class _SequenceTask(ModelWithHead):
    """A pooled sequence through :class:`SequenceClassificationHead`; subclasses define the loss."""

    head_config_class = SequenceClassificationHeadConfig
    hf_auto_class = "AutoModelForSequenceClassification"
    output_class = SequenceClassifierOutput

    @classmethod
    def head_config_candidates(cls, head_config: HeadConfig, free: set[str]) -> list[HeadConfig]:
        return _pooling_candidates(cls.__name__, head_config, free)

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        config = checked_head_config(type(self).__name__, head_config, SequenceClassificationHeadConfig)
        return HeadSpec(SequenceClassificationHead(backbone, config))


class ForSingleLabelSequenceClassification(_SequenceTask):
    """One class per sequence (or sentence pair). ``labels``: ``[batch_size]`` class ids."""

    task_name = "sequence_classification"
    hf_auto_default = True

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
        return classification_cross_entropy(logits, labels, num_items_in_batch)


class ForMultiLabelSequenceClassification(_SequenceTask):
    """Any number of classes per sequence. ``labels``: ``[batch_size, num_labels]`` of 0.0 / 1.0 (-100 leaves
    an entry out of the loss)."""

    task_name = "multi_label_classification"

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
        return binary_cross_entropy(logits, labels, num_items_in_batch)


class ForSequenceRegression(_SequenceTask):
    """Real-valued targets. ``labels``: ``[batch_size]`` (one target) or ``[batch_size, num_labels]``."""

    task_name = "regression"

    @classmethod
    def default_head_config(cls) -> SequenceClassificationHeadConfig:
        return SequenceClassificationHeadConfig(num_labels=1)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
        if labels.dim() == 1 and logits.shape[-1] == 1:
            labels = labels.unsqueeze(-1)
        return squared_error(logits, labels, num_items_in_batch)

    def count_loss_items(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """Every target is an item (a target of -100 is a value like any other)."""
        labels = batch.get("labels")
        return None if labels is None else torch.tensor(labels.numel(), device=labels.device)


class ForSingleAnswerMultipleChoice(ModelWithHead):
    """Pick one of several candidate continuations. ``input_ids``: ``[batch_size, n_choices, seq_len]``;
    ``labels``: ``[batch_size]``, the index of the right choice."""

    task_name = "multiple_choice"
    head_config_class = SequenceClassificationHeadConfig
    hf_auto_class = "AutoModelForMultipleChoice"
    output_class = MultipleChoiceModelOutput

    @classmethod
    def default_head_config(cls) -> SequenceClassificationHeadConfig:
        return SequenceClassificationHeadConfig(num_labels=1)

    @classmethod
    def head_config_candidates(cls, head_config: HeadConfig, free: set[str]) -> list[HeadConfig]:
        return _pooling_candidates(cls.__name__, head_config, free)

    def probe_inputs(self) -> dict[str, torch.Tensor]:
        """Two choices of one short input: ``[1, 2, seq_len]``."""
        return {name: value.unsqueeze(1).expand(-1, 2, -1) for name, value in super().probe_inputs().items()}

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        config = checked_head_config(type(self).__name__, head_config, SequenceClassificationHeadConfig)
        if config.num_labels != 1:
            raise HeadConfigError(
                f"Multiple choice scores each choice with one number: num_labels must be 1, got "
                f"{config.num_labels}. Use SequenceClassificationHeadConfig(num_labels=1)."
            )
        return HeadSpec(SequenceClassificationHead(backbone, config))

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
        """Cross-entropy over the choices; ``logits`` ``[batch_size, n_choices]``."""
        return classification_cross_entropy(logits, labels, num_items_in_batch)

    def encode_and_score(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        **kwargs: Any,
    ) -> tuple[BackboneOutput, torch.Tensor]:
        """Encodes every choice as a sequence of its own; returns ``logits`` ``[batch_size, n_choices]``.

        Raises:
            ModelInputError: no ``input_ids`` (the choices are read from their shape).
        """
        if input_ids is None:
            raise ModelInputError(
                "Multiple choice reads its choices from input_ids of shape [batch_size, n_choices, seq_len]; got "
                "no input_ids."
            )
        batch_size, n_choices = input_ids.shape[:2]

        def flat(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor.flatten(0, 1)

        encoded, logits = super().encode_and_score(
            flat(input_ids), flat(attention_mask), flat(token_type_ids), output_hidden_states, **kwargs
        )
        # [batch_size * n_choices, 1] → [batch_size, n_choices]
        return encoded, logits.view(batch_size, n_choices)
