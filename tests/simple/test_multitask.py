"""Multi-task runs: configuration, sampler, exact per-task loss counts, the run's outputs, the command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from archit._compat import sequential_training_order
from archit.errors import DataError, MultiTaskError
from archit.modeling import MultiTaskModel
from archit.simple.cli import main
from archit.simple.config import RunConfigurationError
from archit.simple.multitask import (
    MultiTaskRunConfiguration,
    ScheduledBatches,
    TaskCollator,
    _training_arguments,
    run_multitask,
    sampling_probabilities,
    task_schedule,
)
from archit.simple.training import ArchitTrainer

FIXTURES = Path(__file__).parent.parent / "fixtures"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def treebank(tmp_path) -> str:
    return str(shutil.copy(FIXTURES / "en_tiny.conllu", tmp_path / "treebank.conllu"))


def values(tmp_path, checkpoints, treebank, **overrides) -> dict:
    return {
        "model_name_or_path": checkpoints["bert"],
        "output_dir": str(tmp_path / "run"),
        "run_name": "joint",
        "max_steps": 4,
        "train_batch_size": 2,
        "eval_batch_size": 4,
        "learning_rate": 1e-3,
        "logging_steps": 2,
        "progress_bars": False,
        "sampling": "round_robin",
        "tasks": [
            {
                "name": "upos",
                "task": "token_classification",
                "conllu_label_field": "upos",
                "train_file": treebank,
                "validation_file": treebank,
            },
            {
                "name": "deps",
                "task": "dep_parsing",
                "train_file": treebank,
                "test_file": treebank,
                "head_options": {"arc_mlp_size": 16, "label_mlp_size": 8},
                "loss_weight": 2.0,
            },
        ],
        **overrides,
    }


def test_sampling_probabilities() -> None:
    sizes = {"a": 900, "b": 100}
    assert sampling_probabilities(sizes, "proportional") == pytest.approx({"a": 0.9, "b": 0.1})
    assert sampling_probabilities(sizes, "temperature", 2.0) == pytest.approx({"a": 30 / 40, "b": 10 / 40})
    assert sampling_probabilities(sizes, "round_robin") == {"a": 0.5, "b": 0.5}
    assert sampling_probabilities(sizes, "weights", weights={"a": 1.0, "b": 3.0}) == {"a": 0.25, "b": 0.75}
    assert task_schedule({"a": 0.5, "b": 0.5}, 5, "round_robin", 0) == ["a", "b", "a", "b", "a"]
    drawn = task_schedule({"a": 0.9, "b": 0.1}, 2000, "proportional", 0)
    assert 0.87 < drawn.count("a") / 2000 < 0.93
    assert drawn == task_schedule({"a": 0.9, "b": 0.1}, 2000, "proportional", 0)  # the same on every process


def test_scheduled_batches_use_every_example_before_repeating() -> None:
    features = {"a": [{"id": index} for index in range(5)], "b": [{"id": 10}]}
    batches = ScheduledBatches(features, ["a", "a", "b"], batch_size=2, seed=0)
    assert [task for task, _ in batches] == ["a", "a", "b"]
    first_four = [feature["id"] for _, chosen in list(batches)[:2] for feature in chosen]
    assert sorted(first_four) == sorted(set(first_four)) and len(first_four) == 4
    assert [feature["id"] for feature in batches[2][1]] == [10, 10]


def test_round_robin_keeps_its_order(tmp_path, checkpoints, treebank) -> None:
    """The Trainer takes the scheduled batches in the sampler's order (where transformers can be told so)."""
    config = MultiTaskRunConfiguration.from_dict(values(tmp_path, checkpoints, treebank))
    args = _training_arguments(config)
    if not hasattr(args, "train_sampling_strategy"):
        pytest.skip("this transformers release has no sequential training order; the Trainer shuffles")
    features = {"upos": [{"input_ids": [1, 2]}] * 3, "deps": [{"input_ids": [3]}] * 3}
    schedule = task_schedule({"upos": 0.5, "deps": 0.5}, 6, "round_robin", 0)
    dataset = ScheduledBatches(features, schedule, 2, 0)

    def collate(features: list) -> dict:
        return {"input_ids": torch.tensor([feature["input_ids"] for feature in features])}

    collator = TaskCollator({"upos": collate, "deps": collate})
    trainer = ArchitTrainer(
        model=torch.nn.Linear(1, 1), args=args, data_collator=collator, train_dataset=dataset, task_data=None
    )
    assert [batch["task"] for batch in trainer.get_train_dataloader()] == schedule


def test_per_task_item_counts(tmp_path, checkpoints) -> None:
    """An accumulated step counts each task's items apart, so each task's loss is divided by its own."""
    from archit.modeling import ArchitFactory

    model = ArchitFactory.from_pretrained(
        checkpoints["bert"], tasks={"a": {"task": "token_classification"}, "b": {"task": "sequence_classification"}}
    )
    batches = [
        {"task": "a", "labels": torch.tensor([[0, 1, -100]])},
        {"task": "b", "labels": torch.tensor([1, 0])},
        {"task": "a", "labels": torch.tensor([[1, -100, -100]])},
    ]
    trainer = ArchitTrainer(model=model, args=_plain_args(tmp_path), task_data=None)
    _, counts = trainer.get_batch_samples(iter(batches), 3, torch.device("cpu"))
    assert counts.tolist() == [3, 2]


def _plain_args(output_dir: Path):
    from transformers import TrainingArguments

    return TrainingArguments(output_dir=str(output_dir), report_to="none", use_cpu=True)


def test_a_joint_run_writes_every_output(tmp_path, checkpoints, treebank) -> None:
    result = run_multitask(MultiTaskRunConfiguration.from_dict(values(tmp_path, checkpoints, treebank)))
    metrics = json.loads(Path(result.metrics_file).read_text())
    assert metrics == result.metrics
    assert set(metrics) == {"train", "tasks", "macro_average"}
    assert set(metrics["tasks"]["upos"]) == {"validation"} and set(metrics["tasks"]["deps"]) == {"test"}
    assert {"accuracy", "loss"} <= set(metrics["tasks"]["upos"]["validation"])
    assert {"uas", "las", "loss"} <= set(metrics["tasks"]["deps"]["test"])
    assert metrics["macro_average"]["validation"] == {
        "main_metric": metrics["tasks"]["upos"]["validation"]["accuracy"],
        "of": {"upos": "accuracy"},
    }
    assert metrics["train"]["train_loss"] > 0
    log = json.loads((Path(result.output_dir) / "log_history.json").read_text())
    logged = [entry for entry in log if "loss" in entry]
    assert [entry["step"] for entry in logged] == [2, 4]
    assert all("loss_upos" in entry or "loss_deps" in entry for entry in logged)
    if sequential_training_order():
        # round robin over two tasks: each step trains one task; the logged loss is the weighted sum's mean
        for entry in logged:
            assert entry["loss"] == pytest.approx((entry["loss_upos"] + 2.0 * entry["loss_deps"]) / 2, abs=2e-3)
    assert Path(result.plot_file).read_bytes().startswith(PNG_MAGIC)
    assert set(result.predictions_files) == {"upos", "deps"}
    assert all(Path(path).suffix == ".conllu" and Path(path).is_file() for path in result.predictions_files.values())
    model = MultiTaskModel.from_pretrained(result.model_dir)
    assert model.task_names == ["upos", "deps"]
    assert "NOUN" in model.task_model("upos").config.id2label.values()
    saved = yaml.safe_load(Path(result.config_file).read_text())
    assert [task["name"] for task in saved["tasks"]] == ["upos", "deps"]
    assert saved["tasks"][1]["loss_weight"] == 2.0


def test_the_command_trains_predicts_and_evaluates_one_task(tmp_path, checkpoints, treebank, capsys) -> None:
    config_file = tmp_path / "multitask.yaml"
    config_file.write_text(yaml.safe_dump(values(tmp_path, checkpoints, treebank, max_steps=2)))
    assert main(["train", "--config", str(config_file)]) == 0
    assert "upos validation: " in capsys.readouterr().out
    run = str(tmp_path / "run")
    assert main(["evaluate", run, "--task", "deps", "--data", treebank]) == 0
    assert {"uas", "las"} <= set(json.loads(capsys.readouterr().out))
    output = tmp_path / "tags.conllu"
    assert main(["predict", run, "--task", "upos", "--data", treebank, "--output", str(output)]) == 0
    assert output.is_file()
    assert main(["predict", run, "--task", "ner", "--data", treebank]) == 1
    assert "No task 'ner' in this run; its tasks are upos, deps" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda v: v["tasks"].append(dict(v["tasks"][0])), MultiTaskError, "Two tasks are named 'upos'"),
        (
            lambda v: v["tasks"][1].update(train_file="missing.conllu"),
            DataError,
            "Task 'deps': train_file missing.conllu does not exist",
        ),
        (
            lambda v: v["tasks"][0].update(learning_rate=0.1),
            RunConfigurationError,
            "learning_rate is set under task 'upos', but it is shared by all tasks; move it to the top level",
        ),
        (
            lambda v: v["tasks"][0].update(head_options={"arc_mlp_size": 16}),
            MultiTaskError,
            "Head option 'arc_mlp_size' of task 'upos' (token_classification) belongs to dep_parsing heads; "
            "move it to task 'deps' or drop it.",
        ),
        (lambda v: v["tasks"][0].pop("train_file"), RunConfigurationError, "Task 'upos' has no train_file"),
        (
            lambda v: v.update(sampling="weights"),
            RunConfigurationError,
            "sampling: weights needs a sampling_weight for every task; task 'upos' has none",
        ),
        (lambda v: v.update(sampling="random"), RunConfigurationError, "sampling must be one of proportional"),
        (lambda v: v.update(resume=True), RunConfigurationError, "resume is not available for multi-task runs"),
        (
            lambda v: v.update(early_stopping_patience=2),
            RunConfigurationError,
            "early_stopping_patience is not available for multi-task runs",
        ),
        (
            lambda v: v.update(group_by_length=True),
            RunConfigurationError,
            "group_by_length is not available for multi-task runs",
        ),
    ],
)
def test_bad_configurations(tmp_path, checkpoints, treebank, change, error, message) -> None:
    given = values(tmp_path, checkpoints, treebank)
    change(given)
    with pytest.raises(error) as raised:
        MultiTaskRunConfiguration.from_dict(given)
    assert message in str(raised.value)


def test_head_learning_rate_reaches_every_head(tmp_path, checkpoints) -> None:
    from archit.modeling import ArchitFactory
    from archit.simple.training import head_aware_optimizer

    model = ArchitFactory.from_pretrained(
        checkpoints["bert"], tasks={"a": {"task": "token_classification"}, "b": {"task": "sequence_classification"}}
    )
    optimizer = head_aware_optimizer(model, _plain_args(tmp_path), 2e-3, decay_parameters=[])
    by_rate = {}
    for group in optimizer.param_groups:
        ids = {id(parameter) for parameter in group["params"]}
        by_rate.setdefault(group["lr"], set()).update(n for n, p in model.named_parameters() if id(p) in ids)
    assert by_rate[2e-3] == {name for name, _ in model.named_parameters() if name.startswith("heads.")}
    assert {name.split(".")[1] for name in by_rate[2e-3]} == {"a", "b"}
