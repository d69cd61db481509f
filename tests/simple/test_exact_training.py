"""Training numbers that do not depend on how a run batches: batch 8 and batch 4 with 2 accumulation steps log
the same loss and gradient norm for every task (the two-process case is in test_distributed.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archit.simple import RunConfiguration, run_simple
from tests.simple.tasks import EIGHT_EXAMPLES, write_eight_examples

# transformers 4.57 rounds the logged loss to 4 decimals
LOSS_TOLERANCE = {"rel": 1e-5, "abs": 1e-4}


def eight_example_options(task: str, checkpoint: str, data_file: str, output_dir: Path) -> dict:
    """One optimizer step over the eight examples of ``task`` at learning rate 0, logged, without dropout."""
    head_options = {"dropout": 0.0}
    if task == "dep_parsing":
        head_options.update(arc_mlp_size=16, label_mlp_size=8)
    return {
        "task": task,
        "model_name_or_path": checkpoint,
        "train_file": data_file,
        "output_dir": str(output_dir),
        "max_train_samples": 8,
        "max_steps": 1,
        "learning_rate": 0.0,
        "logging_steps": 1,
        "eval_strategy": "no",
        "max_seq_length": 48,
        "doc_stride": 16,
        "progress_bars": False,
        "head_options": head_options,
    }


def first_step(output_dir: Path) -> dict:
    """The loss and gradient norm the run logged for its first step."""
    log_history = json.loads((output_dir / "log_history.json").read_text(encoding="utf-8"))
    entry = next(entry for entry in log_history if "loss" in entry)
    return {"loss": entry["loss"], "grad_norm": entry["grad_norm"]}


def assert_same_step(actual: dict, expected: dict) -> None:
    assert actual["loss"] == pytest.approx(expected["loss"], **LOSS_TOLERANCE)
    assert actual["grad_norm"] == pytest.approx(expected["grad_norm"], rel=1e-4)


@pytest.mark.parametrize("task", sorted(EIGHT_EXAMPLES))
def test_gradient_accumulation_gives_the_loss_and_gradients_of_one_batch(
    tmp_path, dropout_free_checkpoints, task
) -> None:
    checkpoint = dropout_free_checkpoints[EIGHT_EXAMPLES[task][0]]
    data_file = write_eight_examples(tmp_path, task)
    steps = {}
    for batch_size, accumulation in ((8, 1), (4, 2), (2, 4)):
        output_dir = tmp_path / f"batch-{batch_size}"
        options = eight_example_options(task, checkpoint, data_file, output_dir)
        run_simple(RunConfiguration(**options, train_batch_size=batch_size, gradient_accumulation_steps=accumulation))
        steps[batch_size] = first_step(output_dir)
    assert steps[8]["grad_norm"] > 0
    assert_same_step(steps[4], steps[8])
    assert_same_step(steps[2], steps[8])
