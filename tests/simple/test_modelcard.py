"""The model card of a run: Hub metadata, labels, settings, metrics, the command that repeats the run, usage."""

from __future__ import annotations

import shlex

from huggingface_hub import ModelCard

from archit.simple.cli import _merged, build_parser
from archit.simple.config import RunConfiguration
from archit.simple.modelcard import MODEL_CARD_NAME, command_line, write_model_card

METRICS = {"train": {"train_loss": 1.25}, "validation": {"loss": 0.5, "f1": 0.8125}, "test": {"f1": 0.75}}


def _config(**overrides) -> RunConfiguration:
    values = {
        "task": "token_classification",
        "model_name_or_path": "my-org/tiny-bert",
        "train_file": "train.txt",
        "learning_rate": 1e-3,
        "delimiter": "\t",
        "progress_bars": False,
        "head_options": {"dropout": 0.2, "num_labels": 3},
    }
    return RunConfiguration(**{**values, **overrides})


def test_the_command_line_rebuilds_the_configuration() -> None:
    config = _config()
    words = shlex.split(command_line(config))
    assert words[:2] == ["archit", "train"] and "--no-progress-bars" in words
    assert words[words.index("--head-option") : words.index("--head-option") + 2] == ["--head-option", "dropout=0.2"]
    args = build_parser().parse_args(words[1:])
    assert RunConfiguration.from_dict(_merged(args)) == config


def test_the_card_names_base_task_labels_settings_metrics_and_usage(tmp_path) -> None:
    path = write_model_card(str(tmp_path), _config(), ["B-PER", "I-PER", "O"], METRICS, model_id="my-org/ner")
    assert path == str(tmp_path / MODEL_CARD_NAME)
    card = ModelCard.load(path)
    assert card.data.library_name == "transformers" and card.data.base_model == "my-org/tiny-bert"
    assert card.data.pipeline_tag == "token-classification" and "archit" in card.data.tags
    text = card.text
    assert "3 labels: `B-PER`, `I-PER`, `O`." in text
    assert "| learning_rate | 0.001 |" in text
    assert "| validation | f1 | 0.8125 |" in text and "| test | f1 | 0.7500 |" in text
    assert "AutoModelForTokenClassification.from_pretrained('my-org/ner')" in text
    assert "pipeline('token-classification', model='my-org/ner')" in text
    assert command_line(_config()) in text


def test_a_local_base_is_no_hub_link_and_tasks_without_auto_class_load_with_the_factory(tmp_path) -> None:
    config = _config(task="dep_parsing", model_name_or_path=str(tmp_path), head_options={})
    card = ModelCard.load(write_model_card(str(tmp_path), config, [f"rel{i}" for i in range(60)], METRICS))
    assert card.data.base_model is None and card.data.pipeline_tag is None
    assert "60 labels: `rel0`" in card.text and "and 10 more." in card.text
    assert f"ArchitFactory.from_pretrained({str(tmp_path)!r}, task='dep_parsing')" in card.text
