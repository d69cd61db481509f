"""Tokenizers trained for an objective, and transformers' own collators used on them."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from archit.errors import DataError
from archit.simple.data.tokenization import cut_blocks
from archit.simple.pretraining import (
    TokenizerKind,
    TokenizerTrainingError,
    language_modeling_collator,
    special_tokens,
    text_blocks,
    train_tokenizer,
)
from tests.native.helpers import CORPUS

KINDS = [kind.value for kind in TokenizerKind]
OBJECTIVES = ["causal_lm", "masked_lm"]
SAMPLE = "the cat sat on the mat and a bird sang."


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("kind", KINDS)
def test_trained_tokenizer_has_its_objectives_special_tokens_and_reloads(kind: str, objective: str, tmp_path) -> None:
    tokenizer = train_tokenizer(CORPUS, kind=kind, vocab_size=300, objective=objective, save_directory=tmp_path)
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    roles = special_tokens(objective)
    assert {role: getattr(tokenizer, role) for role in roles} == roles
    assert tokenizer.pad_token_id == 0 and tokenizer.unk_token_id is not None
    assert tokenizer.padding_side == ("left" if objective == "causal_lm" else "right")
    ids = tokenizer(SAMPLE)["input_ids"]
    if objective == "causal_lm":
        assert ids[0] == tokenizer.bos_token_id and tokenizer.eos_token_id not in ids
    else:
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == SAMPLE
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded(SAMPLE)["input_ids"] == ids
    assert reloaded.padding_side == tokenizer.padding_side
    assert {role: getattr(reloaded, role) for role in roles} == roles
    assert list(tokenizer(SAMPLE)) == ["input_ids", "attention_mask"]


def test_kinds_split_differently() -> None:
    pieces = {kind: train_tokenizer(CORPUS, kind=kind, vocab_size=300).tokenize("the bird sang") for kind in KINDS}
    assert pieces["character"] == list("the bird sang")
    assert any(piece.startswith("Ġ") for piece in pieces["bpe"])
    assert any(piece.startswith("▁") for piece in pieces["unigram"])
    assert pieces["wordpiece"] == ["the", "bird", "sang"]
    lowercased = train_tokenizer(["The Cat"], kind="wordpiece", vocab_size=50, lowercase=True)
    assert lowercased.tokenize("THE CAT") == lowercased.tokenize("the cat")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "sentencepiece"}, "wordpiece, bpe, unigram, character"),
        ({"objective": "translation"}, "causal_lm, masked_lm"),
        ({"vocab_size": 4}, "must exceed the 4 special tokens"),
    ],
)
def test_tokenizer_errors(arguments: dict, message: str) -> None:
    with pytest.raises(TokenizerTrainingError, match=message):
        train_tokenizer(CORPUS, **arguments)
    with pytest.raises(TokenizerTrainingError, match="no text"):
        train_tokenizer(["", ""])


def test_text_blocks_carry_special_tokens() -> None:
    tokenizer = train_tokenizer(CORPUS, kind="wordpiece", vocab_size=200, objective="masked_lm")
    blocks = text_blocks(CORPUS, tokenizer, block_size=16)
    assert all(len(block["input_ids"]) == 16 for block in blocks[:-1]) and len(blocks[-1]["input_ids"]) <= 16
    assert all(
        b["input_ids"][0] == tokenizer.cls_token_id and b["input_ids"][-1] == tokenizer.sep_token_id for b in blocks
    )
    stream = [token for text in CORPUS for token in tokenizer(text, add_special_tokens=False)["input_ids"]]
    assert [token for block in blocks for token in block["input_ids"][1:-1]] == stream
    with pytest.raises(DataError, match="no room"):
        text_blocks(CORPUS, tokenizer, block_size=2)


def test_one_cutter_cuts_per_document_or_a_joined_stream() -> None:
    """``text_blocks`` is ``cut_blocks(join=True)``; per document, no block spans two texts and an empty text
    still gets a block of special tokens, so that every text of a run has a score."""
    tokenizer = train_tokenizer(CORPUS, kind="wordpiece", vocab_size=200, objective="masked_lm")
    texts = [*CORPUS[:3], ""]
    assert text_blocks(texts, tokenizer, block_size=16) == cut_blocks(tokenizer, texts, 16, join=True)
    blocks = cut_blocks(tokenizer, texts, 16)
    assert [block["block_index"] for block in blocks] == list(range(len(blocks)))
    for index, text in enumerate(texts):
        own = [block for block in blocks if block["text_index"] == index]
        assert [t for block in own for t in block["input_ids"][1:-1]] == tokenizer(text, add_special_tokens=False)[
            "input_ids"
        ]
        assert all(block["special_tokens_mask"] == [1] + [0] * (len(block["input_ids"]) - 2) + [1] for block in own)
    assert blocks[-1]["input_ids"] == [tokenizer.cls_token_id, tokenizer.sep_token_id]


def test_seeded_masks_of_a_block_depend_on_seed_epoch_and_block_only() -> None:
    tokenizer = train_tokenizer(CORPUS, kind="wordpiece", vocab_size=200, objective="masked_lm")
    blocks = text_blocks(CORPUS, tokenizer, block_size=16)
    collator = language_modeling_collator(tokenizer, "masked_lm", seed=5)
    batch = collator(blocks)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    reversed_batch = language_modeling_collator(tokenizer, "masked_lm", seed=5)(blocks[::-1])
    assert torch.equal(reversed_batch["labels"].flip(0), batch["labels"])
    collator.set_epoch(1)
    assert not torch.equal(collator(blocks)["labels"], batch["labels"])
    unseeded = language_modeling_collator(tokenizer, "masked_lm")(blocks)  # transformers' global generator
    assert set(unseeded) == {"input_ids", "attention_mask", "labels"}


def test_causal_collator_labels_are_the_inputs_without_padding() -> None:
    tokenizer = train_tokenizer(CORPUS, kind="bpe", vocab_size=300, objective="causal_lm")
    collator = language_modeling_collator(tokenizer, "causal_lm")
    batch = collator([tokenizer("the cat"), tokenizer("the dog sat on the mat")])
    padding = batch["attention_mask"] == 0
    assert padding[0, 0] and not padding[1].any()  # left padding
    assert torch.equal(batch["labels"][~padding], batch["input_ids"][~padding])
    assert (batch["labels"][padding] == -100).all()


def test_masked_collator_masks_80_10_10_and_never_special_tokens() -> None:
    tokenizer = train_tokenizer(CORPUS, kind="wordpiece", vocab_size=200, objective="masked_lm")
    collator = language_modeling_collator(tokenizer, "masked_lm", mlm_probability=0.5, seed=0)
    examples = [tokenizer(text) for text in CORPUS] * 40
    originals = tokenizer.pad(examples, return_tensors="pt")["input_ids"]
    batch = collator(examples)
    special = torch.isin(originals, torch.tensor(tokenizer.all_special_ids))
    chosen = batch["labels"] != -100
    assert not (chosen & special).any() and torch.equal(batch["input_ids"][special], originals[special])
    assert torch.equal(batch["labels"][chosen], originals[chosen])
    share = chosen.sum() / (~special).sum()
    masked = (batch["input_ids"][chosen] == tokenizer.mask_token_id).float().mean()
    kept = (batch["input_ids"][chosen] == originals[chosen]).float().mean()
    assert abs(share - 0.5) < 0.03 and abs(masked - 0.8) < 0.03 and abs(kept - 0.1) < 0.03


def test_collator_errors() -> None:
    causal = train_tokenizer(CORPUS, kind="bpe", vocab_size=300, objective="causal_lm")
    with pytest.raises(DataError, match="mask token"):
        language_modeling_collator(causal, "masked_lm")
    with pytest.raises(DataError, match="causal_lm, masked_lm"):
        language_modeling_collator(causal, "seq2seq")
