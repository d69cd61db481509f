"""Train a WordPiece, BPE, Unigram or character-level tokenizer for a language-modelling objective.

:func:`train_tokenizer` trains with the ``tokenizers`` library and returns a
:class:`~transformers.PreTrainedTokenizerFast` that carries the special tokens its objective needs, pads on the
side that objective wants, and reloads with ``AutoTokenizer.from_pretrained`` after ``save_pretrained``:

- causal LM: ``<pad>`` (id 0), ``<unk>``, ``<s>`` (prepended to every sequence), ``</s>``; left padding;
- masked LM: ``[PAD]`` (id 0), ``[UNK]``, ``[CLS]`` and ``[SEP]`` (around every sequence), ``[MASK]``; right padding.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from enum import Enum

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from archit.errors import TokenizerTrainingError

__all__ = ["TokenizerKind", "TokenizerTrainingError", "special_tokens", "train_tokenizer"]


class TokenizerKind(str, Enum):
    """The subword algorithms :func:`train_tokenizer` trains."""

    WORDPIECE = "wordpiece"
    """BERT's: words split on whitespace and punctuation, continuation pieces marked ``##``."""
    BPE = "bpe"
    """GPT-2's byte-level BPE: every string is representable, word starts carry ``Ġ``."""
    UNIGRAM = "unigram"
    """SentencePiece's unigram model: word starts carry ``▁``."""
    CHARACTER = "character"
    """One token per character (the most frequent ``vocab_size`` ones; the rest are unknown)."""


_SPECIAL_TOKENS = {
    "causal_lm": {"pad_token": "<pad>", "unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>"},
    "masked_lm": {
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    },
}


def special_tokens(objective: str) -> dict[str, str]:
    """The special tokens of ``objective`` (``"causal_lm"`` or ``"masked_lm"``), by role; the pad token first.

    Raises:
        TokenizerTrainingError: an unknown objective.
    """
    objective = getattr(objective, "value", objective)
    if objective not in _SPECIAL_TOKENS:
        raise TokenizerTrainingError(
            f"Unknown objective {objective!r} for a tokenizer; choose one of {', '.join(_SPECIAL_TOKENS)}."
        )
    return dict(_SPECIAL_TOKENS[objective])


def _model_and_trainer(kind: TokenizerKind, vocab_size: int, specials: dict[str, str], min_frequency: int) -> tuple:
    tokens = list(specials.values())
    unk = specials["unk_token"]
    trainer: trainers.Trainer
    if kind is TokenizerKind.WORDPIECE:
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab_size, special_tokens=tokens, min_frequency=min_frequency, show_progress=False
        )
        return models.WordPiece(unk_token=unk), trainer
    if kind is TokenizerKind.BPE:
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=tokens,
            min_frequency=min_frequency,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        return models.BPE(), trainer
    if kind is TokenizerKind.UNIGRAM:
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=tokens, unk_token=unk, show_progress=False
        )
        return models.Unigram(), trainer
    trainer = trainers.WordLevelTrainer(
        vocab_size=vocab_size, special_tokens=tokens, min_frequency=min_frequency, show_progress=False
    )
    return models.WordLevel(unk_token=unk), trainer


def _pre_tokenizer_and_decoder(kind: TokenizerKind) -> tuple:
    if kind is TokenizerKind.WORDPIECE:
        return pre_tokenizers.BertPreTokenizer(), decoders.WordPiece(prefix="##")
    if kind is TokenizerKind.BPE:
        return pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    if kind is TokenizerKind.UNIGRAM:
        return pre_tokenizers.Metaspace(), decoders.Metaspace()
    # every character, whitespace and newlines included, is its own token; decoding concatenates them
    return pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated"), decoders.Fuse()


def _post_processor(objective: str, tokenizer: Tokenizer, specials: dict[str, str]) -> processors.TemplateProcessing:
    ids = {token: tokenizer.token_to_id(token) for token in specials.values()}
    if objective == "causal_lm":
        bos = specials["bos_token"]
        return processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A $B:1", special_tokens=[(bos, ids[bos])]
        )
    cls, sep = specials["cls_token"], specials["sep_token"]
    return processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(cls, ids[cls]), (sep, ids[sep])],
    )


def train_tokenizer(
    texts: Iterable[str],
    kind: TokenizerKind | str = TokenizerKind.BPE,
    vocab_size: int = 1000,
    objective: str = "causal_lm",
    lowercase: bool = False,
    min_frequency: int = 1,
    model_max_length: int = 512,
    save_directory: str | os.PathLike | None = None,
) -> PreTrainedTokenizerFast:
    """Train a tokenizer on ``texts`` and give it the special tokens of ``objective``.

    Args:
        texts: the training text, one string per document or line.
        kind: ``"wordpiece"``, ``"bpe"``, ``"unigram"`` or ``"character"`` (see :class:`TokenizerKind`).
        vocab_size: the largest vocabulary, special tokens included (smaller when the text has fewer pieces;
            byte-level BPE always holds its 256 bytes).
        objective: ``"causal_lm"`` or ``"masked_lm"``; decides the special tokens and the padding side.
        lowercase: lowercase (and, for WordPiece, strip accents from) the text first.
        min_frequency: pieces seen fewer times are not added (not used by Unigram).
        model_max_length: the longest input the model takes, for ``truncation=True``.
        save_directory: also ``save_pretrained`` the tokenizer there.

    Returns:
        The trained tokenizer; ``tokenizer.pad_token_id == 0``.

    Raises:
        TokenizerTrainingError: an unknown kind or objective, ``vocab_size`` not above the number of special
            tokens, or no text.
    """
    objective = getattr(objective, "value", objective)
    specials = special_tokens(objective)
    try:
        kind = TokenizerKind(getattr(kind, "value", kind))
    except ValueError:
        known = ", ".join(k.value for k in TokenizerKind)
        raise TokenizerTrainingError(f"Unknown tokenizer kind {kind!r}; choose one of {known}.") from None
    if vocab_size <= len(specials):
        raise TokenizerTrainingError(
            f"vocab_size ({vocab_size}) must exceed the {len(specials)} special tokens of {objective}."
        )
    model, trainer = _model_and_trainer(kind, vocab_size, specials, min_frequency)
    tokenizer = Tokenizer(model)
    normalizing = [normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()] if lowercase else []
    if kind is TokenizerKind.WORDPIECE:
        normalizing.insert(0, normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True))
    if normalizing:
        tokenizer.normalizer = normalizers.Sequence(normalizing)
    tokenizer.pre_tokenizer, tokenizer.decoder = _pre_tokenizer_and_decoder(kind)
    texts = [text for text in texts if text]
    if not texts:
        raise TokenizerTrainingError("train_tokenizer got no text; pass an iterable of non-empty strings.")
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.post_processor = _post_processor(objective, tokenizer, specials)
    result = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        model_max_length=model_max_length,
        padding_side="left" if objective == "causal_lm" else "right",
        model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False,
        **specials,
    )
    if save_directory is not None:
        result.save_pretrained(os.fspath(save_directory))
    return result
