"""``ForDependencyParsing``: biaffine parsing over words, any backbone, sentences of any length."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from transformers.utils import ModelOutput

from archit.errors import DataError
from archit.modeling.heads.base import HeadConfig, HeadSpec, checked_head_config
from archit.modeling.tasks.base import ModelWithHead
from archit.modeling.tasks.dependency_parsing.config import DependencyParsingHeadConfig
from archit.modeling.tasks.dependency_parsing.decoding import decode, decode_labels
from archit.modeling.tasks.dependency_parsing.head import DependencyParsingHead
from archit.modeling.tasks.dependency_parsing.loss import arc_label_loss
from archit.modeling.tasks.losses import IGNORE_INDEX, check_labels, count_labelled
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput

__all__ = ["DependencyParsingOutput", "ForDependencyParsing", "encode_in_windows"]


@dataclass
class DependencyParsingOutput(ModelOutput):
    """Output of :class:`ForDependencyParsing`; position 0 of the score matrices is ROOT.

    Args:
        loss: arc cross-entropy plus label cross-entropy at gold arcs, when labels are given.
        arc_logits: ``(batch_size, n_words + 1, n_words + 1)``, the score of head j for dependent i.
        rel_logits: ``(batch_size, n_words + 1, n_words + 1, num_labels)``.
        arc_predictions: ``(batch_size, n_words)``, the decoded head of each word (0 = ROOT), in eval mode.
        rel_predictions: ``(batch_size, n_words)``, the label of each predicted arc, in eval mode.
        hidden_states: every layer's ``(batch_size, seq_len, hidden_size)``, on request.
    """

    loss: torch.FloatTensor | None = None
    arc_logits: torch.FloatTensor | None = None
    rel_logits: torch.FloatTensor | None = None
    arc_predictions: torch.LongTensor | None = None
    rel_predictions: torch.LongTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def encode_in_windows(
    backbone: ArchitWrapper,
    input_ids: torch.LongTensor | None,
    attention_mask: torch.Tensor | None,
    token_type_ids: torch.LongTensor | None,
    output_hidden_states: bool,
    max_length: int | None,
    inputs_embeds: torch.FloatTensor | None = None,
    **kwargs: Any,
) -> BackboneOutput:
    """Encode sequences longer than the backbone takes in half-overlapping windows.

    Each token keeps its vector from the window in which it lies farthest from an edge, so every token sees
    at least ``max_length / 4`` tokens of context on each side that the text has. ``inputs_embeds`` may stand
    in for ``input_ids`` (windowed alike); other keyword arguments (``position_ids``...) go to the backbone.

    Raises:
        DataError: neither ``input_ids`` nor ``inputs_embeds`` is given, or ``position_ids`` is given for a
            sequence that needs windows (each window numbers its own positions).
    """
    tokens = input_ids if input_ids is not None else inputs_embeds
    if tokens is None:
        raise DataError("ForDependencyParsing needs input_ids or inputs_embeds; got neither.")
    embeds = {} if inputs_embeds is None else {"inputs_embeds": inputs_embeds}
    seq_len = tokens.shape[1]
    if max_length is None or seq_len <= max_length:
        return backbone.encode(input_ids, attention_mask, token_type_ids, output_hidden_states, **embeds, **kwargs)
    if kwargs.get("position_ids") is not None:
        raise DataError(
            f"position_ids cannot be used for a sequence of {seq_len} tokens: the backbone takes {max_length}, so "
            "the parser encodes it in overlapping windows that number their own positions. Leave position_ids out."
        )
    stride = max(max_length // 2, 1)
    starts = sorted({min(start, seq_len - max_length) for start in range(0, seq_len, stride)})
    positions = torch.arange(seq_len, device=tokens.device)
    best = torch.full((seq_len,), -1, device=tokens.device)
    merged: list[torch.Tensor] = []
    for start in starts:
        window = slice(start, start + max_length)
        ids, mask, types, embedded = (
            None if tensor is None else tensor[:, window]
            for tensor in (input_ids, attention_mask, token_type_ids, inputs_embeds)
        )
        embeds = {} if embedded is None else {"inputs_embeds": embedded}
        output = backbone.encode(ids, mask, types, output_hidden_states, **embeds, **kwargs)
        layers: list[torch.Tensor] = (
            list(output.hidden_states or ()) if output_hidden_states else [output.last_hidden_state]
        )
        if not merged:
            merged = [layer.new_zeros(layer.shape[0], seq_len, layer.shape[-1]) for layer in layers]
        # [max_length]: distance of each position of the window to the nearer window edge
        centrality = torch.minimum(positions[window] - start, start + max_length - 1 - positions[window])
        wins = centrality > best[window]
        best[window] = torch.where(wins, centrality, best[window])
        for target, layer in zip(merged, layers, strict=True):
            target[:, window][:, wins] = layer[:, wins]
    return BackboneOutput(last_hidden_state=merged[-1], hidden_states=tuple(merged) if output_hidden_states else None)


class ForDependencyParsing(ModelWithHead):
    """Graph-based dependency parsing: every word gets a head (a word or ROOT) and a relation label.

    Inputs besides the tokens: ``word_ids`` ``[batch_size, seq_len]``, the 0-based word of each token (-1 for
    special tokens and padding). Labels: ``arc_labels`` ``[batch_size, n_words]`` (CoNLL-U HEAD: 0 for ROOT,
    else the 1-based word) and ``rel_labels`` ``[batch_size, n_words]`` (relation ids), -100 at padding.
    """

    task_name = "dep_parsing"
    head_config_class = DependencyParsingHeadConfig
    renamed_weights = {"head.root": "head.root.weight"}  # ROOT's vector became a module, for PEFT's modules_to_save

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        config = checked_head_config(type(self).__name__, head_config, DependencyParsingHeadConfig)
        return HeadSpec(DependencyParsingHead(backbone, config))

    def forward(  # type: ignore[override]  # other inputs than the shared forward of label-only tasks
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        word_ids: torch.LongTensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        arc_labels: torch.LongTensor | None = None,
        rel_labels: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        num_items_in_batch: torch.Tensor | int | None = None,
        **kwargs: Any,
    ) -> DependencyParsingOutput:
        """Score, and in eval mode decode, the trees of a batch of sentences (see the class docstring).

        ``inputs_embeds`` may replace ``input_ids``; ``position_ids`` and other keyword arguments go to the
        backbone. With labels, the loss is divided by ``num_items_in_batch`` when given (the words of a whole
        accumulated batch, see :func:`~archit.modeling.parsing.arc_label_loss`).

        Raises:
            DataError: ``word_ids`` is missing; neither ``input_ids`` nor ``inputs_embeds`` is given;
                ``position_ids`` with a sentence longer than the backbone takes; labels of the wrong shape or
                dtype, or malformed gold trees.
        """
        if word_ids is None:
            raise DataError("ForDependencyParsing needs word_ids; build batches with archit's parsing collator.")
        needs_layers = output_hidden_states or self.head.n_layers > 1
        if position_ids is not None:
            kwargs["position_ids"] = position_ids
        encoded = encode_in_windows(
            self.backbone,
            input_ids,
            attention_mask,
            token_type_ids,
            needs_layers,
            self.backbone.max_length,
            inputs_embeds=inputs_embeds,
            **kwargs,
        )
        s_arc, s_rel, mask = self.head(encoded, word_ids)
        loss = None
        if arc_labels is not None:
            n_words = mask.shape[1] - 1
            rel_labels = rel_labels if rel_labels is not None else torch.full_like(arc_labels, IGNORE_INDEX)
            check_labels(arc_labels, (mask.shape[0], n_words), floating=False, argument="arc_labels")
            check_labels(rel_labels, (mask.shape[0], n_words), floating=False, argument="rel_labels")
            ignored = arc_labels.new_full((arc_labels.shape[0], 1), IGNORE_INDEX)
            # ROOT (position 0) has no head to predict
            heads, rels = torch.cat((ignored, arc_labels), 1), torch.cat((ignored, rel_labels), 1)
            loss = arc_label_loss(s_arc, s_rel, heads, rels, mask, num_items_in_batch)
        arc_predictions = rel_predictions = None
        if not self.training:
            arc_predictions = decode(s_arc.detach(), mask, self.head.decoder)
            rel_predictions = decode_labels(s_rel.detach(), arc_predictions, mask)[:, 1:]
            arc_predictions = arc_predictions[:, 1:]
        return DependencyParsingOutput(
            loss=loss,
            arc_logits=s_arc,
            rel_logits=s_rel,
            arc_predictions=arc_predictions,
            rel_predictions=rel_predictions,
            hidden_states=encoded.hidden_states if output_hidden_states else None,
        )

    def count_loss_items(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """The words with a gold head (``arc_labels`` that are not ``-100``), the items of the parsing loss."""
        arc_labels = batch.get("arc_labels")
        return None if arc_labels is None else count_labelled(arc_labels)
