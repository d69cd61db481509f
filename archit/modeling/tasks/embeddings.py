"""The token embeddings of a model-with-head: its output embeddings and ``resize_token_embeddings``.

transformers' own ``XForMaskedLM`` classes keep their vocabulary projection at ``lm_head`` (or override the
accessors); archit's sits wherever its head puts it (``head.decoder``, BERT's ``head.predictions.decoder``). This
mixin gives every task the ``PreTrainedModel`` methods that reach it: ``get_output_embeddings`` /
``set_output_embeddings`` and ``resize_token_embeddings``, which resizes the backbone's input embeddings through
the backbone's own method and the head's projection (and its bias) with them, keeping the ties the head declares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from archit.errors import InapplicableMethodError

if TYPE_CHECKING:
    # For the type checker, the mixin is what it is mixed into: a PreTrainedModel, whose methods it calls.
    from transformers import PreTrainedModel as _MixedInto

    from archit.modeling.wrappers import ArchitWrapper
else:
    _MixedInto = object

__all__ = ["TokenEmbeddingsMixin"]


class TokenEmbeddingsMixin(_MixedInto):
    """Output embeddings, embedding resizing and gradient checkpointing for :class:`ModelWithHead`.

    Class attributes:
        predicts_vocabulary: the head scores the vocabulary (language modelling), through a linear layer that
            ``resize_token_embeddings`` resizes with the input embeddings.
    """

    predicts_vocabulary: ClassVar[bool] = False
    _output_embedding_name: str | None

    if TYPE_CHECKING:
        # ModelWithHead's
        task_name: ClassVar[str]
        head: nn.Module

        @property
        def backbone(self) -> ArchitWrapper: ...

    # --- output embeddings ----------------------------------------------------------------------------------
    def get_output_embeddings(self) -> nn.Module | None:
        """The head's projection onto the vocabulary where the head declares it tied to the input embeddings
        (transformers ties it when the config's ``tie_word_embeddings`` is set); ``None`` for heads that predict
        labels, and for a projection narrower or wider than the embeddings, which cannot be tied."""
        if self._output_embedding_name is None:
            return None
        return self.get_submodule(self._output_embedding_name.rsplit(".", 1)[0])

    def set_output_embeddings(self, new_embeddings: nn.Module) -> None:
        """Replace the head's projection onto the vocabulary with ``new_embeddings``.

        Head parameters that were the old projection's own (BERT's ``predictions.bias`` is its decoder's bias)
        become the new projection's, so declared ties keep holding.

        Raises:
            InapplicableMethodError: the task predicts no vocabulary.
        """
        name, old = self._vocabulary_projection("set_output_embeddings")
        self._replace_projection(name, old, new_embeddings)

    def _replace_projection(self, name: str, old: nn.Module, new: nn.Module) -> None:
        for module in self.head.modules():
            if module is old:
                continue
            for parameter_name, parameter in list(module.named_parameters(recurse=False)):
                for own_name, own in old.named_parameters(recurse=False):
                    if parameter is own and isinstance(getattr(new, own_name, None), nn.Parameter):
                        setattr(module, parameter_name, getattr(new, own_name))
        parent, _, attribute = name.rpartition(".")
        setattr(self.get_submodule(parent), attribute, new)

    def _vocabulary_projection(self, method: str) -> tuple[str, nn.Linear]:
        """``(name, module)`` of the head's linear layer onto the vocabulary: the one tied to the input embeddings,
        else the head's last linear layer as wide as the vocabulary.

        Raises:
            InapplicableMethodError: the task predicts no vocabulary, or its head has no such layer.
        """
        if not self.predicts_vocabulary:
            raise InapplicableMethodError(
                f"{type(self).__name__}.{method}: a {self.task_name} head predicts labels, not the vocabulary, so "
                "the model has no output embeddings (get_output_embeddings() is None). resize_token_embeddings() "
                "resizes its input embeddings alone."
            )
        if self._output_embedding_name is not None:
            name = self._output_embedding_name.rsplit(".", 1)[0]
            return name, self.get_submodule(name)
        vocab_size = self._input_embeddings(method).num_embeddings
        layers = [
            (f"head.{name}", module)
            for name, module in self.head.named_modules()
            if isinstance(module, nn.Linear) and module.out_features == vocab_size
        ]
        if not layers:
            raise InapplicableMethodError(
                f"{type(self).__name__}.{method}: its {type(self.head).__name__} head holds no torch.nn.Linear layer "
                f"onto the vocabulary ({vocab_size} tokens) to resize or replace. Give the head one, or declare it "
                "in the head's HeadSpec.tied_weights."
            )
        return layers[-1]

    def _input_embeddings(self, method: str) -> nn.Embedding:
        try:
            return self.get_input_embeddings()
        except NotImplementedError:
            raise InapplicableMethodError(
                f"{type(self).__name__}.{method}: {self.backbone.family.name} backbones have no token embedding "
                "matrix (CANINE reads Unicode code points), so there is no vocabulary to resize."
            ) from None

    # --- resizing -------------------------------------------------------------------------------------------
    def resize_token_embeddings(
        self, new_num_tokens: int | None = None, pad_to_multiple_of: int | None = None, mean_resizing: bool = True
    ) -> nn.Embedding:
        """Resize the input embeddings to ``new_num_tokens`` rows and, for language-modelling tasks, the head's
        projection onto the vocabulary and its bias with them; ties are kept where the config ties them, and
        ``config.vocab_size`` (the backbone config's) follows.

        Args:
            new_num_tokens: the new vocabulary size; new rows are added, or rows removed, at the end. ``None``:
                keep the size (padded with ``pad_to_multiple_of``).
            pad_to_multiple_of: round the size up to a multiple of this.
            mean_resizing: new input rows as transformers draws them (around the old rows' mean and covariance);
                new rows of an untied projection and its bias are the old rows' mean (the limit of that draw).
                ``False``: initialised as the model initialises weights.

        Returns:
            The input embeddings (the same module, resized).

        Raises:
            InapplicableMethodError: the backbone has no token embedding matrix.
        """
        self._input_embeddings("resize_token_embeddings")
        name, projection = (
            self._vocabulary_projection("resize_token_embeddings") if self.predicts_vocabulary else ("", None)
        )
        # the old matrix: the backbone replaces the data of its embeddings in place, so a tied projection's too
        old_weight = None if projection is None else projection.weight.data
        embeddings = self.backbone.resize_token_embeddings(new_num_tokens, pad_to_multiple_of, mean_resizing)
        if new_num_tokens is None and pad_to_multiple_of is None:
            return embeddings
        vocab_size = embeddings.weight.shape[0]
        self.config.backbone_config.vocab_size = self.backbone.config.vocab_size = vocab_size
        if projection is not None:
            self._replace_projection(
                name, projection, self._resized_projection(projection, old_weight, vocab_size, mean_resizing)
            )
        self.tie_weights()
        return embeddings

    def _resized_projection(
        self, old: nn.Linear, old_weight: torch.Tensor, vocab_size: int, mean_resizing: bool
    ) -> nn.Linear:
        """A copy of the projection ``old`` (whose matrix was ``old_weight``) with ``vocab_size`` outputs."""
        old_size = old_weight.shape[0]
        has_bias = old.bias is not None
        new = nn.Linear(old.in_features, vocab_size, bias=has_bias, device=old_weight.device, dtype=old_weight.dtype)
        self._init_weights(new)
        kept = min(old_size, vocab_size)
        with torch.no_grad():
            new.weight[:kept] = old_weight[:kept]
            if has_bias:
                new.bias[:kept] = old.bias[:kept]
            if mean_resizing and vocab_size > old_size:
                new.weight[old_size:] = old_weight.mean(dim=0)
                if has_bias:
                    new.bias[old_size:] = old.bias.mean()
        new.requires_grad_(old.weight.requires_grad)
        return new

    # --- gradient checkpointing -----------------------------------------------------------------------------
    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict[str, Any] | None = None) -> None:
        """Recompute the backbone's activations in the backward pass instead of storing them (as transformers
        does for its own models).

        Raises:
            InapplicableMethodError: the backbone does not support gradient checkpointing.
        """
        if not self.backbone.supports_gradient_checkpointing:
            raise InapplicableMethodError(
                f"{type(self).__name__}.gradient_checkpointing_enable: its {type(self.backbone).__name__} backbone "
                "does not support gradient checkpointing (supports_gradient_checkpointing is False). Train without "
                "it, or with a smaller batch."
            )
        super().gradient_checkpointing_enable(gradient_checkpointing_kwargs)
