"""Loading tells the truth: HF ``XForY`` heads are reused where they compute what archit's do, the report is read
from the loaded model, labels follow the head, transformers' own warnings pass, remote code needs consent."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers
from safetensors.torch import load_file

from archit._compat import KEY_MAPPING_RENAMES_BACKBONE_PREFIX, TIED_WEIGHTS_AS_MAPPING
from archit.errors import CheckpointError, HeadConfigError
from archit.modeling import ArchitFactory
from archit.modeling.tasks import (
    ForCausalLM,
    ForDependencyParsing,
    ForSingleLabelSequenceClassification,
    ForSingleLabelTokenClassification,
)
from archit.modeling.wrappers import ArchitWrapper
from archit.resolution import ModelArchitectures
from archit.simple.data.tokenization import family_of
from tests.comparison import assert_same_outputs
from tests.tiny_configs import _BERT_LIKE, SEQ_LEN, TINY_CONFIGS, VOCAB_SIZE, tiny_config, tiny_gpt_neox_config

NUM_LABELS = 3
HF_TASKS = [task for task in ArchitFactory.tasks() if ArchitFactory.get_task(task).reuses_hf_heads]

# The (family, task) pairs whose HF XForY head computes something archit's head for the task does not, and why;
# every other pair of a tested family with an HF class must reuse the checkpoint's head exactly.
_SEQUENCE_TASKS = ("sequence_classification", "multi_label_classification", "regression")
DIFFERENT: dict[tuple[str, str], str] = {
    **{
        (family, "causal_lm"): "an MLM-style head on a bidirectional encoder"
        for family in ("BERT", "ROBERTA", "XLM_ROBERTA", "ELECTRA", "XLM")
    },
    **{
        (family, task): "a pooler or summary with its own activation"
        for family in ("DEBERTA", "DEBERTA_V2", "ELECTRA", "DISTILBERT", "XLM", "MODERNBERT")
        for task in (*_SEQUENCE_TASKS, "multiple_choice")
    },
    **{
        (family, task): "one bias-free score layer on the last token"
        for family in ("GPT2", "GPT_BIGCODE", "LLAMA", "MISTRAL", "QWEN3")
        for task in _SEQUENCE_TASKS
    },
    **{
        (family, task): "the decoder's output, which archit does not use"
        for family in ("BART", "MBART")
        for task in (*_SEQUENCE_TASKS, "extractive_qa", "masked_lm", "causal_lm")
    },
    **{("T5", task): "the decoder's output, which archit does not use" for task in (*_SEQUENCE_TASKS, "extractive_qa")},
    **{
        ("MODERNBERT", task): "a prediction head before the classifier"
        for task in ("token_classification", "extractive_qa")
    },
}


def _hf_cases() -> Iterator[tuple[str, str]]:
    for family in TINY_CONFIGS:
        for task in HF_TASKS:
            if ArchitFactory.get_task(task).hf_head_class(tiny_config(family).model_type) is not None:
                yield family, task


def _hf_config(family: str, task: str) -> transformers.PretrainedConfig:
    config = tiny_config(family)
    if task == "regression":
        config.num_labels, config.problem_type = 1, "regression"
    elif task in ("token_classification", *_SEQUENCE_TASKS):
        config.id2label = {index: f"class-{index}" for index in range(NUM_LABELS)}
        config.label2id = {name: index for index, name in config.id2label.items()}
        config.problem_type = "multi_label_classification" if task == "multi_label_classification" else None
    return config


def _inputs(task: str, config: transformers.PretrainedConfig) -> dict[str, torch.Tensor]:
    input_ids = torch.randint(5, 90, (2, SEQ_LEN), generator=torch.Generator().manual_seed(1))
    if isinstance(getattr(config, "eos_token_id", None), int):
        input_ids[:, -1] = config.eos_token_id  # BART's classifiers read the end-of-sequence token
    if task == "multiple_choice":
        input_ids = input_ids.unsqueeze(1).expand(-1, 2, -1).contiguous()
    return {"input_ids": input_ids}


def _saved_names(directory: Path) -> set[str]:
    return set(load_file(directory / "model.safetensors"))


def _checkpoint_head_names(directory: Path, hf_class: type) -> set[str]:
    return {name for name in _saved_names(directory) if not name.startswith(hf_class.base_model_prefix + ".")}


def _in_backbone(model: torch.nn.Module, name: str) -> bool:
    return hasattr(model.backbone, name.split(".")[0])


@pytest.mark.parametrize(("family", "task"), list(_hf_cases()))
def test_hf_xfory_heads_are_reused_where_they_fit(family: str, task: str, tmp_path) -> None:
    config = _hf_config(family, task)
    hf_class = ArchitFactory.get_task(task).hf_head_class(config.model_type)
    torch.manual_seed(0)
    hf_model = hf_class(config).eval()
    hf_model.save_pretrained(tmp_path)
    model = ArchitFactory.from_pretrained(tmp_path, task=task)
    report = model.loading_report
    if (family, task) in DIFFERENT:
        assert any(hf_class.__name__ in note and "not reused" in note for note in report.notes), report.notes
        assert not any(name.startswith("head.") for name in report.loaded)
        # what the checkpoint keeps outside archit's backbone (its head, a decoder) is listed unused
        outside = {name for name in _checkpoint_head_names(tmp_path, hf_class) if not _in_backbone(model, name)}
        assert outside <= set(report.unused), (outside, report.unused)
        return
    if not KEY_MAPPING_RENAMES_BACKBONE_PREFIX and hf_class.base_model_prefix != model.base_model_prefix:
        assert "cannot load it under another name" in report.notes[0]
        return
    assert report.new == [] and report.notes == [], (report.new, report.notes)
    if getattr(model.config.get_head_config(), "num_labels", None) is not None and task != "multiple_choice":
        assert model.config.id2label == hf_model.config.id2label
    inputs = _inputs(task, config)
    with torch.no_grad():
        ours, theirs = model(**inputs), hf_model(**inputs)
    for name in ("logits", "start_logits", "end_logits"):
        if ours.get(name) is not None:
            assert_same_outputs(ours[name], theirs[name])


def test_a_reused_head_is_saved_in_archits_layout(tmp_path) -> None:
    torch.manual_seed(0)
    hf_model = transformers.RobertaForTokenClassification(_hf_config("ROBERTA", "token_classification")).eval()
    hf_model.save_pretrained(tmp_path / "hf")
    model = ForSingleLabelTokenClassification.from_pretrained(tmp_path / "hf")
    assert "head.classifier.weight" in model.loading_report.loaded
    model.save_pretrained(tmp_path / "archit")
    assert all(name.startswith(("roberta.", "head.")) for name in _saved_names(tmp_path / "archit"))
    reloaded = ForSingleLabelTokenClassification.from_pretrained(tmp_path / "archit")
    assert reloaded.loading_report.new == [] and reloaded.loading_report.unused == []
    assert reloaded.config.id2label == {0: "class-0", 1: "class-1", 2: "class-2"}
    inputs = _inputs("token_classification", hf_model.config)
    with torch.no_grad():
        assert_same_outputs(reloaded(**inputs).logits, hf_model(**inputs).logits)


def test_another_tasks_hf_head_is_named_in_a_note(tmp_path) -> None:
    transformers.BertForSequenceClassification(tiny_config("BERT")).save_pretrained(tmp_path)
    report = ForSingleLabelTokenClassification.from_pretrained(tmp_path).loading_report
    assert "classifier.weight" in report.unused and "head.classifier.weight" in report.new
    assert "saved from BertForSequenceClassification" in report.notes[0]
    assert "BertForTokenClassification" in report.notes[0]


# --- the check runs the backbone the two heads share once ------------------------------------------------------
@pytest.fixture
def backbone_runs(monkeypatch) -> list[int]:
    """Grows by one at each run of a tiny backbone (each run of its input embedding, the one with a row per token)."""
    runs: list[int] = []
    forward = torch.nn.Embedding.forward

    def counted_forward(self: torch.nn.Embedding, input_ids: torch.Tensor) -> torch.Tensor:
        if self.num_embeddings == VOCAB_SIZE:
            runs.append(len(runs) + 1)
        return forward(self, input_ids)

    monkeypatch.setattr(torch.nn.Embedding, "forward", counted_forward)
    return runs


# plain, flattened choices, causal with a cache the HF class asks for, an encoder-decoder's encoder, two that differ
ONE_RUN_CASES = [
    ("ROBERTA", "token_classification"),
    ("BERT", "multiple_choice"),
    ("GPT2", "token_classification"),
    ("LLAMA", "causal_lm"),
    ("T5", "token_classification"),
    ("DEBERTA", "sequence_classification"),
    ("ELECTRA", "multiple_choice"),
]


@pytest.mark.parametrize(("family", "task"), ONE_RUN_CASES)
def test_the_head_check_runs_the_shared_backbone_once(family: str, task: str, tmp_path, backbone_runs) -> None:
    hf_class = ArchitFactory.get_task(task).hf_head_class(tiny_config(family).model_type)
    hf_class(_hf_config(family, task)).save_pretrained(tmp_path)
    backbone_runs.clear()
    report = ArchitFactory.from_pretrained(tmp_path, task=task).loading_report
    assert len(backbone_runs) == 1
    differs = [note for note in report.notes if "with the same weights it computes other logits" in note]
    assert bool(differs) == ((family, task) in DIFFERENT), report.notes


def _encoding_otherwise(monkeypatch, **changes: Any) -> None:
    """Make archit's models call their backbones with ``changes`` to the arguments of ``ArchitWrapper.encode``."""
    encode = ArchitWrapper.encode

    def changed_encode(self: ArchitWrapper, *args: Any, **kwargs: Any) -> Any:
        arguments = inspect.signature(encode).bind(self, *args, **kwargs).arguments
        del arguments["self"]
        extra = arguments.pop("kwargs", {})
        return encode(self, **{**arguments, **changes}, **extra)

    monkeypatch.setattr(ArchitWrapper, "encode", changed_encode)


def test_a_backbone_output_the_hf_run_lacks_is_computed_again(tmp_path, backbone_runs, monkeypatch) -> None:
    transformers.RobertaForTokenClassification(_hf_config("ROBERTA", "token_classification")).save_pretrained(tmp_path)
    _encoding_otherwise(monkeypatch, output_hidden_states=True)  # the HF class asks for no layers' states
    backbone_runs.clear()
    report = ArchitFactory.from_pretrained(tmp_path, task="token_classification").loading_report
    assert len(backbone_runs) == 2
    assert report.notes == [] and "head.classifier.weight" in report.loaded


def test_a_backbone_call_with_other_inputs_runs_the_backbone_again(tmp_path, backbone_runs, monkeypatch) -> None:
    transformers.RobertaForTokenClassification(_hf_config("ROBERTA", "token_classification")).save_pretrained(tmp_path)
    _encoding_otherwise(monkeypatch, attention_mask=torch.tensor([[1, 1, 1, 1, 1, 1, 0, 0]]))
    backbone_runs.clear()
    report = ArchitFactory.from_pretrained(tmp_path, task="token_classification").loading_report
    assert len(backbone_runs) == 2
    assert "with the same weights it computes other logits" in report.notes[0]


def test_a_backbone_output_the_hf_model_changed_in_place_is_computed_again(
    tmp_path, backbone_runs, monkeypatch
) -> None:
    transformers.RobertaForTokenClassification(_hf_config("ROBERTA", "token_classification")).save_pretrained(tmp_path)
    forward = transformers.RobertaForTokenClassification.forward

    def forward_doubling_its_backbones_output(self: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        def double(module: torch.nn.Module, inputs: Any, output: Any) -> None:
            output.last_hidden_state.mul_(2)

        handle = self.roberta.register_forward_hook(double)
        try:
            return forward(self, *args, **kwargs)
        finally:
            handle.remove()

    monkeypatch.setattr(transformers.RobertaForTokenClassification, "forward", forward_doubling_its_backbones_output)
    backbone_runs.clear()
    report = ArchitFactory.from_pretrained(tmp_path, task="token_classification").loading_report
    assert len(backbone_runs) == 2
    assert "with the same weights it computes other logits" in report.notes[0]


# --- the report is read from the loaded model ------------------------------------------------------------------
UNTIED = {
    "LLAMA": (lambda: tiny_config("LLAMA"), transformers.LlamaModel, transformers.LlamaForCausalLM),
    "GPT_NEOX": (tiny_gpt_neox_config, transformers.GPTNeoXModel, transformers.GPTNeoXForCausalLM),
}


@pytest.mark.parametrize("name", list(UNTIED))
def test_an_untied_lm_head_missing_from_the_checkpoint_is_new(name: str, tmp_path) -> None:
    make_config, bare_class, _ = UNTIED[name]
    assert make_config().tie_word_embeddings is False
    bare_class(make_config()).save_pretrained(tmp_path)
    model = ForCausalLM.from_pretrained(tmp_path)
    report = model.loading_report
    assert report.new == ["head.decoder.weight"] and report.tied == []
    assert model.head.decoder.weight is not model.get_input_embeddings().weight


@pytest.mark.parametrize("name", list(UNTIED))
def test_an_untied_lm_head_in_the_checkpoint_is_loaded(name: str, tmp_path) -> None:
    make_config, _, causal_class = UNTIED[name]
    torch.manual_seed(0)
    hf_model = causal_class(make_config()).eval()
    hf_model.save_pretrained(tmp_path)
    model = ForCausalLM.from_pretrained(tmp_path)
    report = model.loading_report
    assert report.new == [] and report.tied == [] and report.notes == []
    assert "head.decoder.weight" in report.loaded
    assert torch.equal(model.head.decoder.weight, hf_model.get_output_embeddings().weight)
    inputs = _inputs("causal_lm", make_config())
    with torch.no_grad():
        assert_same_outputs(model(**inputs).logits, hf_model(**inputs).logits)


def test_a_tied_lm_head_is_reported_tied(tmp_path) -> None:
    transformers.LlamaModel(tiny_config("LLAMA")).save_pretrained(tmp_path)
    config = tiny_config("LLAMA")
    config.tie_word_embeddings = True
    model = ForCausalLM.from_pretrained(tmp_path, config=config)
    report = model.loading_report
    assert report.new == [] and report.tied == [("head.decoder.weight", "model.embed_tokens.weight")]
    assert "model.embed_tokens.weight" in report.loaded and "head.decoder.weight" not in report.loaded


# --- labels follow the head ------------------------------------------------------------------------------------
@pytest.fixture
def tagger(tmp_path) -> Path:
    """An archit token classifier with three named classes, saved."""
    names = {0: "O", 1: "B-PER", 2: "I-PER"}
    model = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification", num_labels=3, id2label=names)
    model.save_pretrained(tmp_path / "tagger")
    return tmp_path / "tagger"


def _reloaded_labels(model: torch.nn.Module, directory: Path) -> tuple[int, dict[int, str], dict[str, int]]:
    model.save_pretrained(directory)
    config = ForSingleLabelTokenClassification.from_pretrained(directory).config
    return config.num_labels, config.id2label, config.label2id


def test_resized_heads_get_numbered_labels(tagger: Path, tmp_path) -> None:
    model = ArchitFactory.from_pretrained(
        tagger, task="token_classification", num_labels=5, ignore_mismatched_sizes=True
    )
    numbered = {index: f"LABEL_{index}" for index in range(5)}
    assert model.head.classifier.out_features == 5
    assert (model.config.num_labels, model.config.id2label) == (5, numbered)
    assert model.config.label2id == {name: index for index, name in numbered.items()}
    assert {"head.classifier.weight", "head.classifier.bias"} <= set(model.loading_report.new)
    assert _reloaded_labels(model, tmp_path / "saved")[:2] == (5, numbered)


def test_resized_heads_take_new_label_names(tagger: Path, tmp_path) -> None:
    names = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
    model = ArchitFactory.from_pretrained(
        tagger, task="token_classification", num_labels=5, id2label=names, ignore_mismatched_sizes=True
    )
    assert (model.config.num_labels, model.config.id2label) == (5, names)
    assert _reloaded_labels(model, tmp_path / "saved") == (5, names, {name: i for i, name in names.items()})
    with pytest.raises(HeadConfigError, match="name 2 classes, but the head has num_labels=5"):
        ArchitFactory.from_pretrained(
            tagger, task="token_classification", num_labels=5, id2label={0: "a", 1: "b"}, ignore_mismatched_sizes=True
        )


def test_auto_classes_resize_with_num_labels(tagger: Path) -> None:
    model = transformers.AutoModelForTokenClassification.from_pretrained(
        tagger, num_labels=4, ignore_mismatched_sizes=True
    )
    assert model.head.classifier.out_features == 4 and model.config.num_labels == 4
    assert len(model.config.id2label) == 4


def test_hf_heads_keep_their_labels_when_resized(tmp_path) -> None:
    transformers.RobertaForTokenClassification(_hf_config("ROBERTA", "token_classification")).save_pretrained(tmp_path)
    model = ArchitFactory.from_pretrained(tmp_path, task="token_classification")
    assert model.config.id2label == {0: "class-0", 1: "class-1", 2: "class-2"}
    resized = ArchitFactory.from_pretrained(
        tmp_path, task="token_classification", num_labels=4, ignore_mismatched_sizes=True
    )
    assert resized.config.id2label == {index: f"LABEL_{index}" for index in range(4)}
    assert [entry[:2] for entry in resized.loading_report.mismatched] == [
        ("head.classifier.bias", (3,)),
        ("head.classifier.weight", (3, 32)),
    ]


# --- transformers' own warnings --------------------------------------------------------------------------------


def test_loading_keeps_transformers_warnings_but_the_key_lists(tmp_path, transformers_log, monkeypatch) -> None:
    transformers.BertModel(tiny_config("BERT")).save_pretrained(tmp_path)
    loader_log = logging.getLogger("transformers.modeling_utils")
    tie_weights = transformers.PreTrainedModel.tie_weights

    def tie_weights_and_warn(self: transformers.PreTrainedModel, *args: object, **kwargs: object) -> object:
        loader_log.warning("a warning transformers gives while loading")
        return tie_weights(self, *args, **kwargs)

    monkeypatch.setattr(transformers.PreTrainedModel, "tie_weights", tie_weights_and_warn)
    model = ForSingleLabelTokenClassification.from_pretrained(tmp_path)
    assert model.loading_report.new == ["head.classifier.bias", "head.classifier.weight"]
    assert "a warning transformers gives while loading" in transformers_log.messages
    assert not [
        message for message in transformers_log.messages if "LOAD REPORT" in message or "Some weights" in message
    ]
    # the filter is gone after loading: transformers' own loads report as usual
    transformers.BertForTokenClassification.from_pretrained(tmp_path)
    assert any("LOAD REPORT" in message or "Some weights" in message for message in transformers_log.messages)


@pytest.mark.skipif(not TIED_WEIGHTS_AS_MAPPING, reason="transformers 4 ties such checkpoints without a word")
def test_the_will_not_tie_warning_passes(tmp_path, transformers_log) -> None:
    config = tiny_config("BERT")
    config.tie_word_embeddings = False
    transformers.BertForMaskedLM(config).save_pretrained(tmp_path)
    written = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**written, "tie_word_embeddings": True}))
    model = ArchitFactory.from_pretrained(tmp_path, task="masked_lm")
    assert any("NOT tie" in message for message in transformers_log.messages)
    assert model.loading_report.tied == [("head.head.predictions.decoder.bias", "head.head.predictions.bias")]


# --- remote code -----------------------------------------------------------------------------------------------
REMOTE_CONFIGURATION = """
from transformers import PretrainedConfig


class TinyRemoteConfig(PretrainedConfig):
    model_type = "tiny-remote"

    def __init__(self, vocab_size=99, width=32, max_position_embeddings=64, **kwargs):
        self.vocab_size, self.width, self.max_position_embeddings = vocab_size, width, max_position_embeddings
        super().__init__(**kwargs)
"""
REMOTE_MODELING = """
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput

from .configuration_tiny_remote import TinyRemoteConfig


class TinyRemoteModel(PreTrainedModel):
    config_class = TinyRemoteConfig
    base_model_prefix = "tiny"

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.width)
        self.layer = nn.Linear(config.width, config.width)
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def set_input_embeddings(self, value):
        self.embeddings = value

    def forward(self, input_ids=None, attention_mask=None, output_hidden_states=False, return_dict=True, **kwargs):
        embedded = self.embeddings(input_ids)
        hidden = torch.tanh(self.layer(embedded))
        layers = (embedded, hidden) if output_hidden_states else None
        return BaseModelOutput(last_hidden_state=hidden, hidden_states=layers)
"""


@pytest.fixture
def remote_checkpoint(tmp_path) -> Path:
    """A checkpoint whose model type only its own code knows (``auto_map`` in config.json), with weights."""
    directory = tmp_path / "tiny-remote"
    directory.mkdir()
    (directory / "configuration_tiny_remote.py").write_text(REMOTE_CONFIGURATION)
    (directory / "modeling_tiny_remote.py").write_text(REMOTE_MODELING)
    auto_map = {
        "AutoConfig": "configuration_tiny_remote.TinyRemoteConfig",
        "AutoModel": "modeling_tiny_remote.TinyRemoteModel",
    }
    config = {"model_type": "tiny-remote", "auto_map": auto_map, "architectures": ["TinyRemoteModel"]}
    (directory / "config.json").write_text(json.dumps(config))
    loaded_config = transformers.AutoConfig.from_pretrained(directory, trust_remote_code=True)
    transformers.AutoModel.from_config(loaded_config, trust_remote_code=True).save_pretrained(directory)
    return directory


def test_remote_code_needs_consent_and_never_prompts(remote_checkpoint: Path, monkeypatch) -> None:
    monkeypatch.setattr("builtins.input", lambda *args: pytest.fail("archit asked a question on the terminal"))
    for load in (
        lambda: ArchitFactory.from_pretrained(remote_checkpoint, task="token_classification"),
        lambda: ArchitFactory.from_pretrained(remote_checkpoint, task="token_classification", num_labels=3),
        lambda: ForSingleLabelTokenClassification.from_pretrained(remote_checkpoint),
    ):
        with pytest.raises(CheckpointError, match="configuration_tiny_remote.TinyRemoteConfig.*trust_remote_code=True"):
            load()


def test_remote_code_checkpoints(remote_checkpoint: Path) -> None:
    model = ArchitFactory.from_pretrained(
        remote_checkpoint, task="token_classification", num_labels=NUM_LABELS, trust_remote_code=True
    )
    assert model.backbone.family is ModelArchitectures.GENERIC
    assert type(model.backbone).__name__ == "TinyRemoteModel" and model.base_model_prefix == "tiny"
    assert model.loading_report.new == ["head.classifier.bias", "head.classifier.weight"]
    assert sorted(model.loading_report.loaded) == ["tiny.embeddings.weight", "tiny.layer.bias", "tiny.layer.weight"]
    remote = transformers.AutoModel.from_pretrained(remote_checkpoint, trust_remote_code=True)
    input_ids = torch.randint(0, 99, (2, SEQ_LEN))
    with torch.no_grad():
        assert torch.equal(model.encode(input_ids=input_ids).last_hidden_state, remote(input_ids).last_hidden_state)
    assert model(input_ids=input_ids).logits.shape == (2, SEQ_LEN, NUM_LABELS)
    tagger = ForSingleLabelTokenClassification.from_pretrained(remote_checkpoint, trust_remote_code=True)
    assert type(tagger.backbone).__name__ == "TinyRemoteModel"


# --- smaller truths (item 6) -----------------------------------------------------------------------------------
def test_mismatch_errors_give_the_checkpoints_shape(tmp_path) -> None:
    transformers.BertModel(tiny_config("BERT")).save_pretrained(tmp_path / "bare")
    wider = transformers.BertConfig(**{**_BERT_LIKE, "intermediate_size": 41})
    with pytest.raises(CheckpointError, match=r"intermediate.dense.(weight|bias) has shape \(37,( 32)?\) in .* but"):
        ForSingleLabelTokenClassification.from_pretrained(tmp_path / "bare", config=wider)
    transformers.RobertaForTokenClassification(_hf_config("ROBERTA", "token_classification")).save_pretrained(
        tmp_path / "xfory"
    )
    with pytest.raises(HeadConfigError, match=r"head weight head.classifier.bias has shape \(3,\), but"):
        ArchitFactory.from_pretrained(tmp_path / "xfory", task="token_classification", num_labels=5)


def test_auto_classes_give_a_checkpoint_of_another_task_a_new_head(tmp_path, caplog) -> None:
    parser = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing", num_labels=4, arc_mlp_size=8)
    parser.save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING, logger="archit"):
        tagger = transformers.AutoModelForTokenClassification.from_pretrained(tmp_path)
    assert isinstance(tagger, ForSingleLabelTokenClassification)
    assert tagger.loading_report.new == ["head.classifier.bias", "head.classifier.weight"]
    parser_head = {name for name in parser.state_dict() if name.startswith("head.")}
    assert parser_head and parser_head <= set(tagger.loading_report.unused)
    assert any("archit dep_parsing model" in record.message for record in caplog.records)
    classifier = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert isinstance(classifier, ForSingleLabelSequenceClassification)
    assert not isinstance(classifier, ForDependencyParsing)
    assert "archit dep_parsing model" in classifier.loading_report.notes[0]


def test_a_callers_config_is_kept_with_head_fields(tmp_path) -> None:
    transformers.BertModel(tiny_config("BERT")).save_pretrained(tmp_path)
    config = tiny_config("BERT")
    config.hidden_dropout_prob = 0.3
    model = ArchitFactory.from_pretrained(tmp_path, task="token_classification", num_labels=NUM_LABELS, config=config)
    assert model.config.backbone_config.hidden_dropout_prob == 0.3
    assert model.head.classifier.out_features == NUM_LABELS and model.loading_report.new[0].startswith("head.")


def test_family_of_refuses_a_corrupt_config(tmp_path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "roberta",')
    with pytest.raises(CheckpointError, match="config.json is not valid JSON"):
        family_of(str(tmp_path))
    (tmp_path / "config.json").unlink()
    assert family_of(str(tmp_path)) is ModelArchitectures.GENERIC  # a tokenizer alone names no family


@pytest.mark.parametrize(
    ("family", "bare_class"), [("BART", transformers.BartModel), ("MBART", transformers.MBartModel)]
)
def test_bart_leaves_its_decoder_behind(family: str, bare_class: type, tmp_path) -> None:
    torch.manual_seed(0)
    hf_model = bare_class(tiny_config(family)).eval()
    hf_model.save_pretrained(tmp_path / "hf")
    model = ArchitFactory.from_pretrained(tmp_path / "hf", task="token_classification", num_labels=NUM_LABELS)
    report = model.loading_report
    decoder = {name for name in hf_model.state_dict() if name.startswith("decoder.") and "embed_tokens" not in name}
    assert decoder <= set(report.unused) and model.model.decoder is None
    assert report.new == ["head.classifier.bias", "head.classifier.weight"]
    input_ids = torch.randint(5, 90, (2, SEQ_LEN))
    with torch.no_grad():
        assert torch.equal(model.encode(input_ids=input_ids).last_hidden_state, hf_model.encoder(input_ids)[0])
    model.save_pretrained(tmp_path / "archit")
    assert not [name for name in _saved_names(tmp_path / "archit") if "decoder" in name]
    reloaded = ForSingleLabelTokenClassification.from_pretrained(tmp_path / "archit")
    assert reloaded.loading_report.new == [] and reloaded.loading_report.unused == []


ROBERTA_LIKE = ["CamembertConfig", "Data2VecTextConfig", "RobertaPreLayerNormConfig", "XLMRobertaXLConfig"]


@pytest.mark.parametrize("config_class", ROBERTA_LIKE)
def test_roberta_like_generic_backbones_parse_inputs_of_max_length(config_class: str) -> None:
    config = getattr(transformers, config_class)(**_BERT_LIKE)
    parser = ArchitFactory.from_config(config, task="dep_parsing", num_labels=4, arc_mlp_size=8, label_mlp_size=8)
    assert parser.backbone.family is ModelArchitectures.GENERIC
    assert parser.backbone.max_length == config.max_position_embeddings - config.pad_token_id - 1
    parser.eval()
    for length in (parser.backbone.max_length, parser.backbone.max_length + 5):
        input_ids = torch.randint(5, 90, (1, length))
        word_ids = torch.arange(length)[None] // 2
        output = parser(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), word_ids=word_ids)
        assert output.arc_predictions.shape == (1, (length + 1) // 2)
