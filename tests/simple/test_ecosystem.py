"""Runs as good citizens of the Hugging Face ecosystem: model cards, TensorBoard logs and datasets, end to end
through ``run_simple`` and the ``archit`` command (LoRA runs: ``test_lora_runs.py``)."""

from __future__ import annotations

import glob
import json
import os

import datasets
import pytest
from huggingface_hub import ModelCard

from archit.simple import RunConfiguration, run_simple
from archit.simple.cli import main
from archit.simple.config import RunConfigurationError
from tests.simple.tasks import NER, write_task_data


def _values(tmp_path, checkpoints, data_file: str | None, **overrides) -> dict:
    values = {
        "task": "token_classification",
        "model_name_or_path": checkpoints["bert"],
        "output_dir": str(tmp_path / "run"),
        "train_file": data_file,
        "validation_file": data_file,
        "max_steps": 3,
        "train_batch_size": 2,
        "learning_rate": 1e-2,
        "logging_steps": 1,
        "eval_strategy": "no",
        "progress_bars": False,
    }
    return {**values, **overrides}


def test_archit_train_writes_a_model_card_that_names_the_metrics(tmp_path, checkpoints) -> None:
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    values = _values(tmp_path, checkpoints, data_file)
    arguments = ["train"]
    for key, value in values.items():
        arguments += [f"--{key.replace('_', '-')}", str(value)] if key != "progress_bars" else ["--no-progress-bars"]
    assert main(arguments) == 0
    card = ModelCard.load(str(tmp_path / "run" / "model" / "README.md"))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    for name, value in metrics["validation"].items():
        assert f"| validation | {name} | {value:.4f} |" in card.text
    assert "| train | train_loss |" in card.text
    assert (
        "6 labels: `B-LOC`, `B-ORG`, `B-PER`, `I-LOC`, `I-PER`, `O`." in card.text
        and card.data.pipeline_tag == "token-classification"
    )
    assert f"--model-name-or-path {checkpoints['bert']}" in card.text


def test_tensorboard_logs_are_written(tmp_path, checkpoints) -> None:
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    result = run_simple(RunConfiguration(**_values(tmp_path, checkpoints, data_file, report_to="tensorboard")))
    events = glob.glob(os.path.join(result.output_dir, "checkpoints", "runs", "*", "events.out.tfevents.*"))
    assert len(events) == 1 and os.path.getsize(events[0]) > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(os.path.dirname(events[0]))
    accumulator.Reload()
    assert [event.step for event in accumulator.Scalars("train/loss")] == [1, 2, 3]


def test_report_to_names_the_integrations(tmp_path, checkpoints) -> None:
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    with pytest.raises(RunConfigurationError, match="report_to names 'tensorbord', which the Trainer does not know"):
        run_simple(RunConfiguration(**_values(tmp_path, checkpoints, data_file, report_to="tensorbord")))


def test_peft_options_need_a_peft_method(tmp_path, checkpoints) -> None:
    with pytest.raises(RunConfigurationError, match="peft_options are set but peft is not"):
        RunConfiguration(**_values(tmp_path, checkpoints, "x.txt", peft_options={"r": 4}))
    with pytest.raises(RunConfigurationError, match="merge_adapter is off but peft is not set"):
        RunConfiguration(**_values(tmp_path, checkpoints, "x.txt", merge_adapter=False))


def _ner_dataset() -> datasets.DatasetDict:
    rows = []
    for block in NER.replace("-DOCSTART- O\n\n", "").strip().split("\n\n"):
        pairs = [line.split() for line in block.splitlines()]
        rows.append({"tokens": [word for word, _ in pairs], "ner_tags": [tag for _, tag in pairs]})
    names = sorted({tag for row in rows for tag in row["ner_tags"]})
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    split = datasets.Dataset.from_list(rows, features=features)
    return datasets.DatasetDict({"train": split, "validation": split})


def test_a_dataset_dict_trains_as_the_same_data_in_files(tmp_path, checkpoints) -> None:
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    from_files = run_simple(RunConfiguration(**_values(tmp_path / "files", checkpoints, data_file)))
    no_files = _values(tmp_path / "dataset", checkpoints, None)
    from_dataset = run_simple(RunConfiguration(**no_files), dataset=_ner_dataset())
    assert from_dataset.metrics["validation"] == pytest.approx(from_files.metrics["validation"])
    assert from_dataset.metrics["train"]["train_loss"] == pytest.approx(from_files.metrics["train"]["train_loss"])


def test_archit_train_reads_a_save_to_disk_directory(tmp_path, checkpoints, capsys) -> None:
    saved = str(tmp_path / "saved")
    _ner_dataset().save_to_disk(saved)
    arguments = ["train", "--task", "token_classification", "--model-name-or-path", checkpoints["bert"]]
    arguments += ["--dataset", saved, "--output-dir", str(tmp_path / "run"), "--max-steps", "2"]
    arguments += ["--eval-strategy", "no", "--no-progress-bars"]
    assert main(arguments) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) == {"train", "validation"} and "f1" in metrics["validation"]
    assert main([*arguments[:-1], "--train-split", "training", "--no-progress-bars"]) == 1
    assert "no split 'training'; it has 'train', 'validation'" in capsys.readouterr().err


def test_a_dataset_and_a_train_file_are_one_too_many(tmp_path, checkpoints) -> None:
    with pytest.raises(RunConfigurationError, match="dataset and train_file are both set"):
        RunConfiguration(**_values(tmp_path, checkpoints, "x.txt", dataset="some/dataset"))
