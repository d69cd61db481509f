"""Runs that survive faults: a run killed with SIGKILL resumes (``--resume``) to the metrics of an uninterrupted
run, a kill while writing leaves no partial output, and the same seed gives the same metrics twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

from archit.simple import RunConfiguration, run_simple
from archit.simple.config import RunConfigurationError
from archit.simple.training import complete_checkpoints
from tests.simple.tasks import NER_EIGHT, write_task_data

REPOSITORY = Path(__file__).resolve().parents[2]
INTERRUPTED_RUN = str(Path(__file__).with_name("interrupted_run.py"))
OUTPUTS = ("config.yaml", "log_history.json", "loss.png", "metrics.json", "model", "predictions.jsonl")


@pytest.fixture
def config_file(tmp_path, checkpoints) -> Path:
    """Six steps over eight sentences (an epoch is four steps), with dropout, a checkpoint every two steps."""
    data_file = write_task_data(tmp_path, "ner.txt", NER_EIGHT)
    options = {
        "task": "token_classification",
        "model_name_or_path": checkpoints["bert"],
        "train_file": data_file,
        "validation_file": data_file,
        "test_file": data_file,
        "max_steps": 6,
        "train_batch_size": 2,
        "learning_rate": 1e-3,
        "warmup_steps": 2,
        "logging_steps": 1,
        "eval_strategy": "no",
        "save_strategy": "steps",
        "save_steps": 2,
        "progress_bars": False,
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(options), encoding="utf-8")
    return path


def _train(config_file: Path, output_dir: Path, *kill: str, resume: bool = True) -> subprocess.CompletedProcess:
    """``archit train`` in a fresh single-threaded process (as every run compared here), killed as asked."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    options = ["--config", str(config_file), "--output-dir", str(output_dir), *(["--resume"] if resume else [])]
    command = [sys.executable, INTERRUPTED_RUN, *kill, "--", *options]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)


def _metrics(output_dir: Path) -> dict:
    """The run's metrics without its timings (runtime, samples and steps per second)."""
    metrics = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"))
    return {
        split: {key: value for key, value in values.items() if "runtime" not in key and "per_second" not in key}
        for split, values in metrics.items()
    }


def _losses(output_dir: Path) -> list[tuple[int, float]]:
    log_history = json.loads((output_dir / "log_history.json").read_text(encoding="utf-8"))
    return [(entry["step"], entry["loss"]) for entry in log_history if "loss" in entry]


def _assert_whole(output_dir: Path) -> None:
    """Every output present reads completely, and nothing unfinished is left beside them."""
    for name in OUTPUTS:
        path = output_dir / name
        if name.endswith(".json") and path.exists():
            json.loads(path.read_text(encoding="utf-8"))
        elif name == "config.yaml" and path.exists():
            RunConfiguration.from_yaml(str(path))
        elif name == "predictions.jsonl" and path.exists():
            assert all(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
        elif name == "loss.png" and path.exists():
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.read_bytes()[-8:-4] == b"IEND"
        elif name == "model" and path.exists():
            load_file(str(path / "model.safetensors"))
            RunConfiguration.from_yaml(str(path / "archit_run.yaml"))


def test_a_killed_run_resumes_to_the_metrics_of_an_uninterrupted_one(tmp_path, config_file) -> None:
    uninterrupted, resumed = tmp_path / "uninterrupted", tmp_path / "resumed"
    assert _train(config_file, uninterrupted, resume=False).returncode == 0
    # the job's command line stays the same: --resume on the first launch finds no checkpoint and starts afresh
    killed = _train(config_file, resumed, "--kill-after-step", "3")
    assert killed.returncode == -9 and "no complete checkpoint" in killed.stderr
    checkpoints = resumed / "checkpoints"
    assert complete_checkpoints(str(checkpoints)) == [str(checkpoints / "checkpoint-2")]
    # a checkpoint cut short by a kill while it was written: no trainer_state.json yet
    (checkpoints / "checkpoint-4").mkdir()
    (checkpoints / "checkpoint-4" / "model.safetensors").write_bytes(b"partial")
    result = _train(config_file, resumed)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "continuing from" in result.stderr and "checkpoint-2" in result.stderr
    assert _losses(resumed) == _losses(uninterrupted)
    assert _metrics(resumed) == _metrics(uninterrupted)
    assert (resumed / "predictions.jsonl").read_bytes() == (uninterrupted / "predictions.jsonl").read_bytes()
    weights = load_file(str(resumed / "model" / "model.safetensors"))
    expected = load_file(str(uninterrupted / "model" / "model.safetensors"))
    assert weights.keys() == expected.keys() and all((weights[k] == expected[k]).all() for k in expected)


def test_the_same_seed_gives_the_same_metrics_twice(tmp_path, config_file) -> None:
    for name in ("first", "second"):
        run_simple(RunConfiguration.from_yaml(str(config_file), output_dir=str(tmp_path / name)))
    assert _metrics(tmp_path / "first") == _metrics(tmp_path / "second")
    assert _losses(tmp_path / "first") == _losses(tmp_path / "second")


@pytest.mark.parametrize("target", ["model", "metrics.json"])
def test_a_kill_while_writing_leaves_no_partial_output(tmp_path, config_file, target) -> None:
    output_dir = tmp_path / "run"
    killed = _train(config_file, output_dir, "--kill-before-replacing", target)
    assert killed.returncode == -9
    assert not (output_dir / target).exists()
    assert not (output_dir / "metrics.json").exists()  # written last: its presence means the run is complete
    _assert_whole(output_dir)
    assert [name for name in os.listdir(output_dir) if ".partial" in name]  # the unfinished write, hidden
    # the same command again ends the run from its last checkpoint and clears what the kill left
    result = _train(config_file, output_dir)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "checkpoint-6" in result.stderr
    assert set(OUTPUTS) <= set(os.listdir(output_dir))
    assert not [name for name in os.listdir(output_dir) if ".partial" in name]
    _assert_whole(output_dir)


def test_resume_needs_checkpoints() -> None:
    with pytest.raises(
        RunConfigurationError, match="resume continues from the run's newest checkpoint, but save_strategy"
    ):
        RunConfiguration(task="regression", model_name_or_path="unused", resume=True)
    RunConfiguration(task="regression", model_name_or_path="unused", resume=True, save_strategy="epoch")
