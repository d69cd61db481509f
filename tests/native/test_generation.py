"""generate() on recurrent causal LMs: the cache is the recurrent state, one step per new token."""

from __future__ import annotations

import pytest
import torch
from transformers import pipeline

from archit.modeling import BaseModel
from archit.modeling.heads.language_modeling import CausalLMHeadConfig
from archit.modeling.native import RecurrentCache
from archit.modeling.tasks import ForCausalLM
from archit.simple.pretraining import train_tokenizer
from tests.native.helpers import CORPUS
from tests.tiny_configs import VOCAB_SIZE, tiny_recurrent_config

NEW_TOKENS = 12


def _causal_lm(family: str, **overrides: object) -> ForCausalLM:
    torch.manual_seed(0)
    backbone = BaseModel(tiny_recurrent_config(family, **overrides))
    return ForCausalLM.fromModelAndHeadConfig(backbone, CausalLMHeadConfig()).eval()


def _left_padded_prompts() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(3, VOCAB_SIZE, (3, 6), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    ids[0, :2], mask[0, :2] = 0, 0
    return ids, mask


def _greedy(model: ForCausalLM, use_cache: bool, **options: object) -> torch.Tensor:
    ids, mask = _left_padded_prompts()
    return model.generate(
        ids, attention_mask=mask, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, use_cache=use_cache, **options
    )


@pytest.mark.parametrize("family", ["LSTM", "GRU", "RNN"])
def test_greedy_with_cache_equals_greedy_without(family: str) -> None:
    model = _causal_lm(family)
    with_cache = _greedy(model, use_cache=True)
    assert with_cache.shape == (3, 6 + NEW_TOKENS)
    assert torch.equal(with_cache, _greedy(model, use_cache=False))


def test_beam_search_with_cache_equals_beam_search_without() -> None:
    model = _causal_lm("LSTM")
    assert torch.equal(_greedy(model, True, num_beams=3), _greedy(model, False, num_beams=3))


def test_each_new_token_costs_one_step() -> None:
    model = _causal_lm("LSTM")
    lengths: list[int] = []
    hook = model.backbone.register_forward_pre_hook(
        lambda _module, _args, kwargs: lengths.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        output = model.generate(*_left_padded_prompts()[:1], max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)
        assert lengths == [6] + [1] * (NEW_TOKENS - 1)
        lengths.clear()
        model.generate(
            *_left_padded_prompts()[:1], max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, use_cache=False
        )
        assert lengths == list(range(6, 6 + NEW_TOKENS))
    finally:
        hook.remove()
    assert output.shape[1] == 6 + NEW_TOKENS


def test_generate_returns_the_recurrent_state() -> None:
    model = _causal_lm("GRU")
    ids, mask = _left_padded_prompts()
    output = model.generate(ids, attention_mask=mask, max_new_tokens=4, min_new_tokens=4, return_dict_in_generate=True)
    assert isinstance(output.past_key_values, RecurrentCache)
    assert output.past_key_values.get_seq_length() == 6 + 4 - 1  # the last token is not fed back


def test_sampling_several_sequences_per_prompt() -> None:
    model = _causal_lm("LSTM")
    ids, mask = _left_padded_prompts()
    torch.manual_seed(0)
    output = model.generate(ids, attention_mask=mask, max_new_tokens=5, do_sample=True, num_return_sequences=2)
    assert output.shape[0] == 6


def test_text_generation_pipeline() -> None:
    tokenizer = train_tokenizer(CORPUS, kind="bpe", vocab_size=300, objective="causal_lm")
    torch.manual_seed(0)
    config = tiny_recurrent_config(
        "LSTM",
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = ForCausalLM.fromModelAndHeadConfig(BaseModel(config), CausalLMHeadConfig()).eval()
    generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
    prompts = ["the cat sat", "a dog"]
    outputs = generator(prompts, max_new_tokens=5, min_new_tokens=5, do_sample=False, batch_size=2)
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    expected = model.generate(**batch, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    for output, prompt, row in zip(outputs, prompts, expected, strict=True):
        text = output[0]["generated_text"]
        assert text.startswith(prompt)
        assert text == tokenizer.decode(row, skip_special_tokens=True)
