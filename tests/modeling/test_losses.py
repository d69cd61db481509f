"""Every task's loss: exact when a batch is split (``num_items_in_batch``), float32 whatever the model's dtype,
0 rather than NaN when nothing is labelled; and the parser's inputs (``inputs_embeds``, ``position_ids``)."""

from __future__ import annotations

import pytest
import torch

from archit.errors import DataError, HeadConfigError
from archit.modeling import ArchitFactory
from archit.modeling.parsing import arc_label_loss
from archit.modeling.tasks.losses import (
    binary_cross_entropy,
    classification_cross_entropy,
    squared_error,
    token_cross_entropy,
)
from tests.modeling.test_tasks import TASKS, task_inputs
from tests.task_inputs import head_fields
from tests.tiny_configs import BATCH_SIZE, VOCAB_SIZE, tiny_config


def _uneven_inputs(task: str) -> dict[str, torch.Tensor]:
    """Inputs whose rows hold different numbers of loss items, so that a mean of per-part means would differ
    from the mean over the whole batch."""
    inputs = task_inputs(task, torch.Generator().manual_seed(3))
    if task == "dep_parsing":
        inputs["arc_labels"][0, -1] = -100
    if task == "sequence_classification":
        inputs["labels"][0] = -100  # the first part has nothing to predict
    return inputs


def _loss_and_gradients(model, inputs: dict, **kwargs) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    loss = model(**inputs, **kwargs).loss
    loss.backward()
    return loss.detach(), {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("task", TASKS)
def test_split_batches_with_num_items_in_batch_give_the_whole_batch_loss(task: str) -> None:
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task=task, **head_fields(task)).eval()
    assert model.accepts_loss_kwargs
    with torch.no_grad():  # the parser's biaffine weights start at zero: every word would have the same loss
        for parameter in model.head.parameters():
            parameter.normal_(std=0.5)
    inputs = _uneven_inputs(task)
    whole_loss, whole_gradients = _loss_and_gradients(model, inputs)
    n_items = model.count_loss_items(inputs)
    parts = [{key: value[rows] for key, value in inputs.items()} for rows in (slice(0, 1), slice(1, BATCH_SIZE))]
    assert sum(model.count_loss_items(part) for part in parts) == n_items
    split = [_loss_and_gradients(model, part, num_items_in_batch=n_items) for part in parts]
    torch.testing.assert_close(split[0][0] + split[1][0], whole_loss)
    for name, gradient in whole_gradients.items():
        torch.testing.assert_close(split[0][1][name] + split[1][1][name], gradient, atol=1e-6, rtol=1e-4)
    # without num_items_in_batch, each part is its own mean: the mean of the means is not the whole mean
    if task in ("token_classification", "dep_parsing", "sequence_classification", "masked_lm", "causal_lm"):
        means = [model(**part).loss.detach() for part in parts]
        assert not torch.allclose((means[0] + means[1]) / 2, whole_loss)


def _all_ignored(task: str) -> dict[str, torch.Tensor]:
    inputs = task_inputs(task, torch.Generator().manual_seed(0))
    for key in ("labels", "arc_labels"):
        if key in inputs:
            inputs[key] = torch.full_like(inputs[key], -100)
    if task in ("extractive_qa", "extractive_aqa"):
        seq_len = inputs["input_ids"].shape[1]
        inputs["start_positions"] = torch.full_like(inputs["start_positions"], seq_len + 3)
        inputs["end_positions"] = torch.full_like(inputs["end_positions"], seq_len)
        inputs.pop("answerable", None)
    return inputs


@pytest.mark.parametrize("task", [task for task in TASKS if task != "regression"])  # a target is a value
def test_nothing_to_predict_gives_zero_loss_with_a_gradient_path(task: str) -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task=task, **head_fields(task))
    loss = model(**_all_ignored(task)).loss
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("num_items_in_batch", [0, torch.tensor(0)])
def test_an_accumulated_batch_with_nothing_to_score_gives_zero_loss(num_items_in_batch) -> None:
    """A masked-LM batch may have no masked token in any of its blocks: ``num_items_in_batch`` is then 0."""
    logits = torch.randn(2, 3, 5, requires_grad=True)
    loss = token_cross_entropy(logits, torch.full((2, 3), -100), num_items_in_batch)
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.isfinite(logits.grad).all()


LOSSES = [
    (token_cross_entropy, (4, 6, 5), lambda g: torch.randint(0, 5, (4, 6), generator=g)),
    (classification_cross_entropy, (4, 5), lambda g: torch.randint(0, 5, (4,), generator=g)),
    (binary_cross_entropy, (4, 5), lambda g: torch.randint(0, 2, (4, 5), generator=g).float()),
    (squared_error, (4, 1), lambda g: torch.randn(4, 1, generator=g)),
]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize(("loss", "shape", "make_labels"), LOSSES, ids=[loss.__name__ for loss, _, _ in LOSSES])
def test_half_precision_losses_are_computed_in_float32(loss, shape, make_labels, dtype) -> None:
    generator = torch.Generator().manual_seed(0)
    logits, labels = 8 * torch.randn(shape, generator=generator), make_labels(generator)
    low = logits.to(dtype)
    value = loss(low, labels)
    assert value.dtype == torch.float32
    # the same as fp32 on the rounded logits, and close to fp32 on the exact ones
    torch.testing.assert_close(value, loss(low.float(), labels))
    torch.testing.assert_close(value, loss(logits, labels), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_the_arc_label_loss_is_computed_in_float32(dtype) -> None:
    generator = torch.Generator().manual_seed(0)
    s_arc, s_rel = 20 * torch.randn(2, 6, 6, generator=generator), 20 * torch.randn(2, 6, 6, 3, generator=generator)
    heads = torch.tensor([[-100, 0, 1, 2, 3, 4], [-100, 2, 0, 2, 3, -100]])
    rels = torch.randint(0, 3, (2, 6), generator=generator)
    mask = torch.tensor([[False] + [True] * 5, [False] * 1 + [True] * 4 + [False]])
    value = arc_label_loss(s_arc.to(dtype), s_rel.to(dtype), heads, rels, mask)
    assert value.dtype == torch.float32
    torch.testing.assert_close(
        value, arc_label_loss(s_arc.to(dtype).float(), s_rel.to(dtype).float(), heads, rels, mask)
    )
    torch.testing.assert_close(value, arc_label_loss(s_arc, s_rel, heads, rels, mask), rtol=2e-2, atol=5e-2)


@pytest.mark.parametrize("task", ["token_classification", "dep_parsing", "causal_lm", "extractive_aqa"])
def test_a_bfloat16_model_returns_a_float32_loss(task: str) -> None:
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task=task, **head_fields(task)).eval()
    inputs = task_inputs(task, torch.Generator().manual_seed(1))
    expected = model(**inputs).loss
    loss = model.to(torch.bfloat16)(**inputs).loss
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, expected, rtol=5e-2, atol=5e-2)


# --- the parser's inputs ------------------------------------------------------------------------------------
def _parser(max_position_embeddings: int = 64):
    config = tiny_config("BERT")
    config.max_position_embeddings = max_position_embeddings
    torch.manual_seed(0)
    parser = ArchitFactory.from_config(config, task="dep_parsing", **head_fields("dep_parsing")).eval()
    with torch.no_grad():  # the biaffine weights start at zero, and so would every arc score
        for parameter in parser.head.parameters():
            parameter.normal_(std=0.5)
    return parser


def test_the_parser_takes_inputs_embeds_and_position_ids() -> None:
    parser = _parser()
    inputs = task_inputs("dep_parsing", torch.Generator().manual_seed(0))
    input_ids = inputs.pop("input_ids")
    with torch.no_grad():
        expected = parser(input_ids=input_ids, **inputs)
        embedded = parser(inputs_embeds=parser.get_input_embeddings()(input_ids), **inputs)
        positions = torch.arange(input_ids.shape[1]).expand_as(input_ids)
        default_positions = parser(input_ids=input_ids, position_ids=positions, **inputs)
        shifted = parser(input_ids=input_ids, position_ids=positions + 5, **inputs)
    torch.testing.assert_close(embedded.arc_logits, expected.arc_logits)
    torch.testing.assert_close(embedded.loss, expected.loss)
    torch.testing.assert_close(default_positions.arc_logits, expected.arc_logits)
    assert not torch.allclose(shifted.arc_logits, expected.arc_logits)  # the positions reached the backbone


def test_the_parser_windows_inputs_embeds_and_refuses_position_ids_it_cannot_use() -> None:
    parser = _parser(max_position_embeddings=8)  # sentences of 12 tokens go through windows of 8
    input_ids = torch.randint(3, VOCAB_SIZE, (2, 12), generator=torch.Generator().manual_seed(0))
    word_ids = torch.tensor([[-1, *range(10), -1]] * 2)
    with torch.no_grad():
        expected = parser(input_ids=input_ids, word_ids=word_ids)
        embedded = parser(inputs_embeds=parser.get_input_embeddings()(input_ids), word_ids=word_ids)
    torch.testing.assert_close(embedded.arc_logits, expected.arc_logits)
    with pytest.raises(DataError, match="position_ids cannot be used for a sequence of 12 tokens"):
        parser(input_ids=input_ids, word_ids=word_ids, position_ids=torch.arange(12).expand(2, -1))


def test_the_parser_needs_input_ids_or_inputs_embeds() -> None:
    with pytest.raises(DataError, match="needs input_ids or inputs_embeds; got neither"):
        _parser()(word_ids=torch.tensor([[-1, 0, 1, -1]]))


@pytest.mark.parametrize("task", ["sequence_classification", "extractive_aqa"])
def test_pooler_pooling_without_a_pooler_is_a_head_config_error(task: str) -> None:
    with pytest.raises(HeadConfigError, match="pooling='pooler' needs a backbone with its own pooler; GPT2Model"):
        ArchitFactory.from_config(tiny_config("GPT2"), task=task, pooling="pooler")


@pytest.mark.parametrize("task", ["extractive_qa", "extractive_aqa"])
def test_the_span_loss_does_not_depend_on_padding(task: str) -> None:
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task=task).eval()
    inputs = task_inputs(task, torch.Generator().manual_seed(0))
    inputs["start_positions"][0] = inputs["end_positions"][0] = 2  # a real token of the padded first row
    padded = dict(inputs)
    padded["input_ids"] = torch.cat((inputs["input_ids"], torch.zeros(BATCH_SIZE, 5, dtype=torch.long)), 1)
    padded["attention_mask"] = torch.cat((inputs["attention_mask"], torch.zeros(BATCH_SIZE, 5, dtype=torch.long)), 1)
    with torch.no_grad():
        torch.testing.assert_close(model(**padded).loss, model(**inputs).loss)
        # a gold position on padding is no target, like one outside the sequence
        on_padding = {**padded, "start_positions": padded["start_positions"].clone()}
        outside = {**padded, "start_positions": padded["start_positions"].clone()}
        on_padding["start_positions"][0], outside["start_positions"][0] = padded["input_ids"].shape[1] - 1, 100
        torch.testing.assert_close(model(**on_padding).loss, model(**outside).loss)


def test_a_task_without_num_items_in_batch_lets_the_trainer_divide_by_the_accumulation_steps() -> None:
    from archit.modeling.tasks import ModelWithHead
    from archit.modeling.tasks.classification import ForSingleLabelTokenClassification

    class ForMeanTokenClassification(ForSingleLabelTokenClassification):
        task_name = "mean_token_classification"

        def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
            return super().forward(input_ids, attention_mask, labels=labels)

    assert ForSingleLabelTokenClassification.accepts_loss_kwargs
    assert not ForMeanTokenClassification.accepts_loss_kwargs and not ModelWithHead.accepts_loss_kwargs
    model = ForMeanTokenClassification.from_config(tiny_config("BERT"))
    assert type(model) is not ForMeanTokenClassification and not model.accepts_loss_kwargs  # the specialised class
