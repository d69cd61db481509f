"""LoRA runs end to end: train through ``run_simple`` with the adapter merged or not, save, and reload with every
loader (archit's task class, the Auto class, ``load_adapter``, ``archit predict``'s ``load_run``): the same
outputs, with the trained head, on token classification, sequence classification and dependency parsing."""

from __future__ import annotations

import logging
import os

import peft
import pytest
import torch
import transformers
from huggingface_hub import ModelCard

from archit import ArchitFactory
from archit.simple import RunConfiguration, run_simple
from archit.simple.adapters import ADAPTER_DIRECTORY, adapter_directory, load_adapter
from archit.simple.inference import load_run, predict
from tests.comparison import assert_same_outputs
from tests.simple.tasks import CLASSIFICATION, NER, write_task_data

AUTO_CLASSES_KEEP_LOCAL_ADAPTER_CONFIG = int(transformers.__version__.split(".")[0]) >= 5
"""transformers 5 reads the config of a local adapter directory that holds one; 4.57 always reads the base's, and
gives the base family's own class (see test_an_adapter_directory_needs_its_config_on_transformers_4)."""

CASES = [
    ("token_classification", "ner.txt", NER, "AutoModelForTokenClassification"),
    ("sequence_classification", "pairs.csv", CLASSIFICATION, "AutoModelForSequenceClassification"),
    ("dep_parsing", "trees.conllu", None, None),  # transformers has no Auto class for parsing
]


def _lora_run(tmp_path, checkpoint: str, task: str, data_file: str, merge_adapter: bool):
    config = RunConfiguration(
        task=task,
        model_name_or_path=checkpoint,
        output_dir=str(tmp_path / "run"),
        train_file=data_file,
        validation_file=data_file,
        max_steps=3,
        train_batch_size=2,
        learning_rate=5e-2,
        eval_strategy="no",
        progress_bars=False,
        peft="lora",
        peft_options={"r": 4},
        merge_adapter=merge_adapter,
    )
    return run_simple(config)


def _outputs(model: torch.nn.Module, batch: dict) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        outputs = model.eval()(**batch)
    return {name: value for name, value in outputs.items() if isinstance(value, torch.Tensor) and name != "loss"}


@pytest.mark.parametrize("merge_adapter", [True, False], ids=["merged", "unmerged"])
@pytest.mark.parametrize(("task", "file_name", "content", "auto_class"), CASES, ids=[case[0] for case in CASES])
def test_every_loader_gives_the_trained_model(
    tmp_path, checkpoints, caplog, task, file_name, content, auto_class, merge_adapter
) -> None:
    data_file = write_task_data(tmp_path, file_name, content)
    with caplog.at_level(logging.WARNING, logger="archit"):
        result = _lora_run(tmp_path, checkpoints["bert"], task, data_file, merge_adapter)
    assert "lora adapts query, value (PEFT's default for bert): 4 modules" in caplog.text
    adapter_dir = adapter_directory(result.model_dir)
    assert adapter_dir == os.path.join(result.model_dir, ADAPTER_DIRECTORY)
    assert {"adapter_config.json", "adapter_model.safetensors", "config.json"} <= set(os.listdir(adapter_dir))
    assert os.path.isfile(os.path.join(result.model_dir, "model.safetensors")) == merge_adapter
    saved = peft.PeftConfig.from_pretrained(adapter_dir)
    assert saved.base_model_name_or_path == checkpoints["bert"] and saved.modules_to_save
    card = ModelCard.load(os.path.join(result.model_dir, "README.md"))
    assert "| peft target modules | query, value (4 modules) |" in card.text

    _, data, _ = load_run(result.output_dir)
    batch = data.collator()(data.featurize(data.read(data_file))[:2])
    task_class = ArchitFactory.get_task(task)
    loaders = {
        "load_adapter": lambda: load_adapter(result.model_dir),
        "load_adapter merged": lambda: load_adapter(result.model_dir, merge=True),
        "archit class, adapter": lambda: task_class.from_pretrained(adapter_dir),
        "ArchitFactory, adapter": lambda: ArchitFactory.from_pretrained(adapter_dir, task=task),
        "archit predict": lambda: load_run(result.output_dir)[2],
        "archit class, model": lambda: task_class.from_pretrained(result.model_dir),
    }
    if auto_class is not None:
        auto = getattr(transformers, auto_class)
        loaders["Auto class, model"] = lambda: auto.from_pretrained(result.model_dir)
        config = transformers.AutoConfig.from_pretrained(adapter_dir)
        loaders["Auto class, adapter with config"] = lambda: auto.from_pretrained(adapter_dir, config=config)
        if AUTO_CLASSES_KEEP_LOCAL_ADAPTER_CONFIG:
            loaders["Auto class, adapter"] = lambda: auto.from_pretrained(adapter_dir)
    expected = _outputs(load_adapter(result.model_dir), batch)
    assert isinstance(load_adapter(result.model_dir), peft.PeftModel)
    for name, load in loaders.items():
        model = load()
        actual = _outputs(model, batch)
        assert actual.keys() == expected.keys(), name
        for field, value in expected.items():
            assert_same_outputs(actual[field], value)
        if not name.startswith("load_adapter"):  # archit's loaders report every weight restored
            assert model.loading_report.new == [], name
    untrained = ArchitFactory.from_pretrained(checkpoints["bert"], task=task, **_head_of(adapter_dir))
    field = next(iter(expected))
    assert not torch.allclose(_outputs(untrained, batch)[field], expected[field], atol=1e-3)

    path, scores = predict(result.output_dir, data_file)
    assert os.path.isfile(path) and scores


def _head_of(adapter_dir: str) -> dict:
    config = transformers.AutoConfig.from_pretrained(adapter_dir)
    head = config.get_head_config()
    return {name: getattr(head, name) for name in type(head).field_names()}


@pytest.mark.skipif(AUTO_CLASSES_KEEP_LOCAL_ADAPTER_CONFIG, reason="transformers 5 reads the adapter's own config")
def test_an_adapter_directory_needs_its_config_on_transformers_4(tmp_path, checkpoints) -> None:
    # transformers 4.57's Auto classes read the config of the base checkpoint an adapter names, never the adapter
    # directory's own: they build the base family's HF class (archit is not asked), with a new head. The run's
    # model/ directory, or config=AutoConfig.from_pretrained(adapter_dir), loads the trained model instead.
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    result = _lora_run(tmp_path, checkpoints["bert"], "token_classification", data_file, merge_adapter=False)
    adapter_dir = adapter_directory(result.model_dir)
    model = transformers.AutoModelForTokenClassification.from_pretrained(adapter_dir)
    assert type(model) is transformers.BertForTokenClassification
