"""Loading the three checkpoint kinds, reusing pretrained LM heads, and refusing what does not fit."""

from __future__ import annotations

import json
import logging

import pytest
import torch
import transformers

from archit.errors import (
    CheckpointError,
    DataError,
    HeadConfigError,
    RegistrationError,
    UnknownArchitectureError,
    UnknownTaskError,
)
from archit.instantiation.basemodels import GPT2BaseModel, RobertaBaseModel
from archit.instantiation.heads import (
    DependencyParsingHeadConfig,
    SequenceClassificationHeadConfig,
    TokenClassificationHeadConfig,
)
from archit.instantiation.tasks import (
    ForCausalLM,
    ForDependencyParsing,
    ForMaskedLM,
    ForMultiLabelSequenceClassification,
    ForSequenceRegression,
    ForSingleLabelTokenClassification,
)
from archit.modeling import ArchitFactory, BaseModel
from archit.modeling.factory import TASKS, _tasks_by_auto_class, register_task
from archit.modeling.heads import HeadConfig, head_config_from_dict
from archit.modeling.heads.base import HEAD_CONFIGS
from archit.modeling.tasks import ArchitConfig
from tests.comparison import assert_same_outputs
from tests.modeling.test_tasks import task_inputs
from tests.task_inputs import NUM_LABELS
from tests.tiny_configs import synthesized_config, tiny_config


@pytest.fixture
def ids() -> torch.Tensor:
    return torch.randint(3, 99, (3, 7), generator=torch.Generator().manual_seed(0))


def _state_equal(first: torch.nn.Module, second: torch.nn.Module, prefix: str = "") -> bool:
    first_state, second_state = first.state_dict(), second.state_dict()
    return all(torch.equal(first_state[name], second_state[prefix + name]) for name in first_state)


def test_bare_backbone_checkpoint(tmp_path, ids) -> None:
    torch.manual_seed(0)
    backbone = transformers.BertModel(tiny_config("BERT"), add_pooling_layer=False)
    backbone.save_pretrained(tmp_path)
    model = ForSingleLabelTokenClassification.from_pretrained(tmp_path, head_config=TokenClassificationHeadConfig())
    assert _state_equal(backbone, model, prefix="bert.")
    assert model.loading_report.new == ["head.classifier.bias", "head.classifier.weight"]
    assert model.loading_report.unused == []


def test_hf_xfory_checkpoint_lends_its_backbone(tmp_path) -> None:
    torch.manual_seed(0)
    hf = transformers.BertForSequenceClassification(tiny_config("BERT"))
    hf.save_pretrained(tmp_path)
    model = ForSingleLabelTokenClassification.from_pretrained(tmp_path)
    hf_backbone = {k: v for k, v in hf.bert.state_dict().items() if not k.startswith("pooler")}
    assert all(torch.equal(value, model.bert.state_dict()[key]) for key, value in hf_backbone.items())
    assert "classifier.weight" in model.loading_report.unused


def test_archit_checkpoint_of_the_same_task_needs_no_head_config(tmp_path, ids) -> None:
    model = ArchitFactory.from_config(tiny_config("ROBERTA"), task="token_classification", num_labels=7).eval()
    model.config.id2label = {i: f"L{i}" for i in range(7)}
    model.save_pretrained(tmp_path)
    loaded = ForSingleLabelTokenClassification.from_pretrained(tmp_path).eval()
    assert loaded.config.get_head_config() == TokenClassificationHeadConfig(num_labels=7)
    assert loaded.config.id2label[6] == "L6"
    assert_same_outputs(loaded(input_ids=ids).logits, model(input_ids=ids).logits)


@pytest.mark.parametrize(
    ("name", "hf_class"), [("BERT", transformers.BertForMaskedLM), ("ROBERTA", transformers.RobertaForMaskedLM)]
)
def test_masked_lm_reuses_the_pretrained_head(name: str, hf_class: type, tmp_path, ids) -> None:
    torch.manual_seed(0)
    hf = hf_class(tiny_config(name)).eval()
    hf.save_pretrained(tmp_path)
    model = ForMaskedLM.from_pretrained(tmp_path).eval()
    assert model.loading_report.new == [] and model.loading_report.unused == []
    with torch.no_grad():
        assert_same_outputs(model(input_ids=ids).logits, hf(input_ids=ids).logits)
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    model.save_pretrained(tmp_path / "archit")
    reloaded = ForMaskedLM.from_pretrained(tmp_path / "archit").eval()
    assert reloaded.get_output_embeddings().weight is reloaded.get_input_embeddings().weight
    with torch.no_grad():
        assert_same_outputs(reloaded(input_ids=ids).logits, hf(input_ids=ids).logits)


@pytest.mark.parametrize(
    ("name", "hf_class"), [("GPT2", transformers.GPT2LMHeadModel), ("LLAMA", transformers.LlamaForCausalLM)]
)
def test_causal_lm_generates_like_transformers(name: str, hf_class: type, tmp_path, ids) -> None:
    torch.manual_seed(0)
    hf = hf_class(tiny_config(name)).eval()
    hf.save_pretrained(tmp_path)
    model = ForCausalLM.from_pretrained(tmp_path).eval()
    assert model.loading_report.new == [] and model.loading_report.unused == []
    prompt = ids[:2, :4]
    settings = {"max_new_tokens": 12, "do_sample": False, "pad_token_id": 0}
    expected = hf.generate(prompt, attention_mask=torch.ones_like(prompt), **settings)
    assert torch.equal(model.generate(prompt, attention_mask=torch.ones_like(prompt), **settings), expected)


def test_another_tasks_head_is_never_reused(tmp_path, caplog) -> None:
    # Same head class, same names, same shapes: still a different task.
    source = ArchitFactory.from_config(tiny_config("BERT"), task="sequence_classification", num_labels=3)
    source.save_pretrained(tmp_path)
    with caplog.at_level(logging.INFO, logger="archit"):
        loaded = ForMultiLabelSequenceClassification.from_pretrained(
            tmp_path, head_config=SequenceClassificationHeadConfig(num_labels=3)
        )
    assert not torch.equal(loaded.head.out_proj.weight, source.head.out_proj.weight)
    assert "head.out_proj.weight" in loaded.loading_report.new
    assert "head.out_proj.weight" in loaded.loading_report.unused
    assert any("new weights, randomly initialised" in record.message for record in caplog.records)
    assert any("checkpoint weights unused" in record.message for record in caplog.records)


def test_num_labels_mismatch(tmp_path) -> None:
    ArchitFactory.from_config(tiny_config("BERT"), task="token_classification", num_labels=3).save_pretrained(tmp_path)
    with pytest.raises(HeadConfigError, match="ignore_mismatched_sizes=True"):
        ForSingleLabelTokenClassification.from_pretrained(
            tmp_path, head_config=TokenClassificationHeadConfig(num_labels=5)
        )
    model = ArchitFactory.from_pretrained(
        tmp_path, task="token_classification", num_labels=5, ignore_mismatched_sizes=True
    )
    assert model.head.classifier.out_features == 5
    assert [name for name, _, _ in model.loading_report.mismatched] == [
        "head.classifier.bias",
        "head.classifier.weight",
    ]


def test_auto_classes_load_archit_checkpoints(tmp_path, ids) -> None:
    model = ArchitFactory.from_config(tiny_config("ROBERTA"), task="regression").eval()
    model.save_pretrained(tmp_path)
    auto = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    assert isinstance(auto, ForSequenceRegression)
    assert_same_outputs(auto(input_ids=ids).logits, model(input_ids=ids).logits)
    backbone = transformers.AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(backbone, transformers.RobertaModel)
    assert _state_equal(model.roberta, backbone) and _state_equal(backbone, model.roberta)
    token_model = ArchitFactory.from_config(tiny_config("GPT2"), task="token_classification")
    token_model.save_pretrained(tmp_path / "token")
    assert isinstance(
        transformers.AutoModelForTokenClassification.from_pretrained(tmp_path / "token"),
        ForSingleLabelTokenClassification,
    )


def test_auto_classes_are_read_from_the_task_registry(tmp_path) -> None:
    assert _tasks_by_auto_class() == {
        "AutoModelForTokenClassification": ("token_classification",),
        "AutoModelForSequenceClassification": ("sequence_classification", "multi_label_classification", "regression"),
        "AutoModelForMultipleChoice": ("multiple_choice",),
        "AutoModelForMaskedLM": ("masked_lm",),
        "AutoModelForCausalLM": ("causal_lm",),
        "AutoModelForQuestionAnswering": ("extractive_qa", "extractive_aqa"),
    }
    assert transformers.AutoModelForSequenceClassification._model_mapping[ArchitConfig].tasks[0] == (
        "sequence_classification"
    )

    class ForTokenTagging(ForSingleLabelTokenClassification):
        task_name = "token_tagging"

    with TASKS.restoring():
        with pytest.raises(RegistrationError, match="share AutoModelForTokenClassification, and 0 of them set"):
            register_task(ForTokenTagging)
        assert "token_tagging" not in TASKS
        ForTokenTagging.hf_auto_default = True
        register_task(ForTokenTagging)
        assert _tasks_by_auto_class()["AutoModelForTokenClassification"] == ("token_tagging", "token_classification")
    # extractive_aqa loads through the QA Auto class, but does not pair an HF QA head with its own
    transformers.BertForQuestionAnswering(tiny_config("BERT")).save_pretrained(tmp_path)
    (note,) = ArchitFactory.from_pretrained(tmp_path, task="extractive_aqa").loading_report.notes
    assert "saved from BertForQuestionAnswering: its head, if it has one, is not reused for extractive_aqa." in note


def test_passes_dtype_and_attention_to_the_backbone(tmp_path) -> None:
    ArchitFactory.from_config(tiny_config("BERT"), task="masked_lm").save_pretrained(tmp_path)
    model = ForMaskedLM.from_pretrained(tmp_path, attn_implementation="eager", dtype=torch.bfloat16)
    assert model.bert.config._attn_implementation == "eager"
    assert model.bert.embeddings.word_embeddings.weight.dtype == torch.bfloat16
    assert ForMaskedLM.from_pretrained(tmp_path).bert.config._attn_implementation == "sdpa"


def test_bad_checkpoints_raise_before_loading(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        ForMaskedLM.from_pretrained(tmp_path / "missing")
    tiny_config("BERT").save_pretrained(tmp_path / "no_weights")
    with pytest.raises(CheckpointError, match="no weights"):
        ForMaskedLM.from_pretrained(tmp_path / "no_weights")
    transformers.BertModel(tiny_config("BERT")).save_pretrained(tmp_path / "truncated")
    weights = tmp_path / "truncated" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="model.safetensors is truncated"):
        ForMaskedLM.from_pretrained(tmp_path / "truncated")
    vit = transformers.ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37)
    transformers.ViTModel(vit).save_pretrained(tmp_path / "vision")
    with pytest.raises(UnknownArchitectureError, match="produces no text hidden states"):
        ForMaskedLM.from_pretrained(tmp_path / "vision")


def test_wrong_labels_name_the_argument() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification")
    inputs = task_inputs("token_classification", torch.Generator().manual_seed(0))
    with pytest.raises(DataError, match="labels has shape \\(3,\\), expected \\(3, 7\\)"):
        model(input_ids=inputs["input_ids"], labels=inputs["labels"][:, 0])
    with pytest.raises(DataError, match="labels has dtype torch.float32, expected an integer dtype"):
        model(input_ids=inputs["input_ids"], labels=inputs["labels"].float())


def test_head_configs_validate_and_round_trip() -> None:
    with pytest.raises(HeadConfigError, match="num_labels must be at least 1; got -1"):
        TokenClassificationHeadConfig(num_labels=-1)
    with pytest.raises(HeadConfigError, match="pooling must be one of auto, first, last, mean, pooler"):
        SequenceClassificationHeadConfig(pooling="max")
    for config_class in HEAD_CONFIGS:
        config = config_class()
        assert head_config_from_dict(json.loads(config.to_json_string())) == config
    with pytest.raises(HeadConfigError, match="has no field\\(s\\) colour"):
        TokenClassificationHeadConfig.from_dict({"colour": 1})


def test_archit_config_round_trips() -> None:
    config = ArchitConfig(tiny_config("LLAMA"), DependencyParsingHeadConfig(num_labels=4), task="dep_parsing")
    assert ArchitConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()
    assert config.num_hidden_layers == 2 and config.num_labels == 4


@pytest.mark.parametrize("pooling", ["first", "last", "mean", "pooler"])
def test_sequence_pooling(pooling: str) -> None:
    model = ArchitFactory.from_config(
        tiny_config("BERT"), task="sequence_classification", pooling=pooling, num_labels=NUM_LABELS
    )
    inputs = task_inputs("sequence_classification", torch.Generator().manual_seed(0))
    assert model(**inputs).loss is not None and model(**inputs).logits.shape == (3, NUM_LABELS)
    assert (model.bert.pooler is not None) == (pooling == "pooler")


def test_pooler_pooling_needs_a_pooler() -> None:
    with pytest.raises(HeadConfigError, match="needs a backbone with its own pooler"):
        ArchitFactory.from_config(tiny_config("GPT2"), task="sequence_classification", pooling="pooler")


def test_last_token_pooling_is_the_default_for_causal_backbones() -> None:
    model = ArchitFactory.from_config(tiny_config("GPT2"), task="sequence_classification")
    assert model.head.pooling == "last"


def test_unknown_task_lists_the_tasks() -> None:
    with pytest.raises(UnknownTaskError, match="Unknown task .summarisation.. Registered: causal_lm, dep_parsing"):
        ArchitFactory.get_task("summarisation")


def test_archit_readme_snippets_run_verbatim(tmp_path) -> None:
    checkpoint = str(tmp_path / "roberta")
    ForDependencyParsing.fromModelAndHeadConfig(
        RobertaBaseModel(tiny_config("ROBERTA")), DependencyParsingHeadConfig()
    ).save_pretrained(checkpoint)
    # From ArchIt's README (../shared/DESIGN.md), with a local checkpoint path:
    from transformers import RobertaConfig

    from archit.instantiation.basemodels import RobertaBaseModel as ReadmeRobertaBaseModel
    from archit.instantiation.heads import DependencyParsingHeadConfig as ReadmeHeadConfig
    from archit.instantiation.tasks import ForDependencyParsing as ReadmeForDependencyParsing

    config = RobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
    m = ReadmeForDependencyParsing.fromModelAndHeadConfig(ReadmeRobertaBaseModel(config), ReadmeHeadConfig())
    m = ReadmeForDependencyParsing.from_pretrained(checkpoint, ReadmeRobertaBaseModel, ReadmeHeadConfig())
    assert isinstance(m, ForDependencyParsing) and m.loading_report.new == []
    from archit import ArchitFactory as TopLevelFactory

    model = TopLevelFactory.from_pretrained(checkpoint, task="dep_parsing", num_labels=37, ignore_mismatched_sizes=True)
    assert model.head.rel_attention.n_out == 37


def test_base_model_class_must_match_the_checkpoint(tmp_path) -> None:
    BaseModel(tiny_config("ROBERTA")).save_pretrained(tmp_path)
    with pytest.raises(UnknownArchitectureError, match="builds GPT2 backbones"):
        ForMaskedLM.from_pretrained(tmp_path, GPT2BaseModel)


def test_head_config_of_the_wrong_kind() -> None:
    with pytest.raises(HeadConfigError, match="takes a TokenClassificationHeadConfig"):
        ForSingleLabelTokenClassification.fromModelAndHeadConfig(
            BaseModel(tiny_config("BERT")), SequenceClassificationHeadConfig()
        )
    assert issubclass(SequenceClassificationHeadConfig, HeadConfig)


def test_trainer_lowers_the_loss(tmp_path) -> None:
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task="sequence_classification", num_labels=2)
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(3, 99, (16, 7), generator=generator)
    # learnable: the label says whether the first token id is even
    examples = [{"input_ids": row, "labels": int(row[0]) % 2} for row in input_ids]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=30,
        per_device_train_batch_size=16,
        learning_rate=3e-3,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        use_cpu=True,
    )
    trainer = transformers.Trainer(model=model, args=args, train_dataset=examples)
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5


def test_label_maps_reach_the_config(tmp_path) -> None:
    id2label = {0: "O", 1: "B-PER", 2: "I-PER"}
    model = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification", num_labels=3, id2label=id2label)
    assert model.config.id2label == id2label and model.config.label2id == {"O": 0, "B-PER": 1, "I-PER": 2}
    transformers.BertModel(tiny_config("BERT")).save_pretrained(tmp_path)
    loaded = ArchitFactory.from_pretrained(tmp_path, task="token_classification", num_labels=3, id2label=id2label)
    assert loaded.config.id2label == id2label
    with pytest.raises(HeadConfigError, match="got colour"):
        ArchitFactory.from_config(tiny_config("BERT"), task="token_classification", colour="red")


@pytest.mark.parametrize("name", ["BERT", "ROBERTA", "GPT2", "ELECTRA"])
def test_every_new_weight_is_initialised(name: str, tmp_path) -> None:
    # New head weights are built on the meta device and materialised empty: each must be initialised.
    transformers.AutoModel.from_config(tiny_config(name)).save_pretrained(tmp_path)
    for task in ArchitFactory.tasks():
        model = ArchitFactory.from_pretrained(tmp_path, task=task)
        for parameter_name in model.loading_report.new:
            parameter = model.get_parameter(parameter_name)
            assert torch.isfinite(parameter).all() and parameter.abs().max() < 10, (task, parameter_name)
    masked_lm = ArchitFactory.from_pretrained(tmp_path, task="masked_lm")
    bias = "head.head.predictions.bias" if name == "BERT" else "head.head.bias" if name == "ROBERTA" else None
    if bias is not None:
        assert torch.equal(masked_lm.get_parameter(bias), torch.zeros_like(masked_lm.get_parameter(bias)))


def test_a_reload_keeps_the_dtype_it_was_saved_in(tmp_path) -> None:
    # GPT-2's backbone is saved under "transformer.", after "head." in the file: a head of another dtype comes first
    model = ArchitFactory.from_config(tiny_config("GPT2"), task="token_classification", num_labels=NUM_LABELS)
    model.head.to(torch.bfloat16)
    model.save_pretrained(tmp_path)
    loaded = ArchitFactory.from_pretrained(tmp_path, task="token_classification")
    assert loaded.transformer.wte.weight.dtype == torch.float32


def test_a_reload_initialises_the_backbones_buffers(tmp_path) -> None:
    # Falcon-H1 fills its layers' non-persistent mup_vector from the bare model's own _init_weights
    model = ArchitFactory.from_config(synthesized_config("falcon_h1"), task="token_classification")
    model.save_pretrained(tmp_path)
    loaded = ArchitFactory.from_pretrained(tmp_path, task="token_classification")
    for name, buffer in model.named_buffers():
        assert torch.equal(loaded.get_buffer(name), buffer), name


@pytest.mark.parametrize(
    ("model_type", "attribute"),
    [("cohere", "logit_scale"), ("granite", "logits_scaling"), ("gemma2", "final_logit_softcapping")],
)
def test_a_causal_lm_head_scales_and_caps_its_logits_as_the_backbones_own(
    model_type: str, attribute: str, tmp_path
) -> None:
    # Cohere multiplies by logit_scale, Granite divides by logits_scaling, Gemma 2 soft-caps
    config = synthesized_config(model_type)
    setattr(config, attribute, 0.25)
    hf_model = transformers.AutoModelForCausalLM.from_config(config).eval()
    hf_model.save_pretrained(tmp_path)
    model = ArchitFactory.from_pretrained(tmp_path, task="causal_lm")
    assert model.loading_report.new == []
    input_ids = torch.tensor([[5, 9, 3, 7]])
    with torch.no_grad():
        assert_same_outputs(model(input_ids).logits, hf_model(input_ids).logits)
