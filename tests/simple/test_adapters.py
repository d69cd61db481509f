"""PEFT on archit models: which layers are adapted, a fully trainable head, and the saved adapter reloaded."""

from __future__ import annotations

import logging

import peft
import pytest
import torch
import transformers

from archit import ArchitFactory
from archit.errors import CheckpointError
from archit.simple.adapters import (
    ADAPTER_DIRECTORY,
    PeftSetupError,
    default_target_modules,
    load_adapter,
    wrap_with_peft,
)
from tests.comparison import assert_same_outputs
from tests.tiny_configs import tiny_config

INPUTS = {
    "input_ids": torch.tensor([[2, 7, 9, 11, 3], [2, 5, 6, 3, 0]]),
    "attention_mask": torch.tensor([[1] * 5, [1] * 4 + [0]]),
}


def _trained(model: torch.nn.Module, steps: int = 3) -> torch.nn.Module:
    """A few steps of SGD on random labels, so that the adapter and the head differ from their start."""
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    labels = torch.tensor([[0, 1, 2, 1, 0], [2, 2, 1, 0, -100]])
    for _ in range(steps):
        model(**INPUTS, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval()


def test_peft_defaults_are_used_where_peft_has_them_and_linear_layers_elsewhere() -> None:
    bert = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification")
    assert default_target_modules(bert) == (["query", "value"], "PEFT's default for bert")
    distilbert = ArchitFactory.from_config(tiny_config("DISTILBERT"), task="token_classification")
    names, origin = default_target_modules(distilbert)
    assert names == ["k_lin", "lin1", "lin2", "out_lin", "q_lin", "v_lin"] and "every linear layer" in origin


def test_only_the_backbone_is_adapted_and_the_whole_head_trains(caplog) -> None:
    model = ArchitFactory.from_config(tiny_config("DISTILBERT"), task="sequence_classification", num_labels=3)
    head = {name for name, _ in model.head.named_parameters()}
    with caplog.at_level(logging.WARNING, logger="archit"):
        wrapped = wrap_with_peft(model, "lora", {"r": 4})
    assert "lora adapts k_lin, lin1, lin2, out_lin, q_lin, v_lin (every linear layer" in caplog.text
    targeted = wrapped.base_model.targeted_module_names
    assert len(targeted) == 12 and all(name.startswith(model.base_model_prefix + ".") for name in targeted)
    trainable = {name for name, parameter in wrapped.named_parameters() if parameter.requires_grad}
    trained_head = {name.replace(".modules_to_save.default", "") for name in trainable if "modules_to_save" in name}
    assert {name.removeprefix("base_model.model.head.") for name in trained_head} == head
    assert all("lora_" in name or "modules_to_save" in name for name in trainable)
    assert wrap_with_peft(wrapped, "lora") is wrapped  # wrapping twice changes nothing


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("lorra", {}, "Unknown PEFT method 'lorra' for archit runs; methods that adapt layers: "),
        ("lora", {"rank": 4}, "LoraConfig has no field 'rank'; its fields: "),
    ],
)
def test_bad_methods_and_options_name_the_valid_ones(method, options, message) -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification")
    with pytest.raises(PeftSetupError, match=message):
        wrap_with_peft(model, method, options)


def test_the_adapter_reloads_merged_or_not_with_the_same_logits(tmp_path, checkpoints) -> None:
    model = ArchitFactory.from_pretrained(checkpoints["bert"], task="token_classification", num_labels=3)
    wrapped = _trained(wrap_with_peft(model, "lora", {"r": 4}))
    with torch.no_grad():
        expected = wrapped(**INPUTS).logits
    model_dir = tmp_path / "model"
    wrapped.save_pretrained(str(model_dir / ADAPTER_DIRECTORY))
    merged = wrapped.merge_and_unload()
    merged.save_pretrained(str(model_dir))
    reloaded = {
        "adapter": load_adapter(str(model_dir)),
        "adapter merged": load_adapter(str(model_dir), merge=True),
        "Auto class": transformers.AutoModelForTokenClassification.from_pretrained(str(model_dir)).eval(),
    }
    assert isinstance(reloaded["adapter"], peft.PeftModel)
    for loaded in reloaded.values():
        with torch.no_grad():
            assert_same_outputs(loaded(**INPUTS).logits, expected)
    base = ArchitFactory.from_pretrained(checkpoints["bert"], task="token_classification", num_labels=3).eval()
    with torch.no_grad():
        assert not torch.allclose(base(**INPUTS).logits, expected, atol=1e-3)  # training changed the outputs


def test_a_model_without_adapter_says_how_to_load_it(tmp_path) -> None:
    ArchitFactory.from_config(tiny_config("BERT"), task="token_classification").save_pretrained(str(tmp_path))
    with pytest.raises(CheckpointError, match="holds no PEFT adapter"):
        load_adapter(str(tmp_path))


@pytest.mark.parametrize("task", ArchitFactory.tasks())
def test_peft_trains_every_head_weight_and_wraps_no_module_twice(task) -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task=task)
    head = {name for name, _ in model.head.named_parameters()}
    wrapped = wrap_with_peft(model, "lora", {"r": 4})
    savers = [name for name, module in wrapped.named_modules() if isinstance(module, peft.utils.ModulesToSaveWrapper)]
    assert not [outer for outer in savers for inner in savers if inner.startswith(outer + ".")]  # none nested
    trainable = {name for name, parameter in wrapped.named_parameters() if parameter.requires_grad}
    trained_head = {name.replace(".modules_to_save.default", "") for name in trainable if "modules_to_save" in name}
    assert {name.removeprefix("base_model.model.head.") for name in trained_head} == head


def test_an_adapter_of_another_task_says_how_to_load_it(tmp_path, checkpoints) -> None:
    model = ArchitFactory.from_pretrained(checkpoints["bert"], task="token_classification", num_labels=3)
    wrapped = wrap_with_peft(model, "lora", {"r": 4})
    wrapped.save_pretrained(str(tmp_path))
    model.config.save_pretrained(str(tmp_path))
    task_class = ArchitFactory.get_task("sequence_classification")
    with pytest.raises(CheckpointError, match="holds an adapter trained for the token_classification task, not "):
        task_class.from_pretrained(str(tmp_path))
    assert isinstance(ArchitFactory.from_pretrained(str(tmp_path), task="token_classification"), type(model))
