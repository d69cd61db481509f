"""MultiTaskModel: several heads on one backbone; save, load, extract, add; exact per-task loss normalisation."""

from __future__ import annotations

import pytest
import torch
import transformers

from archit.errors import HeadConfigError, MultiTaskError, UnknownTaskError
from archit.modeling import ArchitFactory, MultiTaskModel
from archit.modeling.multitask import MultiTaskConfig
from tests.comparison import assert_same_outputs
from tests.modeling.test_tasks import task_inputs
from tests.tiny_configs import tiny_config

POS_LABELS = {index: tag for index, tag in enumerate(["NOUN", "VERB", "ADJ", "PUNCT", "DET"])}
TASKS = {
    "pos": {"task": "token_classification", "num_labels": 5, "id2label": POS_LABELS},
    "deps": {"task": "dep_parsing", "num_labels": 3, "arc_mlp_size": 16, "label_mlp_size": 8},
}


def pos_batch(generator: torch.Generator) -> dict:
    batch = task_inputs("token_classification", generator)
    batch["labels"] = batch["labels"] % 5
    batch["labels"][0, -2:] = -100
    return batch


def deps_batch(generator: torch.Generator) -> dict:
    return task_inputs("dep_parsing", generator)


@pytest.fixture
def backbone_dir(tmp_path):
    transformers.BertModel(tiny_config("BERT")).save_pretrained(tmp_path / "backbone")
    return tmp_path / "backbone"


@pytest.fixture
def model(backbone_dir) -> MultiTaskModel:
    torch.manual_seed(0)
    return ArchitFactory.from_pretrained(backbone_dir, tasks=TASKS).eval()


def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.clone() for name, tensor in module.state_dict().items()}


def assert_same_state(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_each_head_is_its_single_task_model(model) -> None:
    assert model.task_names == ["pos", "deps"]
    assert type(model.heads["pos"]).__name__ == "TokenClassificationHead"
    assert type(model.heads["deps"]).__name__ == "DependencyParsingHead"
    # one backbone: every task model holds the very modules of the multi-task model
    for name in model.task_names:
        assert model.task_model(name).backbone is model.backbone
        assert model.task_model(name).head is model.heads[name]
    generator = torch.Generator().manual_seed(1)
    batch = pos_batch(generator)
    output = model(task="pos", **batch)
    assert type(output).__name__ == "TokenClassifierOutput"
    assert output.logits.shape == (*batch["input_ids"].shape, 5)
    parsed = model(task="deps", **deps_batch(generator))
    assert parsed.arc_predictions is not None  # decoded, since the model is in eval mode
    model.train()
    assert model(task="deps", **deps_batch(generator)).arc_predictions is None


def test_loading_reports_per_head(model, backbone_dir) -> None:
    reports = model.loading_reports
    assert set(reports) == {"pos", "deps"}
    assert reports["pos"].new == ["head.classifier.bias", "head.classifier.weight"]
    assert reports["deps"].new and all(name.startswith("head.") for name in reports["deps"].new)
    assert all(report.checkpoint == str(backbone_dir) for report in reports.values())


def test_hf_head_of_the_checkpoint_is_reused(tmp_path) -> None:
    torch.manual_seed(0)
    config = tiny_config("BERT")
    config.num_labels = 4
    hf = transformers.BertForTokenClassification(config).eval()
    hf.save_pretrained(tmp_path)
    tasks = {"ner": {"task": "token_classification"}, "deps": TASKS["deps"]}
    model = ArchitFactory.from_pretrained(tmp_path, tasks=tasks).eval()
    assert model.loading_reports["ner"].new == []
    assert all(name.startswith("head.") for name in model.loading_reports["deps"].new)
    assert torch.equal(model.heads["ner"].classifier.weight, hf.classifier.weight)
    ids = torch.tensor([[2, 5, 9, 14, 3]])
    assert_same_outputs(model(task="ner", input_ids=ids).logits, hf(input_ids=ids).logits)


def test_save_and_load_round_trip(model, tmp_path) -> None:
    model.save_pretrained(tmp_path / "multi")
    for loader in (MultiTaskModel.from_pretrained, transformers.AutoModel.from_pretrained):
        reloaded = loader(tmp_path / "multi").eval()
        assert isinstance(reloaded, MultiTaskModel)
        assert reloaded.task_names == ["pos", "deps"]
        assert_same_state(state(reloaded), state(model))
        assert reloaded.task_model("pos").config.id2label == POS_LABELS
        assert reloaded.task_model("deps").config.get_head_config() == model.task_model("deps").config.get_head_config()
        generator = torch.Generator().manual_seed(2)
        batch = pos_batch(generator)
        assert_same_outputs(reloaded(task="pos", **batch).logits, model(task="pos", **batch).logits)
        batch = deps_batch(generator)
        expected = model(task="deps", **batch)
        actual = reloaded(task="deps", **batch)
        assert_same_outputs(actual.arc_logits, expected.arc_logits)
        assert torch.equal(actual.arc_predictions, expected.arc_predictions)


def test_config_round_trip() -> None:
    config = MultiTaskConfig(tiny_config("BERT"), [{"name": "pos", "task": "token_classification", "head_config": {}}])
    again = MultiTaskConfig.from_dict(config.to_dict())
    assert again.tasks == config.tasks
    assert again.backbone_config.to_dict() == config.backbone_config.to_dict()
    assert again.hidden_size == 32  # read from the backbone


def test_extracted_task_is_an_ordinary_model(model, tmp_path) -> None:
    pos = model.extract_task("pos")
    assert pos.backbone is not model.backbone  # a copy: training it leaves the multi-task model alone
    pos.save_pretrained(tmp_path / "pos")
    auto = transformers.AutoModelForTokenClassification.from_pretrained(tmp_path / "pos").eval()
    assert auto.config.id2label == POS_LABELS
    assert auto.loading_report.new == []
    generator = torch.Generator().manual_seed(3)
    batch = pos_batch(generator)
    assert_same_outputs(auto(**batch).logits, model(task="pos", **batch).logits)
    model.extract_task("deps").save_pretrained(tmp_path / "deps")
    parser = ArchitFactory.from_pretrained(tmp_path / "deps", task="dep_parsing").eval()
    assert parser.loading_report.new == []
    batch = deps_batch(generator)
    assert_same_outputs(parser(**batch).arc_logits, model(task="deps", **batch).arc_logits)


def test_add_a_single_task_checkpoint_as_a_head(model, tmp_path) -> None:
    torch.manual_seed(4)
    single = ArchitFactory.from_config(tiny_config("BERT"), task="sequence_classification", num_labels=2)
    single.config.id2label, single.config.label2id = {0: "neg", 1: "pos"}, {"neg": 0, "pos": 1}
    single.save_pretrained(tmp_path / "sentiment")
    backbone_before = state(model.backbone)
    model.add_task("sentiment", tmp_path / "sentiment")
    assert model.task_names == ["pos", "deps", "sentiment"]
    assert_same_state(state(model.heads["sentiment"]), state(single.head))
    assert_same_state(state(model.backbone), backbone_before)  # the checkpoint's backbone is not taken
    assert model.task_model("sentiment").config.id2label == {0: "neg", 1: "pos"}
    model.save_pretrained(tmp_path / "multi")
    reloaded = MultiTaskModel.from_pretrained(tmp_path / "multi")
    assert reloaded.task_names == ["pos", "deps", "sentiment"]
    assert reloaded.task_model("sentiment").config.id2label == {0: "neg", 1: "pos"}
    assert_same_state(state(reloaded), state(model))


def test_from_single_task_models_shares_the_first_backbone() -> None:
    config = tiny_config("BERT")
    tagger = ArchitFactory.from_config(config, task="token_classification", num_labels=5)
    parser = ArchitFactory.from_config(config, task="dep_parsing", num_labels=3, arc_mlp_size=16, label_mlp_size=8)
    model = MultiTaskModel.from_single_task_models({"pos": tagger, "deps": parser})
    assert model.backbone is tagger.backbone
    assert_same_state(state(model.heads["deps"]), state(parser.head))


def test_a_tied_head_stays_tied_through_save_and_load(tmp_path) -> None:
    config = tiny_config("BERT")
    mlm = ArchitFactory.from_config(config, task="masked_lm")
    tagger = ArchitFactory.from_config(config, task="token_classification", num_labels=5)
    model = MultiTaskModel.from_single_task_models({"pos": tagger, "mlm": mlm})
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    assert model.get_output_embeddings() is model.task_model("mlm").get_output_embeddings()
    model.save_pretrained(tmp_path)
    reloaded = MultiTaskModel.from_pretrained(tmp_path)
    assert reloaded.get_output_embeddings().weight is reloaded.get_input_embeddings().weight
    assert_same_state(state(reloaded), state(model))


def test_exact_loss_per_task_under_accumulation(model) -> None:
    """Micro-batches of two tasks, each divided by its task's items in the whole accumulated batch, sum to the
    sum of each task's loss over all its items at once."""
    model.train()
    for module in model.modules():  # no dropout, so that the two ways see the same network
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    generator = torch.Generator().manual_seed(5)
    pos = [pos_batch(generator) for _ in range(2)]
    pos[1]["labels"][:, 3:] = -100  # batches with different numbers of items
    deps = [deps_batch(generator)]
    batches = [{"task": "pos", **pos[0]}, {"task": "deps", **deps[0]}, {"task": "pos", **pos[1]}]
    counts = torch.stack([model.count_loss_items(batch) for batch in batches]).sum(0)
    assert counts.tolist() == [
        sum(int(b["labels"].ne(-100).sum()) for b in pos),
        int(deps[0]["arc_labels"].ne(-100).sum()),
    ]
    accumulated = sum(model(**batch, num_items_in_batch=counts).loss for batch in batches)
    joined = {key: torch.cat([pos[0][key], pos[1][key]]) for key in pos[0]}
    expected = model(task="pos", **joined).loss + model(task="deps", **deps[0]).loss
    torch.testing.assert_close(accumulated, expected, rtol=1e-5, atol=1e-6)  # other batch shapes, other sums


def test_unknown_task_in_forward(model) -> None:
    with pytest.raises(
        MultiTaskError, match=r"Unknown task 'ner': this model's tasks are pos, deps; pass one as task="
    ):
        model(task="ner", input_ids=torch.tensor([[2, 3]]))
    with pytest.raises(MultiTaskError, match="Unknown task None"):
        model(input_ids=torch.tensor([[2, 3]]))


def test_duplicate_task_name(model, tmp_path) -> None:
    single = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification")
    with pytest.raises(MultiTaskError, match="already has a task named 'pos'; give the new task another name"):
        model.add_task("pos", single)


def test_head_option_of_another_task(backbone_dir) -> None:
    tasks = {"pos": {"task": "token_classification", "arc_mlp_size": 16}, "deps": {"task": "dep_parsing"}}
    with pytest.raises(
        MultiTaskError,
        match=r"Head option 'arc_mlp_size' of task 'pos' \(token_classification\) belongs to dep_parsing heads; "
        r"move it to task 'deps' or drop it\.",
    ):
        ArchitFactory.from_pretrained(backbone_dir, tasks=tasks)
    with pytest.raises(MultiTaskError, match="'colour' of task 'pos' .* is no head option of any task; drop it"):
        ArchitFactory.from_pretrained(backbone_dir, tasks={"pos": {"task": "token_classification", "colour": 1}})
    with pytest.raises(MultiTaskError, match="Task 'pos' does not say its kind; add \"task\""):
        ArchitFactory.from_pretrained(backbone_dir, tasks={"pos": {"num_labels": 3}})
    with pytest.raises(MultiTaskError, match="not both or neither"):
        ArchitFactory.from_pretrained(backbone_dir, task="dep_parsing", tasks=TASKS)
    with pytest.raises(UnknownTaskError, match="Unknown task 'tagging'"):
        ArchitFactory.from_pretrained(backbone_dir, tasks={"pos": {"task": "tagging"}})


def test_a_head_that_does_not_fit_the_backbone(model) -> None:
    other = tiny_config("BERT")
    other.hidden_size, other.intermediate_size = 16, 20
    single = ArchitFactory.from_config(other, task="token_classification")
    with pytest.raises(HeadConfigError, match="The head of task 'small' does not fit this model's backbone"):
        model.add_task("small", single)
