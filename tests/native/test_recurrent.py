"""The recurrent backbones: configs, padding, state, checkpoints, and their place among archit's families."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from transformers import AutoConfig, AutoModel, DynamicCache

from archit.errors import ModelInputError
from archit.modeling import ArchitWrapper, BaseModel, wrap
from archit.modeling.native import (
    GRUModel,
    LSTMBaseModel,
    LSTMModel,
    NativeConfigError,
    RecurrentCache,
    RecurrentStateError,
    RNNConfig,
    RNNModel,
)
from archit.resolution import ModelArchitectures, resolve
from tests.comparison import assert_same_outputs
from tests.tiny_configs import (
    BATCH_SIZE,
    RECURRENT_CONFIGS,
    SEQ_LEN,
    VOCAB_SIZE,
    tiny_recurrent_config,
)
from tests.tiny_configs import RECURRENT_EMBEDDING_SIZE as EMBEDDING_SIZE
from tests.tiny_configs import RECURRENT_HIDDEN_SIZE as HIDDEN_SIZE

FAMILIES = list(RECURRENT_CONFIGS)
MODEL_CLASSES = {"LSTM": LSTMModel, "GRU": GRUModel, "RNN": RNNModel}


def _model(family: str, **overrides: object) -> ArchitWrapper:
    torch.manual_seed(0)
    return BaseModel(tiny_recurrent_config(family, **overrides)).eval()


def _ids(seed: int = 0) -> torch.Tensor:
    return torch.randint(3, VOCAB_SIZE, (BATCH_SIZE, SEQ_LEN), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("family", FAMILIES)
def test_config_round_trip_and_auto_classes(family: str) -> None:
    config = tiny_recurrent_config(family, bidirectional=True)
    assert type(config).from_dict(config.to_dict()).to_dict() == config.to_dict()
    assert type(AutoConfig.for_model(config.model_type)) is type(config)
    assert type(AutoModel.from_config(config)) is MODEL_CLASSES[family]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"num_hidden_layers": 1.5}, "num_hidden_layers must be a positive integer"),
        ({"hidden_dropout_prob": 1.0}, "hidden_dropout_prob must be in [0, 1)"),
        ({"nonlinearity": "sigmoid"}, "nonlinearity must be one of tanh, relu"),
    ],
)
def test_config_errors(overrides: dict, message: str) -> None:
    with pytest.raises(NativeConfigError, match=message.replace("[", r"\[").replace(")", r"\)")):
        RNNConfig(**overrides)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_and_facts(family: str) -> None:
    model = _model(family, tie_word_embeddings=False)
    assert isinstance(model, MODEL_CLASSES[family]) and isinstance(model, ArchitWrapper)
    assert resolve(model.config) is ModelArchitectures.get(family) is model.family
    assert model.is_causal and not model.has_token_type_ids
    assert model.hidden_size == HIDDEN_SIZE and model.vocab_size == VOCAB_SIZE
    bidirectional = _model(family, bidirectional=True, tie_word_embeddings=False)
    assert not bidirectional.is_causal and bidirectional.hidden_size == 2 * HIDDEN_SIZE
    tied = _model(family, bidirectional=True)
    assert tied.hidden_size == EMBEDDING_SIZE and tied.projection is not None


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_encode_shapes_and_every_layer(family: str, bidirectional: bool) -> None:
    model = _model(family, bidirectional=bidirectional)
    with torch.no_grad():
        output = model.encode(_ids(), output_hidden_states=True)
    assert output.last_hidden_state.shape == (BATCH_SIZE, SEQ_LEN, model.hidden_size)
    widths = [layer.shape[-1] for layer in output.hidden_states]
    width = HIDDEN_SIZE * (2 if bidirectional else 1)
    assert widths[:3] == [EMBEDDING_SIZE, width, width]
    assert torch.equal(output.hidden_states[-1], output.last_hidden_state)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_left_or_right_changes_nothing(family: str, bidirectional: bool) -> None:
    model = _model(family, bidirectional=bidirectional)
    ids = _ids()
    mask = torch.ones_like(ids)
    mask[0, :3] = 0  # left padding
    mask[1, 5:] = 0  # right padding
    with torch.no_grad():
        padded = model(ids, attention_mask=mask).last_hidden_state
        alone_left = model(ids[0:1, 3:]).last_hidden_state
        alone_right = model(ids[1:2, :5]).last_hidden_state
        full = model(ids[2:3]).last_hidden_state
    torch.testing.assert_close(padded[0, 3:], alone_left[0])
    torch.testing.assert_close(padded[1, :5], alone_right[0])
    torch.testing.assert_close(padded[2], full[0])


@pytest.mark.parametrize("family", FAMILIES)
def test_state_continues_where_it_stopped(family: str) -> None:
    model = _model(family)
    ids = _ids()
    with torch.no_grad():
        full = model(ids, use_cache=False)
        first = model(ids[:, :4], use_cache=True)
        cache = first.past_key_values
        assert isinstance(cache, RecurrentCache) and cache.get_seq_length() == 4 and len(cache) == 2
        second = model(ids[:, 4:], past_key_values=cache, use_cache=True)
    assert second.past_key_values is cache and cache.get_seq_length() == SEQ_LEN
    assert full.past_key_values is None
    stepped = torch.cat([first.last_hidden_state, second.last_hidden_state], dim=1)
    torch.testing.assert_close(stepped, full.last_hidden_state)


def test_padded_prefix_state_equals_unpadded_state() -> None:
    model = _model("LSTM")
    ids = _ids()
    mask = torch.ones_like(ids)
    mask[0, :2] = 0
    with torch.no_grad():
        cache = model(ids, attention_mask=mask, use_cache=True).past_key_values
        alone = model(ids[0:1, 2:], use_cache=True).past_key_values
    for padded_state, alone_state in zip(cache.states, alone.states, strict=True):
        for padded, single in zip(padded_state, alone_state, strict=True):
            torch.testing.assert_close(padded[:, 0], single[:, 0])


def test_a_row_without_tokens_keeps_its_state() -> None:
    model = _model("GRU")
    ids = _ids()
    with torch.no_grad():
        cache = model(ids[:, :4], use_cache=True).past_key_values
        before = [state[0].clone() for state in cache.states]
        mask = torch.ones(BATCH_SIZE, 7, dtype=torch.long)
        mask[1, 4:] = 0
        model(ids[:, 4:], attention_mask=mask, past_key_values=cache, use_cache=True)
    for old, state in zip(before, cache.states, strict=True):
        assert torch.equal(state[0][:, 1], old[:, 1]) and not torch.equal(state[0][:, 0], old[:, 0])


def test_cache_from_generate_and_wrong_caches() -> None:
    model = _model("LSTM")
    with torch.no_grad():
        output = model(_ids(), past_key_values=DynamicCache(), use_cache=True)
    assert isinstance(output.past_key_values, RecurrentCache)
    filled = DynamicCache()
    filled.update(torch.zeros(BATCH_SIZE, 1, 2, 4), torch.zeros(BATCH_SIZE, 1, 2, 4), 0)
    with pytest.raises(RecurrentStateError, match="already holds tokens"):
        model(_ids(), past_key_values=filled)
    bidirectional = _model("LSTM", bidirectional=True)
    assert bidirectional(_ids(), use_cache=True).past_key_values is None
    with pytest.raises(RecurrentStateError, match="bidirectional"):
        bidirectional(_ids(), past_key_values=output.past_key_values)


def test_cache_reorders_repeats_and_refuses_to_roll_back() -> None:
    model = _model("LSTM")
    with torch.no_grad():
        cache = model(_ids(), use_cache=True).past_key_values
    hidden = cache.states[0][0].clone()
    cache.reorder_cache(torch.tensor([2, 2, 0]))
    assert torch.equal(cache.states[0][0], hidden[:, [2, 2, 0]])
    cache.batch_repeat_interleave(2)
    assert cache.max_batch_size == 6
    cache.crop(SEQ_LEN)  # keeping everything is fine
    with pytest.raises(RecurrentStateError, match="Cannot crop"):
        cache.crop(-1)
    cache.reset()
    assert cache.get_seq_length() == 0 and not cache.is_initialized


def test_inputs_embeds_and_tuple_outputs() -> None:
    model = _model("RNN")
    ids = _ids()
    with torch.no_grad():
        from_ids = model(ids).last_hidden_state
        from_embeds = model(inputs_embeds=model.get_input_embeddings()(ids)).last_hidden_state
        as_tuple = model(ids, return_dict=False)
    torch.testing.assert_close(from_ids, from_embeds)
    assert torch.equal(as_tuple[0], from_ids)
    with pytest.raises(ModelInputError, match="exactly one") as caught:
        model()
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("family", FAMILIES)
def test_save_and_load_give_equal_weights_and_outputs(family: str, tmp_path) -> None:
    model = _model(family, bidirectional=family == "GRU")
    model.save_pretrained(tmp_path)
    for loaded in (AutoModel.from_pretrained(tmp_path), BaseModel.from_pretrained(tmp_path)):
        loaded.eval()
        assert type(loaded).__name__ == type(model).__name__
        state, loaded_state = model.state_dict(), loaded.state_dict()
        assert state.keys() == loaded_state.keys()
        assert all(torch.equal(state[name], loaded_state[name]) for name in state)
        with torch.no_grad():
            assert_same_outputs(wrap(loaded).encode(_ids()).last_hidden_state, model.encode(_ids()).last_hidden_state)


def test_initialisation_uses_the_config() -> None:
    model = _model("LSTM", initializer_range=0.5)
    assert 0.4 < model.embeddings.weight.std().item() < 0.6
    recurrent = model.layers[0]
    product = recurrent.weight_hh_l0[:HIDDEN_SIZE] @ recurrent.weight_hh_l0[:HIDDEN_SIZE].T
    assert torch.count_nonzero(recurrent.bias_ih_l0) == 0
    assert product.diagonal().std() < 0.5  # rows of an orthogonal init have comparable norms
    assert isinstance(LSTMBaseModel(tiny_recurrent_config("LSTM")), LSTMModel)


def test_one_token_steps_leave_torch_settings_as_they_were() -> None:
    model = _model("LSTM")
    enabled = torch.backends.mkldnn.enabled
    with torch.no_grad():
        cache = model(_ids()[:, :3], use_cache=True).past_key_values
        model(_ids()[:, 3:4], past_key_values=cache)
    assert torch.backends.mkldnn.enabled == enabled


def test_wrapped_backbone_pickles_and_deep_copies() -> None:
    model = _model("GRU", bidirectional=True)
    for copy_ in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert type(copy_) is type(model) and not copy_.is_causal
        with torch.no_grad():
            assert torch.equal(copy_.encode(_ids()).last_hidden_state, model.encode(_ids()).last_hidden_state)
