"""Masked and causal language modelling on plain text: one document per non-blank line.

Each document is tokenised and cut into blocks of at most ``max_seq_length`` tokens (special tokens
included). For ``masked_lm``, 15% of the non-special tokens of a block are picked for prediction, as in
BERT (80% replaced by the mask token, 10% by a random token, 10% kept): afresh in every training epoch, from
the run's seed, the epoch and the block alone (so that batch size, gradient accumulation, process count and a
resumed run do not change them), and once with the run's seed for evaluation so that evaluations compare. Predictions are each document's mean
token loss and perplexity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from archit.errors import DataError
from archit.modeling.tasks.losses import IGNORE_INDEX
from archit.simple.data.base import Example, Feature, TaskData, register_task_data, write_jsonl
from archit.simple.data.collate import Collator
from archit.simple.data.tokenization import encode_blocks
from archit.simple.metrics.language_modeling import perplexity
from archit.simple.textfiles import iter_lines

__all__ = ["LanguageModelingData", "mask_tokens"]

MASK_PROBABILITY = 0.15


def mask_tokens(
    input_ids: Sequence[int],
    special_tokens_mask: Sequence[int],
    mask_id: int,
    vocab_size: int,
    rng: np.random.Generator,
) -> tuple[list[int], list[int]]:
    """BERT's masking of one block: ``(masked ids, labels)``, labels ``-100`` except at picked positions.

    At least one non-special token is picked, so that no block has an empty loss.
    """
    candidates = [i for i, special in enumerate(special_tokens_mask) if not special]
    ids, labels = list(input_ids), [IGNORE_INDEX] * len(input_ids)
    if not candidates:
        return ids, labels
    picked = [i for i in candidates if rng.random() < MASK_PROBABILITY] or [candidates[rng.integers(len(candidates))]]
    for i in picked:
        labels[i] = ids[i]
        draw = rng.random()
        if draw < 0.8:
            ids[i] = mask_id
        elif draw < 0.9:
            ids[i] = int(rng.integers(vocab_size))
    return ids, labels


class MaskingCollator(Collator):
    """Pads blocks and masks them for ``masked_lm`` training, with fresh positions each epoch.

    The positions of a block depend on the seed, the epoch (:meth:`set_epoch`, which the run calls at the start
    of each epoch) and the block's index (``block_index``) only.
    """

    def __init__(self, tokenizer: Any, seed: int) -> None:
        super().__init__(tokenizer, side="right")
        self.mask_id = tokenizer.mask_token_id
        self.vocab_size = len(tokenizer)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Mask the blocks of training epoch ``epoch`` (from 0)."""
        self.epoch = epoch

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        masked = []
        for feature in features:
            rng = np.random.default_rng([self.seed, self.epoch, feature["block_index"]])
            ids, labels = mask_tokens(
                feature["input_ids"], feature["special_tokens_mask"], self.mask_id, self.vocab_size, rng
            )
            masked.append({**feature, "input_ids": ids, "labels": labels})
        return super().__call__(masked)


@register_task_data
class LanguageModelingData(TaskData):
    """Data of ``masked_lm`` and ``causal_lm``."""

    tasks = ("masked_lm", "causal_lm")
    formats = "plain text, one document per line"
    metrics = {"masked_lm": "perplexity", "causal_lm": "perplexity"}

    def read(self, path: str) -> list[Example]:
        examples = [
            {"line": number, "text": line} for number, line in iter_lines(path, self.config.encoding) if line.strip()
        ]
        if not examples:
            raise DataError(f"{path}: the file holds no text (one document per non-blank line).")
        return examples

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        if self.task == "masked_lm" and self.tokenizer.mask_token_id is None:
            raise DataError(
                f"masked_lm needs a tokenizer with a mask token; {type(self.tokenizer).__name__} of "
                f"{self.tokenizer.name_or_path!r} has none. Use causal_lm, or a masked-LM checkpoint."
            )
        room = self.config.max_seq_length - self.tokenizer.num_special_tokens_to_add(pair=False)
        if room < 1:
            raise DataError(f"max_seq_length {self.config.max_seq_length} leaves no room besides special tokens.")
        rng = np.random.default_rng(self.config.seed)
        features = []
        for block in encode_blocks(
            self.tokenizer, [example["text"] for example in examples], self.config.max_seq_length
        ):
            ids, special = block["input_ids"], block["special_tokens_mask"]
            feature: Feature = {
                "input_ids": ids,
                "attention_mask": [1] * len(ids),
                "special_tokens_mask": special,
                "example_index": block["text_index"],
                "block_index": len(features),
            }
            if self.task == "causal_lm":
                feature["labels"] = list(ids)
            elif not training:
                mask_id, vocab_size = self.tokenizer.mask_token_id, len(self.tokenizer)
                feature["input_ids"], feature["labels"] = mask_tokens(ids, special, mask_id, vocab_size, rng)
            features.append(feature)
        return features

    def collator(self, training: bool = False) -> Collator:
        if training and self.task == "masked_lm":
            return MaskingCollator(self.tokenizer, self.config.seed)
        return Collator(self.tokenizer, side="right")

    @property
    def prediction_names(self) -> tuple[str, ...]:
        return ("token_loss", "token_mask")

    def reduce_outputs(self, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Per-token losses instead of vocabulary-sized logits: ``token_loss`` and ``token_mask``
        ``[batch_size, seq_len]`` (the causal model's shift applied: position ``i`` scores token ``i + 1``)."""
        logits, labels = super().reduce_outputs(outputs, inputs)["logits"].float(), inputs["labels"]
        if self.task == "causal_lm":
            logits, labels = logits[:, :-1], labels[:, 1:]
        mask = labels != IGNORE_INDEX
        # [batch_size, seq_len]: cross-entropy of each scored token, 0 elsewhere
        losses = (
            torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels.masked_fill(~mask, 0), reduction="none")
            * mask
        )
        return {"token_loss": losses, "token_mask": mask.long()}

    def decode(
        self, outputs: Mapping[str, np.ndarray], features: Sequence[Feature], examples: Sequence[Example]
    ) -> list[dict[str, float]]:
        totals = np.zeros(len(examples))
        counts = np.zeros(len(examples))
        for index, feature in enumerate(features):
            mask = np.asarray(outputs["token_mask"][index]) == 1
            totals[feature["example_index"]] += float(np.asarray(outputs["token_loss"][index])[mask].sum())
            counts[feature["example_index"]] += int(mask.sum())
        return [
            {"loss": total / count if count else math.nan, "tokens": int(count)}
            for total, count in zip(totals, counts, strict=True)
        ]

    def score(self, predictions: Sequence[dict[str, float]], examples: Sequence[Example]) -> dict[str, float]:
        tokens = sum(p["tokens"] for p in predictions)
        if not tokens:
            return {}
        loss = sum(p["loss"] * p["tokens"] for p in predictions if p["tokens"]) / tokens
        return {"nll": loss, "perplexity": perplexity(loss)}

    def write_predictions(
        self, path: str, predictions: Sequence[dict[str, float]], examples: Sequence[Example]
    ) -> None:
        records = []
        for prediction, example in zip(predictions, examples, strict=True):
            scored = prediction["tokens"] > 0
            records.append(
                {
                    "line": example["line"],
                    "tokens_scored": prediction["tokens"],
                    "loss": prediction["loss"] if scored else None,
                    "perplexity": perplexity(prediction["loss"]) if scored else None,
                }
            )
        write_jsonl(path, records)

    @property
    def main_metric(self) -> str:
        return "perplexity"

    @property
    def greater_is_better(self) -> bool:
        return False
