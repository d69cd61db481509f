"""Every ``PreTrainedModel`` method and Hugging Face integration users reach for, on every task × four families.

The families stand for the four kinds of backbone: an encoder (BERT), a decoder (GPT-2), the encoder of an
encoder-decoder model (T5) and a native recurrent model (LSTM). The methods are :data:`CONFORMANCE_METHODS`,
the list the README states. Where a method cannot apply to a combination, the test asserts archit's clear
error instead of skipping it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import torch
import transformers
from torch import nn
from transformers import pipeline

from archit.errors import CacheError, InapplicableMethodError
from archit.modeling import ArchitFactory
from archit.modeling.tasks import ModelWithHead
from archit.simple.pretraining import train_tokenizer
from tests.comparison import assert_same_outputs
from tests.conftest import TransformersLog
from tests.modeling.test_tasks import head_fields, task_inputs
from tests.native.helpers import CORPUS
from tests.tiny_configs import VOCAB_SIZE, tiny_config, tiny_recurrent_config

CONFORMANCE_METHODS = (
    "resize_token_embeddings",
    "get_input_embeddings",
    "get_output_embeddings",
    "set_output_embeddings",
    "tie_weights",
    "gradient_checkpointing_enable",
    "gradient_checkpointing_disable",
    "torch.compile",
    "to(torch.bfloat16)",
    "num_parameters",
    "get_memory_footprint",
    "save_pretrained",
    "from_pretrained",
    "pipeline",
)
"""What this module checks, in the README's order."""

FAMILIES = ("BERT", "GPT2", "T5", "LSTM")
TASKS = ArchitFactory.tasks()
LM_TASKS = ("masked_lm", "causal_lm")
RESIZED = VOCAB_SIZE + 5  # 104 with pad_to_multiple_of=8


def _backbone_config(family: str) -> transformers.PretrainedConfig:
    return tiny_recurrent_config(family) if family == "LSTM" else tiny_config(family)


def _model(family: str, task: str) -> ModelWithHead:
    torch.manual_seed(0)
    return ArchitFactory.from_config(_backbone_config(family), task=task, **head_fields(task)).eval()


def _inputs(task: str) -> dict[str, torch.Tensor]:
    return task_inputs(task, torch.Generator().manual_seed(1))


def _outputs(model: ModelWithHead, inputs: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    with torch.no_grad():
        output = model(**inputs)
    return [value for value in output.values() if isinstance(value, torch.Tensor) and value.is_floating_point()]


def _unique_parameters(model: nn.Module) -> list[nn.Parameter]:
    return list(model.parameters())  # shared (tied) parameters once, as transformers counts them


every_combination = pytest.mark.parametrize(
    ("family", "task"), [(family, task) for family in FAMILIES for task in TASKS]
)


# --- embeddings --------------------------------------------------------------------------------------------
@every_combination
def test_resize_token_embeddings(family: str, task: str, tmp_path) -> None:
    model = _model(family, task)
    inputs = _inputs(task)
    before = _outputs(model, inputs)
    tied_before = _is_tied(model)
    embeddings = model.resize_token_embeddings(RESIZED, pad_to_multiple_of=8)

    assert embeddings is model.get_input_embeddings()
    assert embeddings.weight.shape[0] == 104
    assert model.config.vocab_size == model.config.backbone_config.vocab_size == 104
    # old tokens keep their embeddings (and, for language models, their scores; the loss normalises over more)
    for old, new in zip(before, _outputs(model, inputs), strict=True):
        if task in LM_TASKS:
            if old.dim() == 0:
                continue
            assert new.shape[-1] == 104
            new = new[..., :VOCAB_SIZE]
        assert_same_outputs(new, old)
    if task in LM_TASKS:
        projection = model.get_output_embeddings() or model.head.decoder
        assert projection.out_features == 104 and projection.weight.shape[0] == 104
        assert projection.bias is None or projection.bias.shape == (104,)
        assert _is_tied(model) == tied_before
    else:
        assert model.get_output_embeddings() is None

    inputs["input_ids"] = inputs["input_ids"] % 104 + (inputs["input_ids"] > 50) * (104 - VOCAB_SIZE)  # new ids too
    expected = _outputs(model, inputs)
    model.save_pretrained(tmp_path)
    loaded = type(model).from_pretrained(tmp_path).eval()
    assert loaded.get_input_embeddings().weight.shape[0] == 104
    assert loaded.loading_report.new == [] and loaded.loading_report.unused == []
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    for actual, wanted in zip(_outputs(loaded, inputs), expected, strict=True):
        assert_same_outputs(actual, wanted)


def _is_tied(model: ModelWithHead) -> bool:
    output = model.get_output_embeddings()
    return output is not None and output.weight is model.get_input_embeddings().weight


def test_resize_keeps_berts_bias_shared_and_shrinks() -> None:
    model = _model("BERT", "masked_lm")
    predictions = model.head.head.predictions
    model.resize_token_embeddings(90, mean_resizing=False)
    assert predictions.bias is predictions.decoder.bias and predictions.bias.shape == (90,)
    assert predictions.decoder.weight is model.get_input_embeddings().weight
    assert model(**_inputs("masked_lm")).logits.shape[-1] == 90


def test_resize_grows_an_untied_projection_with_the_mean_of_its_rows() -> None:
    config = tiny_config("GPT2")
    config.tie_word_embeddings = False
    torch.manual_seed(0)
    model = ArchitFactory.from_config(config, task="causal_lm")
    old = model.head.decoder.weight.detach().clone()
    model.resize_token_embeddings(VOCAB_SIZE + 2)
    new = model.head.decoder.weight
    assert new is not model.get_input_embeddings().weight
    assert torch.equal(new[:VOCAB_SIZE], old)
    assert torch.equal(new[VOCAB_SIZE:], old.mean(dim=0).expand(2, -1))


@every_combination
def test_input_and_output_embeddings(family: str, task: str) -> None:
    model = _model(family, task)
    embeddings = model.get_input_embeddings()
    assert isinstance(embeddings, nn.Embedding) and embeddings is model.backbone.get_input_embeddings()
    if task not in LM_TASKS:
        assert model.get_output_embeddings() is None
        with pytest.raises(InapplicableMethodError, match="predicts labels, not the vocabulary"):
            model.set_output_embeddings(nn.Linear(1, 1))
        return
    output = model.get_output_embeddings()
    assert output.weight is embeddings.weight  # all four families tie their embeddings by default
    replacement = nn.Linear(output.in_features, output.out_features, bias=output.bias is not None)
    model.set_output_embeddings(replacement)
    assert model.get_output_embeddings() is replacement
    inputs = _inputs(task)
    with torch.no_grad():
        assert model(**inputs).logits.shape[-1] == VOCAB_SIZE


@every_combination
def test_tie_weights(family: str, task: str) -> None:
    model = _model(family, task)
    if task not in LM_TASKS:
        shared = {id(p) for p in model.backbone.parameters()}
        model.tie_weights()
        assert not any(id(p) in shared for p in model.head.parameters())
        return
    output = model.get_output_embeddings()
    output.weight = nn.Parameter(output.weight.detach().clone())
    assert output.weight is not model.get_input_embeddings().weight
    model.tie_weights()
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight


# --- training and inference --------------------------------------------------------------------------------
@every_combination
def test_gradient_checkpointing(family: str, task: str) -> None:
    model = _model(family, task)
    if family == "LSTM":
        with pytest.raises(InapplicableMethodError, match="does not support gradient checkpointing"):
            model.gradient_checkpointing_enable()
        assert not model.is_gradient_checkpointing
        return
    inputs = _inputs(task)
    model.train()
    plain = _loss_and_gradients(model, inputs)
    model.gradient_checkpointing_enable()
    assert model.is_gradient_checkpointing
    checkpointed = _loss_and_gradients(model, inputs)
    model.gradient_checkpointing_disable()
    assert not model.is_gradient_checkpointing
    torch.testing.assert_close(checkpointed[0], plain[0])
    for actual, expected in zip(checkpointed[1], plain[1], strict=True):
        torch.testing.assert_close(actual, expected)


def _loss_and_gradients(model: ModelWithHead, inputs: dict) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad()
    torch.manual_seed(3)  # the same dropout masks; checkpointing replays them
    loss = model(**inputs).loss
    loss.backward()
    gradients = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    assert gradients and model.get_input_embeddings().weight.grad is not None
    return loss.detach(), gradients


# torch.compile: one task per family, on the "eager" backend. Inductor's code generation is what costs minutes on
# CI; dynamo's graph capture is what archit's code (the __class__ swap, the heads) must survive.
@pytest.mark.parametrize(
    ("family", "task"),
    [("BERT", "masked_lm"), ("GPT2", "causal_lm"), ("T5", "sequence_classification"), ("LSTM", "token_classification")],
)
def test_torch_compile_gives_the_same_outputs(family: str, task: str) -> None:
    model = _model(family, task)
    inputs = _inputs(task)
    expected = _outputs(model, inputs)
    compiled = torch.compile(model, backend="eager")
    for actual, wanted in zip(_outputs(compiled, inputs), expected, strict=True):
        torch.testing.assert_close(actual, wanted)


@every_combination
def test_bfloat16_forward(family: str, task: str) -> None:
    model = _model(family, task)
    inputs = _inputs(task)
    expected = _outputs(model, inputs)
    model.to(torch.bfloat16)
    assert all(p.dtype == torch.bfloat16 for p in model.parameters())
    for actual, wanted in zip(_outputs(model, inputs), expected, strict=True):
        # scores come in bfloat16; the loss is computed in float32 from them
        assert actual.dtype == (torch.float32 if actual.dim() == 0 else torch.bfloat16)
        assert bool(torch.isfinite(actual).all())
        torch.testing.assert_close(actual.float(), wanted, atol=0.25, rtol=0.1)


@every_combination
def test_parameter_counts_and_memory_footprint(family: str, task: str) -> None:
    model = _model(family, task)
    parameters = _unique_parameters(model)
    assert model.num_parameters() == sum(p.numel() for p in parameters)
    model.get_input_embeddings().requires_grad_(False)  # the output embeddings too, where they are tied
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    assert 0 < model.num_parameters(only_trainable=True) == trainable < model.num_parameters()
    footprint = sum(p.numel() * p.element_size() for p in parameters)
    footprint += sum(b.numel() * b.element_size() for b in model.buffers())
    assert model.get_memory_footprint() == footprint


# --- saving and loading ------------------------------------------------------------------------------------
@every_combination
def test_sharded_save_and_low_memory_loading(family: str, task: str, tmp_path) -> None:
    model = _model(family, task)
    inputs = _inputs(task)
    model.save_pretrained(tmp_path, safe_serialization=True, max_shard_size="20KB")
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    shards = set(index["weight_map"].values())
    assert len(shards) > 1 and all((tmp_path / shard).is_file() for shard in shards)

    loaded = type(model).from_pretrained(tmp_path, dtype=torch.bfloat16, device_map="cpu", low_cpu_mem_usage=True)
    assert {p.dtype for p in loaded.parameters()} == {torch.bfloat16}
    assert {p.device.type for p in loaded.parameters()} == {"cpu"}
    model.to(torch.bfloat16)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    for actual, expected in zip(_outputs(loaded.eval(), inputs), _outputs(model, inputs), strict=True):
        assert_same_outputs(actual.float(), expected.float())


# --- pipelines ---------------------------------------------------------------------------------------------
@pytest.fixture
def transformers_log(transformers_log: TransformersLog) -> Iterator[TransformersLog]:
    """What transformers logs, which must not say that a pipeline does not support archit's class."""
    yield transformers_log
    assert not [message for message in transformers_log.messages if "is not supported for" in message]


@pytest.fixture(scope="module")
def tokenizers() -> dict[str, transformers.PreTrainedTokenizerFast]:
    """Tokenizers whose ids fit the tiny models' vocabulary, one per objective."""
    return {
        objective: train_tokenizer(CORPUS, kind="wordpiece", vocab_size=VOCAB_SIZE, objective=objective)
        for objective in LM_TASKS
    }


PIPELINE_TASKS = {
    "masked_lm": "fill-mask",
    "causal_lm": "text-generation",
    "token_classification": "token-classification",
    "sequence_classification": "text-classification",
    "multi_label_classification": "text-classification",
    "regression": "text-classification",
    "extractive_qa": "question-answering",
    "extractive_aqa": "question-answering",
}
"""The tasks with a transformers pipeline (multiple choice and dependency parsing have none)."""

QA_PIPELINE_EXISTS = "question-answering" in transformers.pipelines.SUPPORTED_TASKS


@pytest.mark.parametrize("task", list(PIPELINE_TASKS))
@pytest.mark.parametrize("family", FAMILIES)
def test_pipeline(family: str, task: str, tokenizers, transformers_log) -> None:
    model = _model(family, task)
    tokenizer = tokenizers["causal_lm" if task == "causal_lm" else "masked_lm"]
    name = PIPELINE_TASKS[task]
    if name == "question-answering" and not QA_PIPELINE_EXISTS:
        with pytest.raises(KeyError, match="has been removed"):
            pipeline(name, model=model, tokenizer=tokenizer)
        return
    if name == "text-generation" and not model.backbone.is_causal:
        generator = pipeline(name, model=model, tokenizer=tokenizer)
        with pytest.raises(CacheError, match="reads in both directions"):
            generator("the cat sat", max_new_tokens=2)
        return
    runner = pipeline(name, model=model, tokenizer=tokenizer)
    check = {
        "fill-mask": _check_fill_mask,
        "text-generation": _check_text_generation,
        "token-classification": _check_token_classification,
        "text-classification": _check_text_classification,
        "question-answering": _check_question_answering,
    }[name]
    check(runner, model, tokenizer)


def _check_fill_mask(runner, model, tokenizer) -> None:
    text = f"the cat sat on the {tokenizer.mask_token}."
    predictions = runner(text, top_k=3)
    encoded = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded).logits[0, encoded["input_ids"][0].tolist().index(tokenizer.mask_token_id)]
    scores, ids = logits.softmax(-1).topk(3)
    assert [p["token"] for p in predictions] == ids.tolist()
    torch.testing.assert_close(torch.tensor([p["score"] for p in predictions]), scores)


def _check_text_generation(runner, model, tokenizer) -> None:
    settings = {"max_new_tokens": 4, "min_new_tokens": 4, "do_sample": False}
    output = runner("the cat sat", return_tensors=True, **settings)[0]["generated_token_ids"]
    expected = model.generate(**tokenizer("the cat sat", return_tensors="pt"), **settings)
    assert list(output) == expected[0].tolist()


def _check_token_classification(runner, model, tokenizer) -> None:
    entities = runner("the cat sat on the mat")
    encoded = tokenizer("the cat sat on the mat", return_tensors="pt")
    with torch.no_grad():
        labels = model(**encoded).logits[0].argmax(-1)
    assert entities and all(e["entity"] == model.config.id2label[int(labels[e["index"]])] for e in entities)


def _check_text_classification(runner, model, tokenizer) -> None:
    result = runner("the cat sat on the mat")[0]
    with torch.no_grad():
        logits = model(**tokenizer("the cat sat on the mat", return_tensors="pt")).logits[0]
    sigmoid = logits.numel() == 1 or model.config.problem_type == "multi_label_classification"
    scores = logits.sigmoid() if sigmoid else logits.softmax(-1)
    assert result["label"] == model.config.id2label[int(scores.argmax())]
    assert result["score"] == pytest.approx(float(scores.max()), abs=1e-6)


def _check_question_answering(runner, model, tokenizer) -> None:
    context = "the cat sat on the mat and the dog sat on the log."
    answer = runner(question="where did the cat sit?", context=context)
    assert 0 <= answer["start"] <= answer["end"] <= len(context)
    assert answer["answer"] == context[answer["start"] : answer["end"]]
    assert 0.0 <= answer["score"] <= 1.0


@pytest.mark.parametrize("family", FAMILIES)
def test_feature_extraction_pipeline_reads_an_archit_checkpoint(family: str, tokenizers, tmp_path) -> None:
    model = _model(family, "token_classification")
    tokenizer = tokenizers["masked_lm"]
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    features = pipeline("feature-extraction", model=str(tmp_path), return_tensors=True)("the cat sat")
    with torch.no_grad():
        expected = model.encode(**tokenizer("the cat sat", return_tensors="pt")).last_hidden_state
    assert_same_outputs(features.float(), expected)


@pytest.mark.parametrize(
    ("family", "overrides"),
    [("GRU", {}), ("RNN", {}), ("LSTM", {"bidirectional": True}), ("LSTM", {"tie_word_embeddings": False})],
)
def test_resize_every_recurrent_backbone(family: str, overrides: dict, tmp_path) -> None:
    task = "masked_lm" if overrides.get("bidirectional") else "causal_lm"
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_recurrent_config(family, **overrides), task=task).eval()
    model.resize_token_embeddings(RESIZED)
    assert model.head.decoder.out_features == model.config.vocab_size == RESIZED
    assert (model.head.decoder.weight is model.get_input_embeddings().weight) == model.config.tie_word_embeddings
    input_ids = torch.arange(RESIZED - 14, RESIZED)[None]
    model.save_pretrained(tmp_path)
    loaded = type(model).from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert_same_outputs(loaded(input_ids=input_ids).logits, model(input_ids=input_ids).logits)
