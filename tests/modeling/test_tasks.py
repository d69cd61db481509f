"""Every task on every tested family: build, forward, loss, backward, save and load."""

from __future__ import annotations

import pytest
import torch
import transformers

from archit.errors import HeadConfigError, RegistrationError
from archit.modeling import ArchitFactory
from archit.modeling.tasks import ModelWithHead
from tests.comparison import assert_same_outputs
from tests.task_inputs import head_fields, labelled_inputs
from tests.tiny_configs import BATCH_SIZE, SEQ_LEN, TINY_CONFIGS, VOCAB_SIZE, tiny_config

TASKS = ArchitFactory.tasks()


def task_inputs(task: str, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Inputs and labels of the right shapes for ``task`` (tiny sizes from tests.tiny_configs)."""
    input_ids = torch.randint(3, VOCAB_SIZE, (BATCH_SIZE, SEQ_LEN), generator=generator)
    attention_mask = torch.ones(BATCH_SIZE, SEQ_LEN, dtype=torch.long)
    attention_mask[0, -2:] = 0
    return labelled_inputs(task, {"input_ids": input_ids, "attention_mask": attention_mask}, generator)


def _outputs(model: ModelWithHead, inputs: dict) -> list[torch.Tensor]:
    with torch.no_grad():
        output = model(**inputs)
    return [value for value in output.values() if isinstance(value, torch.Tensor)]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("family", list(TINY_CONFIGS))
def test_build_forward_backward_save_load(family: str, task: str, tmp_path) -> None:
    torch.manual_seed(0)
    if family == "CANINE" and task in ("masked_lm", "causal_lm"):
        with pytest.raises(HeadConfigError, match="no token embedding matrix"):
            ArchitFactory.from_config(tiny_config(family), task=task)
        return
    model = ArchitFactory.from_config(tiny_config(family), task=task, **head_fields(task))
    inputs = task_inputs(task, torch.Generator().manual_seed(1))
    model.train()
    output = model(**inputs)
    assert output.loss is not None and torch.isfinite(output.loss)
    output.loss.backward()
    head_gradients = [parameter.grad for parameter in model.head.parameters()]
    assert any(grad is not None and grad.abs().sum() > 0 for grad in head_gradients)

    model.eval()
    model.save_pretrained(tmp_path)
    loaded = ArchitFactory.get_task(task).from_pretrained(tmp_path)
    assert type(loaded) is type(model)
    assert loaded.loading_report.new == [] and loaded.loading_report.unused == []
    saved_state, loaded_state = model.state_dict(), loaded.state_dict()
    assert list(saved_state) == list(loaded_state)
    for name, tensor in saved_state.items():
        assert torch.equal(tensor, loaded_state[name]), name
    for expected, actual in zip(_outputs(model, inputs), _outputs(loaded.eval(), inputs), strict=True):
        assert_same_outputs(expected, actual)


@pytest.mark.parametrize("task", TASKS)
def test_trainer_trains_every_task_unchanged(task: str, tmp_path) -> None:
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task=task, **head_fields(task))
    batch = task_inputs(task, torch.Generator().manual_seed(1))
    examples = [{key: value[row] for key, value in batch.items()} for row in range(BATCH_SIZE)]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=3,
        per_device_train_batch_size=BATCH_SIZE,
        learning_rate=1e-3,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        use_cpu=True,
    )
    trainer = transformers.Trainer(model=model, args=args, train_dataset=examples, eval_dataset=examples)
    before = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 3 and all(loss == loss for loss in losses)  # finite, not NaN
    assert any(not torch.equal(before[name], parameter) for name, parameter in model.named_parameters())
    assert "eval_loss" in trainer.evaluate()


def test_task_models_copy_and_pickle_into_a_fresh_interpreter(tmp_path) -> None:
    import copy
    import pickle
    import subprocess
    import sys

    model = ArchitFactory.from_config(tiny_config("ROBERTA"), task="token_classification", num_labels=3).eval()
    input_ids = torch.randint(3, VOCAB_SIZE, (2, 5))
    # copied and pickled before any forward pass: transformers 5 installs unpicklable hooks on the first one
    copies = [copy.deepcopy(model), pickle.loads(pickle.dumps(model))]
    torch.save({"model": model, "input_ids": input_ids}, tmp_path / "model.pt")
    with torch.no_grad():
        expected = model(input_ids=input_ids).logits
        for copied in copies:
            assert type(copied) is type(model)
            assert torch.equal(copied(input_ids=input_ids).logits, expected)
    torch.save(expected, tmp_path / "expected.pt")
    # the fresh interpreter computes with as many threads as this one: reductions split by thread differ in
    # the last bits
    script = (
        f"import torch; torch.set_num_threads({torch.get_num_threads()})\n"
        f"saved = torch.load(r'{tmp_path}/model.pt', weights_only=False)\n"
        "logits = saved['model'](input_ids=saved['input_ids']).logits\n"
        f"assert torch.equal(logits, torch.load(r'{tmp_path}/expected.pt'))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_a_batch_with_nothing_to_predict_has_zero_loss() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="masked_lm")
    input_ids = torch.randint(3, VOCAB_SIZE, (2, 5))
    loss = model(input_ids=input_ids, labels=torch.full_like(input_ids, -100)).loss
    loss.backward()
    assert loss.item() == 0.0
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_a_task_registered_later_reaches_its_auto_class_until_restored(tmp_path) -> None:
    from archit.extend import TASKS, register_task
    from archit.modeling.tasks.classification.model import ForSingleLabelSequenceClassification

    class ForSentimentClassification(ForSingleLabelSequenceClassification):
        task_name = "sentiment"
        hf_auto_default = False

    with TASKS.restoring():
        register_task(ForSentimentClassification)
        model = ArchitFactory.from_config(tiny_config("BERT"), task="sentiment", num_labels=3)
        model.save_pretrained(tmp_path)
        loaded = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path)
        assert type(loaded).__name__ == "ForSentimentClassification"
        model.eval(), loaded.eval()
        inputs = {"input_ids": torch.randint(0, VOCAB_SIZE, (BATCH_SIZE, SEQ_LEN))}
        assert_same_outputs(loaded(**inputs), model(**inputs))

        class ForSecondDefault(ForSingleLabelSequenceClassification):
            task_name = "second_default"

        with pytest.raises(RegistrationError, match="set it on exactly one"):
            register_task(ForSecondDefault)
        assert "second_default" not in TASKS
    # restored: an archit checkpoint of an unknown task loads as the Auto class's default task
    fallback = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert type(fallback).__name__ == "ForSingleLabelSequenceClassification"
