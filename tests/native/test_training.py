"""Language models on native backbones learn: an LSTM causal LM and a bidirectional GRU masked LM."""

from __future__ import annotations

import math

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

from archit.simple.pretraining import (
    create_collator,
    create_model_from_config,
    language_modeling_collator,
    text_blocks,
    train_tokenizer,
)
from tests.native.helpers import CORPUS


def _perplexity(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> float:
    model.eval()
    with torch.no_grad():
        return math.exp(model(**batch).loss.item())


def test_lstm_causal_lm_lowers_perplexity_and_round_trips(tmp_path) -> None:
    tokenizer = train_tokenizer(CORPUS, kind="wordpiece", vocab_size=120, objective="causal_lm")
    config = {
        "architecture": "lstm",
        "objective": "causal_lm",
        "rnn": {"embedding_size": 48, "hidden_size": 48, "num_layers": 2, "dropout": 0.0},
    }
    torch.manual_seed(0)
    model = create_model_from_config(config, tokenizer)
    collator = create_collator(config, tokenizer)
    blocks = text_blocks(CORPUS, tokenizer, block_size=24)
    everything = collator(blocks)
    before = _perplexity(model, everything)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(60):
        batch = collator([blocks[i] for i in torch.randint(len(blocks), (8,), generator=generator)])
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    after = _perplexity(model, everything)
    assert after < before / 4, (before, after)

    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    reloaded_tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    state, loaded_state = model.state_dict(), loaded.state_dict()
    assert all(torch.equal(state[name], loaded_state[name]) for name in state)
    prompt = reloaded_tokenizer(["the cat sat on"], return_tensors="pt")
    options = {"max_new_tokens": 6, "do_sample": False}
    assert torch.equal(model.generate(**prompt, **options), loaded.generate(**prompt, **options))


def test_bidirectional_gru_trains_with_masked_lm(tmp_path) -> None:
    tokenizer = train_tokenizer(CORPUS, kind="unigram", vocab_size=80, objective="masked_lm")
    config = {
        "architecture": "gru",
        "objective": "masked_lm",
        "mlm_probability": 0.2,
        "rnn": {"embedding_size": 32, "hidden_size": 32, "num_layers": 1, "bidirectional": True, "dropout": 0.0},
    }
    torch.manual_seed(0)
    model = create_model_from_config(config, tokenizer)
    assert not model.backbone.is_causal
    blocks = text_blocks(CORPUS, tokenizer, block_size=32)
    fixed_masking = language_modeling_collator(tokenizer, "masked_lm", 0.2, seed=1)
    evaluation = fixed_masking(blocks)
    before = _perplexity(model, evaluation)
    arguments = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        max_steps=80,
        learning_rate=1e-2,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        seed=0,
    )
    Trainer(model=model, args=arguments, train_dataset=blocks, data_collator=create_collator(config, tokenizer)).train()
    after = _perplexity(model, evaluation)
    assert after < before / 2, (before, after)
