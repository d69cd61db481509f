"""The same run under ``torchrun`` and ``accelerate launch`` with two CPU processes (gloo): training completes,
only rank 0 writes files, the metrics have the format of a single-process run's, and the loss and gradients
are those of one process with the whole batch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from archit.simple import RunConfiguration, run_simple
from tests.simple.tasks import EIGHT_EXAMPLES, NER, write_eight_examples, write_task_data
from tests.simple.test_exact_training import assert_same_step, eight_example_options, first_step

pytestmark = pytest.mark.slow  # several processes

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES = REPOSITORY / "tests" / "fixtures"
RECORDING_LAUNCH = str(Path(__file__).with_name("recording_launch.py"))
LAUNCHERS = {
    "torchrun": [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"],
    "accelerate": [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
    ],
}


def _launch_environment(**extra: str) -> dict[str, str]:
    """The launched processes' environment: this checkout importable, one thread each, and ``extra``."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        **extra,
    }


def _run_options(checkpoint: str, data_file: str, output_dir: Path) -> dict:
    return {
        "task": "token_classification",
        "model_name_or_path": checkpoint,
        "train_file": data_file,
        "validation_file": data_file,
        "test_file": data_file,
        "output_dir": str(output_dir),
        "max_steps": 2,
        "train_batch_size": 1,
        "eval_batch_size": 1,
        "logging_steps": 1,
        "eval_strategy": "steps",
        "eval_steps": 1,
        "progress_bars": False,
    }


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_two_process_run_writes_once_with_single_process_metrics(tmp_path, checkpoints, launcher) -> None:
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    output_dir, logs = tmp_path / "distributed", tmp_path / "writes"
    logs.mkdir()
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump(_run_options(checkpoints["bert"], data_file, output_dir)), encoding="utf-8")
    environment = _launch_environment(ARCHIT_WRITE_LOG=str(logs))
    command = [*LAUNCHERS[launcher], RECORDING_LAUNCH, "train", "--config", str(config_file)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.count("outputs in") == 1  # only rank 0 reports
    written = {rank: (logs / f"writes-{rank}.txt").read_text(encoding="utf-8").split() for rank in (0, 1)}
    expected = {output_dir / name for name in ("metrics.json", "config.yaml", "loss.png", "predictions.jsonl")}
    assert expected <= {Path(path) for path in written[0]}
    assert not [path for path in written[1] if Path(path).is_relative_to(output_dir)]
    metrics = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"))
    single = run_simple(RunConfiguration(**_run_options(checkpoints["bert"], data_file, tmp_path / "single")))
    assert {split: sorted(values) for split, values in metrics.items()} == {
        split: sorted(values) for split, values in single.metrics.items()
    }


@pytest.mark.parametrize("task", ["dep_parsing", "token_classification", "sequence_classification"])
def test_two_processes_give_the_loss_and_gradients_of_one(tmp_path, dropout_free_checkpoints, task) -> None:
    """Two processes with 4 examples each log what one process with all 8 logs."""
    checkpoint = dropout_free_checkpoints[EIGHT_EXAMPLES[task][0]]
    data_file = write_eight_examples(tmp_path, task)
    options = eight_example_options(task, checkpoint, data_file, tmp_path / "two")
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump({**options, "train_batch_size": 4}), encoding="utf-8")
    environment = _launch_environment()
    command = [*LAUNCHERS["torchrun"], "-m", "archit.simple.cli", "train", "--config", str(config_file)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    run_simple(RunConfiguration(**{**options, "output_dir": str(tmp_path / "one"), "train_batch_size": 8}))
    two, one = first_step(tmp_path / "two"), first_step(tmp_path / "one")
    assert one["grad_norm"] > 0
    assert_same_step(two, one)


def _multitask_options(checkpoint: str, treebank: str, output_dir: Path) -> dict:
    """One logged optimizer step at learning rate 0 of a tagging and a parsing task taken in turn, no dropout."""
    return {
        "model_name_or_path": checkpoint,
        "output_dir": str(output_dir),
        "max_steps": 1,
        "train_batch_size": 2,
        "learning_rate": 0.0,
        "logging_steps": 1,
        "progress_bars": False,
        "sampling": "round_robin",
        "tasks": [
            {
                "name": "upos",
                "task": "token_classification",
                "conllu_label_field": "upos",
                "train_file": treebank,
                "test_file": treebank,
                "head_options": {"dropout": 0.0},
            },
            {
                "name": "deps",
                "task": "dep_parsing",
                "train_file": treebank,
                "test_file": treebank,
                "head_options": {"arc_mlp_size": 16, "label_mlp_size": 8, "dropout": 0.0},
                "loss_weight": 2.0,
            },
        ],
    }


def test_two_process_multitask_run_is_one_process_accumulating_both_batches(tmp_path, dropout_free_checkpoints):
    """Under ``torchrun`` each process takes its own scheduled batch (rank 0 the tagging batch, rank 1 the parsing
    batch): the step is the one a single process takes accumulating both, with each task's loss exact and
    weighted; only rank 0 writes, and the metrics are keyed as a single-process run's."""
    from archit._compat import sequential_training_order
    from archit.simple.multitask import MultiTaskRunConfiguration, run_multitask

    treebank = str(shutil.copy(FIXTURES / "en_tiny.conllu", tmp_path / "treebank.conllu"))
    options = _multitask_options(dropout_free_checkpoints["bert"], treebank, tmp_path / "two")
    config_file = tmp_path / "multitask.yaml"
    config_file.write_text(yaml.safe_dump(options), encoding="utf-8")
    environment = _launch_environment()
    command = [*LAUNCHERS["torchrun"], "-m", "archit.simple.cli", "train", "--config", str(config_file)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    one = run_multitask(
        MultiTaskRunConfiguration.from_dict(
            {**options, "output_dir": str(tmp_path / "one"), "gradient_accumulation_steps": 2}
        )
    )
    two_metrics = json.loads((tmp_path / "two" / "metrics.json").read_text(encoding="utf-8"))
    assert {task: sorted(splits["test"]) for task, splits in two_metrics["tasks"].items()} == {
        task: sorted(splits["test"]) for task, splits in one.metrics["tasks"].items()
    }
    # learning rate 0: both runs score the untrained model on the same file
    assert two_metrics["tasks"]["deps"]["test"]["las"] == one.metrics["tasks"]["deps"]["test"]["las"]
    if not sequential_training_order():
        pytest.skip("transformers 4.57's Trainer shuffles the scheduled batches: the first step differs in order")
    log_two = json.loads((tmp_path / "two" / "log_history.json").read_text(encoding="utf-8"))
    log_one = json.loads((tmp_path / "one" / "log_history.json").read_text(encoding="utf-8"))
    two, one_step = (next(entry for entry in log if "loss" in entry) for log in (log_two, log_one))
    assert one_step["grad_norm"] > 0 and {"loss_upos", "loss_deps"} <= set(one_step)
    assert_same_step(two, one_step)
    for task in ("upos", "deps"):
        assert two[f"loss_{task}"] == pytest.approx(one_step[f"loss_{task}"], abs=1e-4)


def test_two_process_predict_writes_what_one_process_writes(tmp_path, checkpoints) -> None:
    """``archit predict`` under torchrun: the processes share the batches, rank 0 alone writes, and the file is
    the single-process one (sentences of varied lengths, batched by length)."""
    from archit.simple.inference import predict
    from tests.simple.test_prediction import bio_text

    data_file = write_task_data(tmp_path, "ner.txt", NER)
    options = {**_run_options(checkpoints["bert"], data_file, tmp_path / "run"), "eval_strategy": "no"}
    run_simple(RunConfiguration(**{**options, "validation_file": None, "test_file": None}))
    new_file = write_task_data(tmp_path, "new.txt", bio_text(37))
    environment = _launch_environment()
    two = tmp_path / "two.jsonl"
    arguments = ["predict", str(tmp_path / "run"), "--data", new_file, "--output", str(two), "--batch-size", "4"]
    command = [*LAUNCHERS["torchrun"], "-m", "archit.simple.cli", *arguments]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.count("predictions written to") == 1
    one, _ = predict(str(tmp_path / "run"), new_file, str(tmp_path / "one.jsonl"), batch_size=4)
    assert two.read_bytes() == Path(one).read_bytes()
