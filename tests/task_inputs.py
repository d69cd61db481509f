"""Labels of the right shapes for every task, added to tiny inputs; the head sizes the tiny tests use."""

from __future__ import annotations

from typing import Any

import torch

NUM_LABELS = 3
N_WORDS = 4
LANGUAGE_MODEL_TASKS = ("masked_lm", "causal_lm")


def head_fields(task: str) -> dict[str, Any]:
    """Head-config fields for ``task`` at tiny size."""
    if task in ("token_classification", "sequence_classification", "multi_label_classification"):
        return {"num_labels": NUM_LABELS}
    if task == "dep_parsing":
        return {"num_labels": NUM_LABELS, "arc_mlp_size": 16, "label_mlp_size": 8}
    return {}


def labelled_inputs(task: str, inputs: dict[str, Any], generator: Any) -> dict[str, Any]:
    """``inputs`` (token ids and an attention mask, ``(batch, seq)``) with the labels of ``task`` added, reshaped
    where the task reads other shapes (multiple choice)."""
    input_ids, attention_mask = inputs["input_ids"], inputs["attention_mask"]
    batch, seq_len = input_ids.shape
    inputs = dict(inputs)
    if task == "token_classification":
        inputs["labels"] = torch.randint(0, NUM_LABELS, (batch, seq_len), generator=generator)
        inputs["labels"] = inputs["labels"].masked_fill(attention_mask == 0, -100)
    elif task == "sequence_classification":
        inputs["labels"] = torch.randint(0, NUM_LABELS, (batch,), generator=generator)
    elif task == "multi_label_classification":
        inputs["labels"] = torch.randint(0, 2, (batch, NUM_LABELS), generator=generator).float()
    elif task == "regression":
        inputs["labels"] = torch.randn(batch, generator=generator)
    elif task in ("extractive_qa", "extractive_aqa"):
        inputs["start_positions"] = torch.randint(0, seq_len, (batch,), generator=generator)
        inputs["end_positions"] = torch.randint(0, seq_len, (batch,), generator=generator)
        if task == "extractive_aqa":
            inputs["answerable"] = torch.randint(0, 2, (batch,), generator=generator)
    elif task == "multiple_choice":
        inputs = {key: value.unsqueeze(1).expand(-1, 2, -1).contiguous() for key, value in inputs.items()}
        inputs["labels"] = torch.randint(0, 2, (batch,), generator=generator)
    elif task in LANGUAGE_MODEL_TASKS:
        inputs["labels"] = input_ids.masked_fill(attention_mask == 0, -100)
    elif task == "dep_parsing":
        # tokens: [special, w0, w0, w1, w2, w3, special], so seven tokens make four words
        inputs["word_ids"] = torch.tensor([[-1, 0, 0, 1, 2, 3, -1]]).expand(batch, -1).clone()
        inputs["arc_labels"] = torch.tensor([[2, 0, 2, 3]]).expand(batch, -1).clone()
        inputs["rel_labels"] = torch.randint(0, NUM_LABELS, (batch, N_WORDS), generator=generator)
        inputs["attention_mask"] = torch.ones_like(input_ids)
    return inputs
