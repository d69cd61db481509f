"""``RunConfiguration``: defaults, type checks, validators naming both fields of a bad pair, YAML round trip."""

from __future__ import annotations

import attrs
import pytest
import torch

from archit.simple.config import RunConfiguration, RunConfigurationError
from archit.simple.plotting import loss_curves, plot_losses
from archit.simple.training import _precision

REQUIRED = {"task": "sequence_classification", "model_name_or_path": "some/checkpoint"}


def test_every_field_has_help() -> None:
    for field in attrs.fields(RunConfiguration):
        assert field.metadata.get("help"), field.name


def test_defaults_and_output_directory() -> None:
    config = RunConfiguration(**REQUIRED)
    assert config.resolved_output_dir.endswith("runs/archit-run")
    assert RunConfiguration(**REQUIRED, output_dir="x").resolved_output_dir == "x"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"task": "tagging"}, "task must be one of"),
        ({"task": "regresion"}, "Did you mean 'regression'?"),
        ({"learning_rate": "fast"}, "learning_rate must be float; got 'fast'"),
        ({"max_seq_length": True}, "max_seq_length must be int; got True"),
        ({"max_seq_length": 4}, "max_seq_length must be at least 8"),
        ({"eval_strategy": "sometimes"}, "eval_strategy must be one of no, steps, epoch"),
        ({"eval_strategy": "steps"}, "eval_strategy is 'steps' but eval_steps is not set"),
        ({"save_strategy": "steps"}, "save_strategy is 'steps' but save_steps is not set"),
        ({"num_epochs": 0.0}, "num_epochs is 0 and max_steps is not positive"),
        ({"warmup_ratio": 0.1, "warmup_steps": 10}, r"warmup_ratio \(0.1\) and warmup_steps \(10\) are both set"),
        ({"warmup_ratio": 1.5}, "warmup_ratio must be below 1"),
        (
            {"task": "extractive_qa", "doc_stride": 64, "max_seq_length": 64},
            r"doc_stride \(64\) must be smaller than max_seq_length \(64\)",
        ),
        (
            {"early_stopping_patience": 2, "eval_strategy": "no"},
            r"early_stopping_patience \(2\) needs evaluations, but",
        ),
        (
            {"early_stopping_patience": 2, "save_strategy": "steps", "save_steps": 5},
            r"save_strategy \('steps'\) must be 'no' or equal eval_strategy \('epoch'\)",
        ),
        (
            {
                "early_stopping_patience": 2,
                "eval_strategy": "steps",
                "eval_steps": 4,
                "save_strategy": "steps",
                "save_steps": 6,
            },
            r"save_steps \(6\) must be a multiple of eval_steps \(4\)",
        ),
        ({"conllu_label_field": "lemma"}, "conllu_label_field must be one of upos, xpos, deprel"),
    ],
)
def test_bad_values_and_pairs(overrides, message) -> None:
    with pytest.raises(RunConfigurationError, match=message):
        RunConfiguration(**{**REQUIRED, **overrides})


def test_from_dict_converts_strings_and_rejects_unknown_keys() -> None:
    config = RunConfiguration.from_dict(
        {**REQUIRED, "learning_rate": "5e-5", "max_steps": "1e2", "eval_steps": "none", "progress_bars": "no"}
    )
    assert (config.learning_rate, config.max_steps, config.eval_steps, config.progress_bars) == (5e-5, 100, None, False)
    with pytest.raises(RunConfigurationError, match="unknown key 'learnig_rate'. Did you mean 'learning_rate'"):
        RunConfiguration.from_dict({**REQUIRED, "learnig_rate": 1})
    with pytest.raises(RunConfigurationError, match="max_steps must be int; got '2.5'"):
        RunConfiguration.from_dict({**REQUIRED, "max_steps": "2.5"})
    with pytest.raises(RunConfigurationError, match="task, model_name_or_path must be set"):
        RunConfiguration.from_dict({})


def test_yaml_round_trip(tmp_path) -> None:
    config = RunConfiguration(
        **REQUIRED, head_options={"num_labels": 3, "id2label": {0: "a", 1: "b", 2: "c"}}, text_pair_column=None
    )
    path = str(tmp_path / "run.yaml")
    config.to_yaml(path)
    assert RunConfiguration.from_yaml(path) == config
    assert RunConfiguration.from_yaml(path, seed=7).seed == 7


def test_yaml_errors(tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("task: [\n", encoding="utf-8")
    with pytest.raises(RunConfigurationError, match=r"broken.yaml, line 2: not valid YAML"):
        RunConfiguration.from_yaml(str(broken))
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n", encoding="utf-8")
    with pytest.raises(RunConfigurationError, match="expected a mapping"):
        RunConfiguration.from_yaml(str(scalar))


def test_mixed_precision_follows_the_hardware() -> None:
    if torch.cuda.is_available():
        pytest.skip("checks the CPU-only behaviour")
    assert _precision(RunConfiguration(**REQUIRED)) == {}
    assert _precision(RunConfiguration(**REQUIRED, mixed_precision="bf16")) == {"fp16": False, "bf16": True}
    with pytest.raises(RunConfigurationError, match="mixed_precision 'fp16' needs a CUDA GPU"):
        _precision(RunConfiguration(**REQUIRED, mixed_precision="fp16"))


def test_loss_plot_of_logs_with_and_without_losses(tmp_path) -> None:
    history = [{"loss": 2.0, "step": 1}, {"eval_loss": 1.5, "step": 1}, {"loss": 1.0, "step": 2}, {"train_loss": 1.5}]
    assert loss_curves(history) == {"train": [(1.0, 2.0), (2.0, 1.0)], "eval": [(1.0, 1.5)]}
    for name, logs in (("curves.png", history), ("empty.png", [])):
        path = plot_losses(logs, str(tmp_path / name), title="run")
        with open(path, "rb") as handle:
            assert handle.read(4) == b"\x89PNG"
