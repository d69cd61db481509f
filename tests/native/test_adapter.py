"""A Transformer written in plain PyTorch, adapted in a few lines, used like any other archit backbone."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterator

import pytest
import torch
from transformers import AutoConfig, AutoModel, Trainer, TrainingArguments

from archit.errors import RegistrationError
from archit.modeling import ArchitFactory, wrap
from archit.modeling.native import NativeConfigError, RecurrentCache, RecurrentStateError, adapt_module
from archit.resolution import ModelArchitectures, resolve
from tests.comparison import assert_same_outputs
from tests.native.helpers import TinyStatefulRNN, TinyTransformer
from tests.tiny_configs import BATCH_SIZE, SEQ_LEN, VOCAB_SIZE

# The classes are module attributes (so that wrapped models pickle); their families are registered only while
# this module's tests run (see _families), so that other tests see the registry as archit ships it.
with ModelArchitectures.restoring():
    TinyEncoderConfig, TinyEncoderModel = adapt_module(
        TinyTransformer, "archit-test-tiny-encoder", class_name="TinyEncoder", exist_ok=True
    )
    TinyDecoderConfig, TinyDecoderModel = adapt_module(
        TinyTransformer,
        "archit-test-tiny-decoder",
        causal=True,
        class_name="TinyDecoder",
        defaults={"causal": True},
        exist_ok=True,
    )
    StatefulConfig, StatefulModel = adapt_module(
        TinyStatefulRNN, "archit-test-stateful-gru", causal=True, class_name="Stateful", exist_ok=True
    )
    FAMILIES = [resolve(config_class()) for config_class in (TinyEncoderConfig, TinyDecoderConfig, StatefulConfig)]
NUM_LABELS = 3


@pytest.fixture(scope="module", autouse=True)
def _families() -> Iterator[None]:
    with ModelArchitectures.restoring():
        for family in FAMILIES:
            ModelArchitectures.register(family)
        yield


def _ids(shape: tuple[int, ...] = (BATCH_SIZE, SEQ_LEN), seed: int = 0) -> torch.Tensor:
    return torch.randint(3, VOCAB_SIZE, shape, generator=torch.Generator().manual_seed(seed))


def _mask(shape: tuple[int, ...] = (BATCH_SIZE, SEQ_LEN)) -> torch.Tensor:
    mask = torch.ones(shape, dtype=torch.long)
    mask[..., 0, -2:] = 0
    return mask


def test_the_adapted_module_is_a_family_with_facts() -> None:
    torch.manual_seed(0)
    model = wrap(TinyEncoderModel(TinyEncoderConfig(d_model=48)))
    assert resolve(model.config) is ModelArchitectures.ARCHIT_TEST_TINY_ENCODER is model.family
    assert isinstance(model.module, TinyTransformer)
    assert model.hidden_size == model.config.hidden_size == 48
    assert model.vocab_size == VOCAB_SIZE and model.hidden_dropout_prob == 0.1
    assert not model.is_causal and not model.has_token_type_ids
    decoder = wrap(TinyDecoderModel(TinyDecoderConfig()))
    assert decoder.is_causal and decoder.config.causal and decoder.padding_side == "left"
    with torch.no_grad():
        output = model.encode(_ids(), _mask(), output_hidden_states=True)
    assert output.last_hidden_state.shape == (BATCH_SIZE, SEQ_LEN, 48)
    assert [layer.shape[-1] for layer in output.hidden_states] == [48, 48]


def test_config_round_trip_and_auto_classes(tmp_path) -> None:
    config = TinyEncoderConfig(num_layers=1, pad_token_id=0)
    assert TinyEncoderConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()
    config.save_pretrained(tmp_path)
    assert type(AutoConfig.from_pretrained(tmp_path)) is TinyEncoderConfig
    assert type(AutoModel.from_config(config)) is TinyEncoderModel


def test_save_and_load_give_equal_weights_and_outputs(tmp_path) -> None:
    torch.manual_seed(0)
    model = TinyEncoderModel(TinyEncoderConfig()).eval()
    model.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert type(loaded) is TinyEncoderModel
    state, loaded_state = model.state_dict(), loaded.state_dict()
    assert state.keys() == loaded_state.keys() and all(torch.equal(state[k], loaded_state[k]) for k in state)
    with torch.no_grad():
        assert_same_outputs(model(_ids(), _mask()).last_hidden_state, loaded(_ids(), _mask()).last_hidden_state)


def test_weights_are_initialised_by_each_modules_reset_parameters() -> None:
    torch.manual_seed(0)
    model = TinyEncoderModel(TinyEncoderConfig())
    norm = model.module.blocks[0].norm1
    assert torch.equal(norm.weight, torch.ones_like(norm.weight))
    assert 0.8 < model.module.tokens.weight.std().item() < 1.2  # nn.Embedding's own N(0, 1)


def test_adaptation_errors() -> None:
    class NoDefaults(torch.nn.Module):
        def __init__(self, vocab_size: int, hidden_size: int = 8) -> None:
            super().__init__()

    class NoWidth(torch.nn.Module):
        def __init__(self, vocab_size: int = 10, size: int = 8) -> None:
            super().__init__()

    with pytest.raises(NativeConfigError, match="without a default"):
        adapt_module(NoDefaults, "archit-test-no-defaults")
    with pytest.raises(NativeConfigError, match="pass hidden_size="):
        adapt_module(NoWidth, "archit-test-no-width")
    with pytest.raises(NativeConfigError, match="does not take"):
        adapt_module(TinyTransformer, "archit-test-bad-default", defaults={"width": 3})
    with pytest.raises(RegistrationError, match="exist_ok"):
        adapt_module(TinyTransformer, "archit-test-tiny-encoder", class_name="TinyEncoder")
    with pytest.raises(RecurrentStateError, match="non-causal"):
        TinyEncoderModel(TinyEncoderConfig())(_ids(), past_key_values=_decoder_cache())


def _decoder_cache() -> RecurrentCache:
    with torch.no_grad():
        return TinyDecoderModel(TinyDecoderConfig())(_ids(), use_cache=True).past_key_values


@pytest.mark.parametrize(
    "config_class, model_class", [(TinyDecoderConfig, TinyDecoderModel), (StatefulConfig, StatefulModel)]
)
def test_a_causal_module_continues_from_its_cache(config_class: type, model_class: type) -> None:
    torch.manual_seed(0)
    model = model_class(config_class()).eval()
    ids = _ids()
    with torch.no_grad():
        full = model(ids, use_cache=False).last_hidden_state
        first = model(ids[:, :4], use_cache=True)
        second = model(ids[:, 4:], past_key_values=first.past_key_values, use_cache=True)
    assert second.past_key_values.get_seq_length() == SEQ_LEN
    torch.testing.assert_close(torch.cat([first.last_hidden_state, second.last_hidden_state], 1), full)


@pytest.mark.parametrize(
    "model_class, config_class", [(TinyDecoderModel, TinyDecoderConfig), (StatefulModel, StatefulConfig)]
)
def test_generate_with_cache_equals_generate_without(model_class: type, config_class: type) -> None:
    torch.manual_seed(0)
    lm = ArchitFactory.get_task("causal_lm").fromModelAndHeadConfig(model_class(config_class(pad_token_id=0))).eval()
    ids = _ids((2, 5))
    options = {"max_new_tokens": 6, "min_new_tokens": 6, "do_sample": False}
    assert torch.equal(lm.generate(ids, use_cache=True, **options), lm.generate(ids, use_cache=False, **options))


# --- every head ---------------------------------------------------------------------------------------------
Inputs = dict[str, torch.Tensor]


def _token_inputs() -> Inputs:
    return {"input_ids": _ids(), "attention_mask": _mask()}


def _labels(high: int, shape: tuple[int, ...] = (BATCH_SIZE,)) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=torch.Generator().manual_seed(1))


def _dependency_inputs() -> Inputs:
    # every token its own word, except the padding of the first row
    word_ids = torch.arange(SEQ_LEN).repeat(BATCH_SIZE, 1)
    word_ids[0, -2:] = -1
    arcs = torch.stack([torch.arange(SEQ_LEN)] * BATCH_SIZE)  # each word depends on the previous one (0 = ROOT)
    arcs[0, -2:] = -100
    rels = _labels(NUM_LABELS, (BATCH_SIZE, SEQ_LEN)).masked_fill(arcs == -100, -100)
    return {**_token_inputs(), "word_ids": word_ids, "arc_labels": arcs, "rel_labels": rels}


TASK_INPUTS: dict[str, Callable[[], Inputs]] = {
    "token_classification": lambda: {**_token_inputs(), "labels": _labels(NUM_LABELS, (BATCH_SIZE, SEQ_LEN))},
    "sequence_classification": lambda: {**_token_inputs(), "labels": _labels(NUM_LABELS)},
    "multi_label_classification": lambda: {**_token_inputs(), "labels": _labels(2, (BATCH_SIZE, NUM_LABELS)).float()},
    "regression": lambda: {**_token_inputs(), "labels": torch.randn(BATCH_SIZE, NUM_LABELS)},
    "extractive_qa": lambda: {**_token_inputs(), "start_positions": _labels(4), "end_positions": _labels(4) + 2},
    "extractive_aqa": lambda: {
        **_token_inputs(),
        "start_positions": _labels(4),
        "end_positions": _labels(4) + 2,
        "answerable": _labels(2),
    },
    "multiple_choice": lambda: {
        "input_ids": _ids((BATCH_SIZE, 2, SEQ_LEN)),
        "attention_mask": _mask((BATCH_SIZE, 2, SEQ_LEN)),
        "labels": _labels(2),
    },
    "masked_lm": lambda: {**_token_inputs(), "labels": _ids()},
    "causal_lm": lambda: {**_token_inputs(), "labels": _ids()},
    "dep_parsing": _dependency_inputs,
}
HEAD_FIELDS = {"multiple_choice": {}, "causal_lm": {}, "masked_lm": {}, "extractive_qa": {}, "extractive_aqa": {}}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A saved encoder and a saved decoder backbone."""
    paths = {}
    for name, config_class, model_class in (
        ("encoder", TinyEncoderConfig, TinyEncoderModel),
        ("decoder", TinyDecoderConfig, TinyDecoderModel),
    ):
        torch.manual_seed(0)
        path = tmp_path_factory.mktemp(name)
        model_class(config_class(pad_token_id=0)).save_pretrained(path)
        paths[name] = str(path)
    return paths


@pytest.mark.parametrize("task", ArchitFactory.tasks())
def test_every_head_trains_saves_and_loads(task: str, checkpoints: dict[str, str], tmp_path) -> None:
    if task not in TASK_INPUTS:
        pytest.fail(f"Task {task!r} has no inputs in tests/native/test_adapter.py::TASK_INPUTS; add them.")
    checkpoint = checkpoints["decoder" if task == "causal_lm" else "encoder"]
    head_fields = HEAD_FIELDS.get(task, {"num_labels": NUM_LABELS})
    model = ArchitFactory.from_pretrained(checkpoint, task=task, **head_fields)
    assert not model.loading_report.new or all(name.startswith("head.") for name in model.loading_report.new)
    model.train()
    inputs = TASK_INPUTS[task]()
    output = model(**inputs)
    assert output.loss is not None and math.isfinite(output.loss.item())
    output.loss.backward()
    assert model.get_input_embeddings().weight.grad is not None
    model.eval()
    model.save_pretrained(tmp_path)
    reloaded = ArchitFactory.from_pretrained(tmp_path, task=task).eval()
    with torch.no_grad():
        expected, actual = model(**inputs), reloaded(**inputs)
    assert torch.equal(expected.loss, actual.loss)


def test_trainer_trains_a_head_on_the_adapted_module(tmp_path) -> None:
    torch.manual_seed(0)
    backbone = TinyEncoderModel(TinyEncoderConfig(dropout=0.0))
    model = ArchitFactory.get_task("sequence_classification").fromModelAndHeadConfig(backbone)
    ids = _ids((16, SEQ_LEN))
    labels = (ids[:, 0] > VOCAB_SIZE // 2).long()  # learnable from the first token alone
    data = [{"input_ids": row, "labels": label} for row, label in zip(ids, labels, strict=True)]
    arguments = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        num_train_epochs=15,
        learning_rate=3e-3,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
    )
    with torch.no_grad():
        before = model(input_ids=ids, labels=labels).loss.item()
    Trainer(model=model, args=arguments, train_dataset=data).train()
    with torch.no_grad():
        after = model.eval()(input_ids=ids, labels=labels).loss.item()
    assert after < before / 2


def test_wrapped_adapted_module_pickles() -> None:
    torch.manual_seed(0)
    model = wrap(TinyEncoderModel(TinyEncoderConfig())).eval()
    restored = pickle.loads(pickle.dumps(model))
    assert type(restored) is type(model) and TinyEncoderModel.__qualname__ == "TinyEncoderModel"
    with torch.no_grad():
        assert torch.equal(restored.encode(_ids()).last_hidden_state, model.encode(_ids()).last_hidden_state)
