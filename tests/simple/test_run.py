"""``run_simple`` end to end on every task: tiny data, a tiny model, a few steps; every output file readable."""

from __future__ import annotations

import json

import pytest

from archit.errors import CheckpointError, DataError
from archit.simple import RunConfiguration, run_simple
from archit.simple.config import RunConfigurationError
from archit.simple.formats.conllu import read_conllu
from archit.simple.inference import evaluate, predict
from tests.simple.tasks import TASK_CASES, write_task_data

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _config(tmp_path, checkpoints, task: str, kind: str, data_file: str, **overrides) -> RunConfiguration:
    values = {
        "task": task,
        "model_name_or_path": checkpoints[kind],
        "output_dir": str(tmp_path / "run"),
        "train_file": data_file,
        "validation_file": data_file,
        "test_file": data_file,
        "max_steps": 2,
        "train_batch_size": 2,
        "eval_batch_size": 2,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "eval_strategy": "steps",
        "eval_steps": 1,
        "max_seq_length": 48,
        "doc_stride": 16,
        "progress_bars": False,
        "head_options": {"arc_mlp_size": 16, "label_mlp_size": 8} if task == "dep_parsing" else {},
    }
    return RunConfiguration(**{**values, **overrides})


def _check_predictions(path: str, suffix: str, n_examples: int) -> None:
    assert path.endswith("predictions" + suffix)
    if suffix == ".conllu":
        assert len(read_conllu(path)) == n_examples
        return
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    assert len(records) == n_examples
    assert all("prediction" in record or "loss" in record for record in records)


@pytest.mark.parametrize(
    ("task", "kind", "name", "content", "metric", "suffix"),
    TASK_CASES,
    ids=[f"{case[0]}-{case[2]}" for case in TASK_CASES],
)
def test_every_task_end_to_end(tmp_path, checkpoints, task, kind, name, content, metric, suffix) -> None:
    data_file = write_task_data(tmp_path, name, content)
    result = run_simple(_config(tmp_path, checkpoints, task, kind, data_file))
    with open(result.metrics_file, encoding="utf-8") as handle:
        metrics = json.load(handle)
    assert set(metrics) == {"train", "validation", "test"}
    assert metric in metrics["test"] and metrics["test"] == pytest.approx(result.metrics["test"])
    assert "train_loss" in metrics["train"]
    with open(result.plot_file, "rb") as handle:
        assert handle.read(8) == PNG_MAGIC
    resolved = RunConfiguration.from_yaml(result.config_file)
    assert resolved.task == task and resolved.output_dir == result.output_dir
    from archit.simple.data import get_task_data, load_tokenizer

    data = get_task_data(task, resolved, load_tokenizer(result.model_dir))
    _check_predictions(result.predictions_file, suffix, len(data.read(data_file)))
    log_history = json.loads((tmp_path / "run" / "log_history.json").read_text(encoding="utf-8"))
    assert any("eval_loss" in entry for entry in log_history)


def test_predict_and_evaluate_a_trained_model(tmp_path, checkpoints) -> None:
    task, kind, name, content, _, _ = TASK_CASES[0]
    data_file = write_task_data(tmp_path, name, content)
    result = run_simple(_config(tmp_path, checkpoints, task, kind, data_file, validation_file=None, test_file=None))
    assert result.predictions_file is None and set(result.metrics) == {"train"}
    unlabelled = tmp_path / "raw.txt"
    unlabelled.write_text("John\nSmith\n\nParis\n", encoding="utf-8")
    path, scores = predict(result.output_dir, str(unlabelled))
    assert path == str(tmp_path / "raw.predictions.jsonl") and scores == {}
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    assert [len(record["prediction"]) for record in records] == [2, 1]
    assert set(evaluate(result.model_dir, data_file)) >= {"f1", "precision", "recall", "accuracy"}
    with pytest.raises(DataError, match="holds no gold labels"):
        evaluate(result.output_dir, str(unlabelled))


def test_early_stopping_keeps_the_best_model(tmp_path, checkpoints) -> None:
    data_file = write_task_data(tmp_path, "pairs.csv", TASK_CASES[2][3])
    config = _config(
        tmp_path,
        checkpoints,
        "sequence_classification",
        "bert",
        data_file,
        max_steps=6,
        early_stopping_patience=1,
        learning_rate=0.0,
    )
    run_simple(config)
    log_history = json.loads((tmp_path / "run" / "log_history.json").read_text(encoding="utf-8"))
    assert max(entry["step"] for entry in log_history) == 2  # stopped after one evaluation without improvement


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"train_file": None}, RunConfigurationError, "train_file is not set"),
        ({"train_file": "missing.csv"}, DataError, "missing.csv: no such data file"),
        ({"model_name_or_path": "no/such/dir"}, CheckpointError, "no/such/dir"),
        ({"head_options": {"num_labels": 7}}, RunConfigurationError, "head_options sets num_labels=7"),
    ],
)
def test_bad_runs_fail_early(tmp_path, checkpoints, overrides, error, message) -> None:
    data_file = write_task_data(tmp_path, "pairs.csv", TASK_CASES[2][3])
    config = _config(tmp_path, checkpoints, "sequence_classification", "bert", data_file, **overrides)
    with pytest.raises(error, match=message):
        run_simple(config)
