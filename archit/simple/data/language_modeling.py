"""Masked and causal language modelling on plain text: one document per non-blank line.

Each document is tokenised and cut into blocks of at most ``max_seq_length`` tokens (special tokens
included) by :func:`~archit.simple.data.tokenization.cut_blocks`, the cutter the pretraining recipe uses too.
For ``masked_lm``, :class:`LanguageModelingCollator` (transformers' ``DataCollatorForLanguageModeling``) picks
15% of the non-special tokens of a block for prediction, as in BERT (80% replaced by the mask token, 10% by a
random token, 10% kept): afresh in every training epoch, from the run's seed, the epoch and the block alone (so
that batch size, gradient accumulation, process count and a resumed run do not change them), and once for
evaluation so that evaluations compare. Predictions are each document's mean token loss and perplexity."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
import torch
from transformers import DataCollatorForLanguageModeling

from archit.errors import DataError
from archit.modeling.tasks.losses import IGNORE_INDEX
from archit.simple.data.base import Example, Feature, TaskData, register_task_data, write_jsonl_lines
from archit.simple.data.collate import Collator
from archit.simple.data.tokenization import cut_blocks
from archit.simple.metrics.language_modeling import perplexity
from archit.simple.textfiles import iter_lines

__all__ = ["EVALUATION_EPOCH", "LanguageModelingCollator", "LanguageModelingData"]

MASK_PROBABILITY = 0.15

EVALUATION_EPOCH = -1
"""The epoch whose masks evaluation uses: one fixed masking, apart from every training epoch's."""

BOOKKEEPING_KEYS = ("block_index", "text_index", "example_index")
"""Keys of a block that say where it came from; they stay out of the batch."""


@dataclass
class LanguageModelingCollator(DataCollatorForLanguageModeling):
    """transformers' :class:`~transformers.DataCollatorForLanguageModeling` whose masks a resumed run repeats.

    With a ``seed``, a block that carries a ``block_index`` (every block :func:`cut_blocks` cuts) is masked by
    transformers' own ``torch_mask_tokens`` (``mlm_probability`` of its non-special tokens picked; 80% of them
    replaced by the mask token, 10% by a random token, 10% kept) with a generator seeded from the seed, the
    epoch (:meth:`set_epoch`, which the run calls at the start of each epoch) and the block's index alone. So
    batch size, gradient accumulation, process count, the order of the blocks and resuming an interrupted run
    do not change any block's masks. Every other batch is collated by transformers' collator unchanged (its
    ``seed`` then seeds one generator for the whole run, as in transformers). The keys in
    :data:`BOOKKEEPING_KEYS` stay out of the batch.

    Nothing forces a block to have a masked token: a short block may have none and then adds no item to the
    loss, whose normalisation counts items (``num_items_in_batch``), so its weight is simply nil.

    Args (besides transformers'):
        epoch: the epoch whose masks to draw, from 0; :data:`EVALUATION_EPOCH` for evaluation's fixed masks.
    """

    epoch: int = 0

    def set_epoch(self, epoch: int) -> None:
        """Mask the blocks of training epoch ``epoch`` (from 0), or :data:`EVALUATION_EPOCH`."""
        self.epoch = epoch

    def mask_block(
        self, input_ids: Sequence[int], special_tokens_mask: Sequence[int] | None, block_index: int
    ) -> tuple[list[int], list[int]]:
        """One block masked for the current epoch: ``(input ids, labels)``, labels -100 except at picked tokens.

        Args:
            input_ids: the block's ids, special tokens included.
            special_tokens_mask: 1 at the special tokens, which are never picked; ``None`` to ask the tokenizer.
            block_index: the block's index, which with the seed and the epoch alone decides its masks.

        Raises:
            DataError: the collator has no seed.
        """
        if self.seed is None:
            raise DataError("Reproducible masking needs a seed; create the collator with seed=<int>.")
        # the epoch shifted by one: evaluation (-1) gets its own stream, apart from every training epoch
        sequence = np.random.SeedSequence([self.seed, block_index], spawn_key=(self.epoch + 1,))
        generator = torch.Generator().manual_seed(int(sequence.generate_state(1)[0]))
        special = None if special_tokens_mask is None else torch.tensor([list(special_tokens_mask)], dtype=torch.bool)
        shared = self.generator
        self.generator: torch.Generator | None = generator  # transformers' collator draws from it (set by its seed)
        try:
            ids, labels = self.torch_mask_tokens(torch.tensor([list(input_ids)]), special_tokens_mask=special)
        finally:
            self.generator = shared
        return ids[0].tolist(), labels[0].tolist()

    def torch_call(self, examples: list[Any]) -> dict[str, Any]:
        if not isinstance(examples[0], Mapping):
            return super().torch_call(examples)
        if not (self.mlm and self.seed is not None and "block_index" in examples[0]):
            return super().torch_call(
                [{key: value for key, value in example.items() if key not in BOOKKEEPING_KEYS} for example in examples]
            )
        masked = []
        for example in examples:
            ids, labels = self.mask_block(
                example["input_ids"], example.get("special_tokens_mask"), example["block_index"]
            )
            masked.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
        return Collator(self.tokenizer)(masked)


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

    def read_chunks(self, path: str, size: int) -> Iterator[list[Example]]:
        """The whole file as one chunk: a block's evaluation masks are seeded by its index in the file."""
        yield self.read(path)

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        if self.task == "masked_lm" and self.tokenizer.mask_token_id is None:
            raise DataError(
                f"masked_lm needs a tokenizer with a mask token; {type(self.tokenizer).__name__} of "
                f"{self.tokenizer.name_or_path!r} has none. Use causal_lm, or a masked-LM checkpoint."
            )
        room = self.config.max_seq_length - self.tokenizer.num_special_tokens_to_add(pair=False)
        if room < 1:
            raise DataError(f"max_seq_length {self.config.max_seq_length} leaves no room besides special tokens.")
        masking = self._masking_collator(EVALUATION_EPOCH) if self.task == "masked_lm" and not training else None
        features = []
        for block in cut_blocks(self.tokenizer, [example["text"] for example in examples], self.config.max_seq_length):
            ids, special = block["input_ids"], block["special_tokens_mask"]
            feature: Feature = {
                "input_ids": ids,
                "attention_mask": [1] * len(ids),
                "special_tokens_mask": special,
                "example_index": block["text_index"],
                "block_index": block["block_index"],
            }
            if self.task == "causal_lm":
                feature["labels"] = list(ids)
            elif masking is not None:
                feature["input_ids"], feature["labels"] = masking.mask_block(ids, special, block["block_index"])
            features.append(feature)
        return features

    def collator(self, training: bool = False) -> Collator | LanguageModelingCollator:
        if training and self.task == "masked_lm":
            return self._masking_collator(epoch=0)
        return Collator(self.tokenizer, side="right")

    def _masking_collator(self, epoch: int) -> LanguageModelingCollator:
        """The masked-LM collator of the run's seed, drawing the masks of ``epoch``."""
        return LanguageModelingCollator(
            self.tokenizer, mlm_probability=MASK_PROBABILITY, return_tensors="pt", seed=self.config.seed, epoch=epoch
        )

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

    def write_predictions_to(
        self, handle: TextIO, predictions: Sequence[dict[str, float]], examples: Sequence[Example]
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
        write_jsonl_lines(handle, records)

    @property
    def main_metric(self) -> str:
        return "perplexity"

    @property
    def greater_is_better(self) -> bool:
        return False
