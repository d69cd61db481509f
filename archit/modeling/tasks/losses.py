"""The losses of the tasks: exact under gradient accumulation and data parallelism, in fp32, never NaN.

Every loss is a sum of per-item losses divided by a number of items. Alone, that number is the items of the
batch; inside transformers' ``Trainer`` it is ``num_items_in_batch``, the items of the whole accumulated batch
on every process (archit models declare ``accepts_loss_kwargs``, and :meth:`ModelWithHead.count_loss_items`
counts the items of a batch the way the loss does). Then batch B and batch B/k with k accumulation steps, or
one process and k processes, give the same loss and gradients, as transformers' own causal LM loss does
(``transformers.loss.loss_utils.ForCausalLMLoss``). A batch with nothing to score has loss 0 (with a gradient
path), not the NaN of a mean over nothing. Logits are upcast to float32 first, whatever the model's dtype.
"""

from __future__ import annotations

from typing import TypeAlias

import torch
from torch.nn import functional

from archit.errors import DataError

__all__ = [
    "IGNORE_INDEX",
    "ItemCount",
    "binary_cross_entropy",
    "check_labels",
    "classification_cross_entropy",
    "count_labelled",
    "mean_over_items",
    "squared_error",
    "token_cross_entropy",
]

ItemCount: TypeAlias = torch.Tensor | int | None
"""``num_items_in_batch``: the items of the whole accumulated batch, or ``None`` for the items of this batch."""

IGNORE_INDEX = -100
"""Label value every loss leaves out, as in Hugging Face's token-classification convention."""


def check_labels(labels: torch.Tensor, shape: tuple[int, ...], floating: bool, argument: str = "labels") -> None:
    """Check a label tensor's shape and dtype before computing a loss.

    Raises:
        DataError: wrong shape or dtype; the message names the argument, what was expected and found.
    """
    if tuple(labels.shape) != tuple(shape):
        raise DataError(
            f"{argument} has shape {tuple(labels.shape)}, expected {tuple(shape)}; check the data collator's output."
        )
    if floating != labels.is_floating_point():
        expected = "a floating-point dtype (float32)" if floating else "an integer dtype (torch.long)"
        raise DataError(f"{argument} has dtype {labels.dtype}, expected {expected}; convert it with .to().")


def count_labelled(labels: torch.Tensor) -> torch.Tensor:
    """The number of labels that are not ``-100`` (the items of a classification loss), as a 0-d tensor."""
    return labels.ne(IGNORE_INDEX).sum()


def mean_over_items(total: torch.Tensor, n_items: torch.Tensor | int, num_items_in_batch: ItemCount) -> torch.Tensor:
    """``total`` divided by ``num_items_in_batch`` when given, else by ``n_items``; the divisor is at least 1,
    so that a batch with nothing to score gives 0, not NaN (an accumulated batch of masked-LM blocks may have
    no masked token at all)."""
    items = n_items if num_items_in_batch is None else num_items_in_batch
    if isinstance(items, torch.Tensor):
        return total / items.clamp(min=1).to(total.dtype)
    return total / max(items, 1)


def token_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None
) -> torch.Tensor:
    """Cross-entropy of ``[batch_size, seq_len, n_classes]`` logits against ``[batch_size, seq_len]`` labels,
    ``-100`` ignored: the sum over labelled tokens divided by their number (or by ``num_items_in_batch``).

    Raises:
        DataError: the labels have the wrong shape or dtype.
    """
    check_labels(labels, logits.shape[:2], floating=False)
    total = functional.cross_entropy(
        logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE_INDEX, reduction="sum"
    )
    return mean_over_items(total, count_labelled(labels), num_items_in_batch)


def classification_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None
) -> torch.Tensor:
    """Cross-entropy of ``[batch_size, n_classes]`` logits against ``[batch_size]`` class ids, ``-100`` ignored.

    Raises:
        DataError: the labels have the wrong shape or dtype.
    """
    check_labels(labels, logits.shape[:1], floating=False)
    total = functional.cross_entropy(logits.float(), labels, ignore_index=IGNORE_INDEX, reduction="sum")
    return mean_over_items(total, count_labelled(labels), num_items_in_batch)


def binary_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None
) -> torch.Tensor:
    """Binary cross-entropy of ``[batch_size, n_labels]`` logits against 0.0 / 1.0 targets of the same shape;
    a target of ``-100`` leaves its entry out. The items are the entries.

    Raises:
        DataError: the labels have the wrong shape or dtype.
    """
    check_labels(labels, logits.shape, floating=True)
    scored = labels.ne(IGNORE_INDEX)
    entries = functional.binary_cross_entropy_with_logits(logits.float(), labels.float(), reduction="none")
    return mean_over_items(entries.masked_fill(~scored, 0.0).sum(), scored.sum(), num_items_in_batch)


def squared_error(logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
    """Mean squared error of ``[batch_size, n_targets]`` predictions against targets of the same shape; the items
    are the targets.

    Raises:
        DataError: the labels have the wrong shape or dtype.
    """
    check_labels(labels, logits.shape, floating=True)
    total = functional.mse_loss(logits.float(), labels.float(), reduction="sum")
    return mean_over_items(total, labels.numel(), num_items_in_batch)
