"""The ``archit`` command: train / evaluate / predict through the command line and --config, tasks, help, and
one-line errors with non-zero exits."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from archit.simple.cli import main, tasks_table
from archit.simple.config import RunConfiguration
from tests.simple.tasks import NER, write_task_data

COMMANDS = ("train", "evaluate", "predict", "families", "tasks", "demo", "env")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(command, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert f"archit {command}" in text and "--config" in text


def test_train_help_lists_every_run_option_with_its_help(capsys) -> None:
    import attrs

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in attrs.fields(RunConfiguration):
        flag = (
            "--"
            + field.name.removesuffix("_options").replace("_", "-")
            + ("-option" if field.name.endswith("_options") else "")
        )
        assert flag in text
        assert " ".join(field.metadata["help"].split())[:30] in text


def test_demo_options_are_one_class_for_the_function_and_the_command(tmp_path, monkeypatch, capsys) -> None:
    import attrs

    from archit.simple import demo

    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in attrs.fields(demo.DemoOptions):
        assert "--" + field.name.replace("_", "-") in text and field.metadata["help"] in text
    received = []
    monkeypatch.setattr(demo, "run_demo", received.append)
    config_file = tmp_path / "demo.yaml"
    config_file.write_text("max_steps: 7\nseed: 3\n")
    assert main(["demo", "--config", str(config_file), "--max-steps", "5", "--learning-rate", "3e-4"]) == 0
    assert received == [demo.DemoOptions(max_steps=5, seed=3, learning_rate=3e-4)]
    assert main(["demo", "--max-steps", "many"]) == 1
    assert "archit demo: max_steps must be int; got 'many'" in capsys.readouterr().err
    assert main(["demo", "--train-batch-size", "0"]) == 1
    assert "train_batch_size must be at least 1; got 0" in capsys.readouterr().err


def test_names_moved_out_of_the_run_module_still_import_from_it() -> None:
    from archit.simple import demo, inference, run

    for module, names in (
        (inference, ("load_run", "predict", "evaluate")),
        (demo, ("run_demo", "find_demo_model", "find_demo_treebank", "split_treebank")),
    ):
        for name in names:
            assert getattr(run, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        run.nothing  # noqa: B018


def test_tasks_table_lists_every_task() -> None:
    table = tasks_table()
    rows = {line.split()[0]: line for line in table.splitlines()[2:]}
    for task in ("token_classification", "extractive_aqa", "masked_lm", "dep_parsing", "multiple_choice"):
        assert task in rows
    assert "CoNLL-U" in rows["dep_parsing"] and "LAS" in rows["dep_parsing"]
    assert "SQuAD" in rows["extractive_qa"]


def test_train_predict_evaluate_from_the_command_line(tmp_path, checkpoints, capsys) -> None:
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "task": "token_classification",
                "model_name_or_path": checkpoints["bert"],
                "train_file": data_file,
                "validation_file": data_file,
                "max_steps": 100,
                "eval_strategy": "no",
                "head_options": {"dropout": 0.2},
            }
        ),
        encoding="utf-8",
    )
    output_dir = tmp_path / "run"
    argv = ["train", "--config", str(config_file), "--max-steps", "2", "--output-dir", str(output_dir)]
    assert main([*argv, "--no-progress-bars", "--head-option", "dropout=0.0", "--learning-rate", "1e-3"]) == 0
    printed = capsys.readouterr().out
    assert f"outputs in {output_dir}" in printed and "validation: loss" in printed
    resolved = RunConfiguration.from_yaml(str(output_dir / "config.yaml"))
    assert resolved.max_steps == 2 and resolved.learning_rate == 1e-3  # the command line wins over the file
    assert resolved.head_options["dropout"] == 0.0 and resolved.progress_bars is False
    assert main(["predict", str(output_dir), "--data", data_file, "--output", str(tmp_path / "p.jsonl")]) == 0
    assert "predictions written to" in capsys.readouterr().out
    assert len((tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    inference = tmp_path / "evaluate.yaml"
    inference.write_text(yaml.safe_dump({"model": str(output_dir), "data": data_file}), encoding="utf-8")
    assert main(["evaluate", "--config", str(inference), "--output", str(tmp_path / "m.json")]) == 0
    assert "f1" in json.loads(capsys.readouterr().out)
    assert "f1" in json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--task", "tagging", "--model-name-or-path", "x"], "task must be one of"),
        (
            ["train", "--task", "regression", "--model-name-or-path", "x", "--max-seq-length", "many"],
            "max_seq_length must be int",
        ),
        (["train", "--task", "regression", "--model-name-or-path", "x"], "train_file is not set"),
        (["train", "--task", "regression"], "model_name_or_path must be set"),
        (["train", "--config", "missing.yaml"], "missing.yaml: no such configuration file"),
        (["train", "--task", "regression", "--model-name-or-path", "x", "--head-option", "oops"], "KEY=VALUE"),
        (
            [
                "train",
                "--task",
                "regression",
                "--model-name-or-path",
                "x",
                "--eval-strategy",
                "no",
                "--early-stopping-patience",
                "2",
            ],
            "early_stopping_patience (2) needs evaluations, but eval_strategy is 'no'",
        ),
        (["predict", "--data", "x.txt"], "archit predict needs the MODEL argument"),
        (["evaluate", "nowhere", "--data", "x.txt"], "Hugging Face Hub model 'nowhere' is not in the cache"),
        (["evaluate", "./nowhere", "--data", "x.txt"], "Checkpoint directory './nowhere' does not exist"),
        (["predict", "nowhere", "--data", "x.txt", "--batch-size", "0"], "--batch-size takes a positive whole number"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(argv, message, capsys) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"archit {argv[0]}: error: ")
    assert message in err


def test_bad_yaml_and_unknown_keys(tmp_path, capsys) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("task: regression\nmodel_name_or_path: [x\n", encoding="utf-8")
    assert main(["train", "--config", str(broken)]) == 1
    assert f"{broken}, line 3: not valid YAML" in capsys.readouterr().err
    typo = tmp_path / "typo.yaml"
    typo.write_text("task: regression\nmodel_name_or_path: x\nlearnig_rate: 0.1\n", encoding="utf-8")
    assert main(["train", "--config", str(typo)]) == 1
    assert "unknown key 'learnig_rate'. Did you mean 'learning_rate'?" in capsys.readouterr().err
    inference = tmp_path / "inference.yaml"
    inference.write_text("model: x\nepochs: 3\n", encoding="utf-8")
    assert main(["predict", "--config", str(inference)]) == 1
    assert "unknown option 'epochs'" in capsys.readouterr().err


def test_malformed_command_line_is_one_line_and_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--no-such-option", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --no-such-option" in err


def test_console_script_reports_bad_input() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "archit.simple.cli", "predict", "nowhere", "--data", "x"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and result.stderr.startswith("archit predict: error:")
