"""The generation cache under every name transformers uses: ``generate()`` with a cache equals ``generate()``
without, for transformer and recurrent backbones, and a cache asked for is never silently dropped."""

from __future__ import annotations

import pytest
import torch

from archit import ArchitFactory
from archit._compat import ACCEPTED_CACHE_NAMES, CACHE_NAME, LEGACY_CACHE_NAME, cache_of
from archit.errors import CacheError
from archit.modeling import BaseModel
from archit.modeling.heads import CausalLMHeadConfig
from archit.modeling.tasks import ForCausalLM
from tests.tiny_configs import VOCAB_SIZE, tiny_config, tiny_recurrent_config

FAMILIES = ["GPT2", "LLAMA", "LSTM", "GRU", "RNN"]
NEW_TOKENS = 8


def _causal_lm(family: str) -> ForCausalLM:
    torch.manual_seed(0)
    if family in ("LSTM", "GRU", "RNN"):
        return ForCausalLM.fromModelAndHeadConfig(BaseModel(tiny_recurrent_config(family)), CausalLMHeadConfig()).eval()
    return ArchitFactory.from_config(tiny_config(family), task="causal_lm").eval()


def _left_padded_prompts() -> dict[str, torch.Tensor]:
    """Three prompts of 6 tokens, the first two tokens of the first prompt being padding."""
    input_ids = torch.randint(3, VOCAB_SIZE, (3, 6), generator=torch.Generator().manual_seed(1))
    attention_mask = torch.ones_like(input_ids)
    input_ids[0, :2], attention_mask[0, :2] = 0, 0
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def _generate(model: ForCausalLM, use_cache: bool, **options: object) -> torch.Tensor:
    return model.generate(
        **_left_padded_prompts(),
        max_new_tokens=NEW_TOKENS,
        min_new_tokens=NEW_TOKENS,
        do_sample=False,
        pad_token_id=0,
        use_cache=use_cache,
        **options,
    )


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("num_beams", [1, 3], ids=["greedy", "beam"])
def test_generation_with_cache_equals_generation_without(family: str, num_beams: int) -> None:
    model = _causal_lm(family)
    with_cache = _generate(model, use_cache=True, num_beams=num_beams)
    assert with_cache.shape == (3, 6 + NEW_TOKENS)
    assert torch.equal(with_cache, _generate(model, use_cache=False, num_beams=num_beams))


@pytest.mark.parametrize("family", FAMILIES)
def test_generate_feeds_one_token_per_step_with_the_cache(family: str) -> None:
    model = _causal_lm(family)
    lengths: list[int] = []
    hook = model.register_forward_pre_hook(
        lambda _module, _args, kwargs: lengths.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        _generate(model, use_cache=True)
    finally:
        hook.remove()
    assert lengths == [6] + [1] * (NEW_TOKENS - 1)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", ACCEPTED_CACHE_NAMES)
def test_a_step_from_the_cache_equals_the_full_forward_pass(family: str, name: str) -> None:
    model = _causal_lm(family)
    prompts = _left_padded_prompts()
    next_tokens = torch.randint(3, VOCAB_SIZE, (3, 1), generator=torch.Generator().manual_seed(2))
    full_mask = torch.cat([prompts["attention_mask"], torch.ones_like(next_tokens)], dim=1)
    with torch.no_grad():
        prefix = model(**prompts, use_cache=True)
        cache = cache_of(prefix)
        assert cache is not None and cache.get_seq_length() == 6
        step = model(input_ids=next_tokens, attention_mask=full_mask, use_cache=True, **{name: cache})
        full = model(input_ids=torch.cat([prompts["input_ids"], next_tokens], dim=1), attention_mask=full_mask)
    torch.testing.assert_close(step.logits[:, -1], full.logits[:, -1], rtol=0.0, atol=1e-5)
    assert cache_of(step).get_seq_length() == 7


def test_the_cache_is_accepted_under_the_names_transformers_accepts() -> None:
    model = _causal_lm("GPT2")
    prompts = _left_padded_prompts()
    with torch.no_grad():
        cache = cache_of(model(**prompts, use_cache=True))
        if CACHE_NAME == LEGACY_CACHE_NAME:
            # transformers before 5.24 has no `cache` keyword: archit does not invent one
            assert ACCEPTED_CACHE_NAMES == ("past_key_values",)
            with pytest.raises(CacheError, match="names the generation cache 'past_key_values'"):
                model(input_ids=prompts["input_ids"][:, :1], use_cache=True, cache=cache)
        else:
            assert ACCEPTED_CACHE_NAMES == ("cache", "past_key_values")
            with pytest.raises(CacheError, match="passed twice"):
                model.backbone.encode(prompts["input_ids"], cache=cache, past_key_values=cache)


@pytest.mark.parametrize("family", FAMILIES)
def test_encode_returns_the_cache_when_asked(family: str) -> None:
    backbone = _causal_lm(family).backbone
    prompts = _left_padded_prompts()
    with torch.no_grad():
        encoded = backbone.encode(**prompts, use_cache=True)
        assert cache_of(encoded) is not None and cache_of(encoded).get_seq_length() == 6
        assert getattr(encoded, CACHE_NAME) is cache_of(encoded)
        assert cache_of(backbone.encode(**prompts)) is None  # not asked: none kept


@pytest.mark.parametrize("family", ["BERT", "DISTILBERT"])
def test_a_cache_asked_of_a_backbone_without_one_is_an_error(family: str) -> None:
    model = ArchitFactory.from_config(tiny_config(family), task="causal_lm").eval()
    prompts = _left_padded_prompts()
    with pytest.raises(CacheError, match="use_cache=False"):
        model.generate(**prompts, max_new_tokens=2, pad_token_id=0, use_cache=True)
    generated = model.generate(**prompts, max_new_tokens=2, min_new_tokens=2, pad_token_id=0, use_cache=False)
    assert generated.shape == (3, 8)
