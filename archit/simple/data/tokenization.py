"""Loading a checkpoint's tokenizer with its family's facts, and tokenising pre-split words.

Word-level labels sit on the first subword piece of each word; every other piece, and every special token,
gets ``-100``. A word that tokenizes to nothing gets the unknown token, so every word has a piece. Fast
tokenizers say which word each piece came from (``BatchEncoding.word_ids()``); for Python (slow) tokenizers,
such as CANINE's, each word is tokenised alone and the special tokens are added by the tokenizer itself, which
gives the same mapping.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from archit.errors import CheckpointError, DataError, UnknownArchitectureError
from archit.modeling.tasks.losses import IGNORE_INDEX
from archit.resolution import Family, ModelArchitectures, resolve
from archit.resolution.checkpoints import download_command, locate_checkpoint

__all__ = [
    "align_labels",
    "cut_blocks",
    "encode_word_lists",
    "encode_words",
    "family_of",
    "first_piece_positions",
    "load_tokenizer",
    "log_empty_words",
    "stand_in_token",
]

logger = logging.getLogger("archit")

WordEncoding: TypeAlias = tuple[dict[str, list[int]], list[int | None], list[int]]
"""A sentence's model inputs, the word of each token (``None`` for special tokens), and the indices of the words
that tokenized to nothing (see :func:`encode_words`)."""


def family_of(name_or_path: str, **hub_options: Any) -> Family:
    """The family of a checkpoint directory or hub id, read from its config; GENERIC when there is no config (a
    tokenizer alone) or it names no family.

    Args:
        name_or_path: a checkpoint directory or a Hugging Face Hub id.
        **hub_options: ``revision``, ``cache_dir``, ``token``, ``local_files_only``, ``subfolder``.

    Raises:
        CheckpointError: the config exists but cannot be read (not valid JSON, no ``model_type``): the family's
            tokenization facts would silently be lost.
    """
    try:
        checkpoint = locate_checkpoint(name_or_path, weights=False, **hub_options)
    except CheckpointError:
        return ModelArchitectures.GENERIC
    try:
        return resolve(checkpoint)
    except UnknownArchitectureError:
        return ModelArchitectures.GENERIC


def load_tokenizer(name_or_path: str, **hub_options: Any) -> PreTrainedTokenizerBase:
    """The checkpoint's tokenizer, set up for pre-split words and for batching.

    Byte-level BPE families get ``add_prefix_space=True`` (so that a word is tokenised as it would be after
    a space); the padding side is the family's; a tokenizer without a pad token pads with its end-of-text
    token (or its unknown token).

    Args:
        name_or_path: a checkpoint directory or a Hugging Face Hub id.
        **hub_options: ``revision``, ``cache_dir``, ``token``, ``local_files_only``, ``subfolder``, passed to
            ``AutoTokenizer.from_pretrained``.

    Raises:
        CheckpointError: no tokenizer can be loaded from ``name_or_path``: a missing directory, a hub id that is
            not cached while offline, or a checkpoint without tokenizer files.
    """
    family = family_of(name_or_path, **hub_options)
    kwargs: dict[str, Any] = {"add_prefix_space": True} if family.add_prefix_space else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, **hub_options, **kwargs)
    except (OSError, ValueError) as error:
        fix = _tokenizer_files_fix(name_or_path, hub_options)
        raise CheckpointError(f"Cannot load a tokenizer from {name_or_path!r} ({error}). {fix}") from error
    # transformers 5 builds a tokenizer of special tokens alone where the vocabulary files are missing.
    if len(tokenizer) <= len(set(tokenizer.all_special_ids)):
        raise CheckpointError(
            f"{name_or_path!r} holds no tokenizer vocabulary: the tokenizer loaded from it knows only its "
            f"{len(tokenizer)} special tokens. {_tokenizer_files_fix(name_or_path, hub_options)}"
        )
    if family is not ModelArchitectures.GENERIC:
        tokenizer.padding_side = family.padding_side
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token if tokenizer.eos_token is not None else tokenizer.unk_token
    return tokenizer


def _tokenizer_files_fix(name_or_path: str, hub_options: dict[str, Any]) -> str:
    """What to do about a checkpoint without tokenizer files.

    Raises:
        CheckpointError: the checkpoint itself is missing (a directory that does not exist, a hub id that is
            not cached while offline), which is the error to report then.
    """
    if os.path.isdir(name_or_path):
        return "Save the tokenizer next to the model with tokenizer.save_pretrained(directory)."
    locate_checkpoint(name_or_path, weights=False, **hub_options)
    command = download_command(name_or_path, hub_options.get("revision"), hub_options.get("cache_dir"))
    return f"Put the whole repository in the cache with `{command}`."


def encode_words(tokenizer: PreTrainedTokenizerBase, words: Sequence[str], max_length: int) -> WordEncoding:
    """Tokenise pre-split words, truncated to ``max_length`` tokens, every word into at least one piece.

    A word that tokenizes to nothing (a zero-width space, a soft hyphen, a character the tokenizer's normaliser
    strips) is encoded as the tokenizer's unknown token instead (its padding or end-of-text token if it has no
    unknown token), so that word-level tasks keep one position per word.

    Args:
        tokenizer: a fast or Python tokenizer; byte-level BPE ones loaded with ``add_prefix_space=True``.
        words: the words.
        max_length: most tokens, special tokens included; pieces that do not fit are dropped from the end.

    Returns:
        The encoding (``input_ids``, ``attention_mask`` and, where the tokenizer makes them,
        ``token_type_ids``); per token, the index of the word it belongs to (``None`` for special tokens); and
        the indices of the words that tokenized to nothing and were given the unknown token.

    Raises:
        DataError: some words tokenize to nothing and the tokenizer has no unknown, padding or end-of-text token.
    """
    return encode_word_lists(tokenizer, [words], max_length)[0]


def encode_word_lists(
    tokenizer: PreTrainedTokenizerBase, sentences: Sequence[Sequence[str]], max_length: int
) -> list[WordEncoding]:
    """:func:`encode_words` for each sentence; a fast tokenizer encodes them all in one call.

    Args:
        tokenizer: a fast or Python tokenizer; byte-level BPE ones loaded with ``add_prefix_space=True``.
        sentences: the words of each sentence.
        max_length: most tokens per sentence, special tokens included.

    Returns:
        One encoding per sentence, in order, each as :func:`encode_words` returns it.

    Raises:
        DataError: some words tokenize to nothing and the tokenizer has no unknown, padding or end-of-text token.
    """
    word_lists = [list(words) for words in sentences]
    if not tokenizer.is_fast:
        return [_encode_words_slow(tokenizer, words, max_length) for words in word_lists]
    if not word_lists:
        return []
    batch = tokenizer(word_lists, is_split_into_words=True, truncation=True, max_length=max_length)
    names = [name for name in tokenizer.model_input_names if name in batch]
    encodings: list[WordEncoding] = []
    for index, words in enumerate(word_lists):
        word_ids = batch.word_ids(index)
        empty = _words_without_pieces(word_ids, len(words))
        if empty and len(batch["input_ids"][index]) >= max_length:
            # words missing at the end may only have been cut off: look at the whole sentence
            empty = _words_without_pieces(tokenizer(words, is_split_into_words=True).word_ids(), len(words))
        if empty:
            encodings.append(_encode_with_stand_ins(tokenizer, words, empty, max_length))
        else:
            encodings.append(({name: batch[name][index] for name in names}, word_ids, []))
    return encodings


def _encode_words_slow(tokenizer: PreTrainedTokenizerBase, words: list[str], max_length: int) -> WordEncoding:
    pieces = [tokenizer.encode(word, add_special_tokens=False) for word in words]
    empty = [index for index, word_pieces in enumerate(pieces) if not word_pieces]
    if empty:
        stand_in = tokenizer.convert_tokens_to_ids(stand_in_token(tokenizer, [words[index] for index in empty]))
        pieces = [word_pieces or [stand_in] for word_pieces in pieces]
    ids = [piece for word_pieces in pieces for piece in word_pieces]
    owners = [index for index, word_pieces in enumerate(pieces) for _ in word_pieces]
    encoding = tokenizer.prepare_for_model(
        ids,
        add_special_tokens=True,
        truncation=True,
        max_length=max_length,
        return_special_tokens_mask=True,
    )
    # Non-special tokens are the words' pieces in order, truncated from the end.
    word_ids: list[int | None] = []
    position = 0
    for special in encoding["special_tokens_mask"]:
        word_ids.append(None if special else owners[position])
        position += 0 if special else 1
    return _model_inputs(tokenizer, encoding), word_ids, empty


def _encode_with_stand_ins(
    tokenizer: PreTrainedTokenizerBase, words: list[str], empty: list[int], max_length: int
) -> WordEncoding:
    """The fast tokenizer's encoding of ``words`` with the stand-in token in place of the words at ``empty``."""
    stand_in = stand_in_token(tokenizer, [words[index] for index in empty])
    words = [stand_in if index in empty else word for index, word in enumerate(words)]
    encoding = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
    return _model_inputs(tokenizer, encoding), encoding.word_ids(), empty


def _words_without_pieces(word_ids: Sequence[int | None], n_words: int) -> list[int]:
    present = set(word_ids)
    return [index for index in range(n_words) if index not in present]


def stand_in_token(tokenizer: PreTrainedTokenizerBase, words: Sequence[str] = ()) -> str:
    """The token that stands for a word that tokenizes to nothing: the unknown token, else the padding token,
    else the end-of-text token.

    Args:
        tokenizer: the tokenizer.
        words: the words that need it, for the error message.

    Raises:
        DataError: the tokenizer has none of these tokens.
    """
    for token in (tokenizer.unk_token, tokenizer.pad_token, tokenizer.eos_token):
        if token is not None:
            return str(token)
    shown = ", ".join(repr(word) for word in words[:3])
    raise DataError(
        f"{type(tokenizer).__name__} turns the words {shown} into no token at all, and has no unknown, padding or "
        "end-of-text token to stand in for them; give the tokenizer an unk_token or remove these words."
    )


def log_empty_words(found: Sequence[tuple[int | None, str]], n_words: int, tokenizer: PreTrainedTokenizerBase) -> None:
    """Say, once per data set, how many words tokenized to nothing and which token stands in for them.

    Args:
        found: ``(line, word)`` of each such word, ``line`` being where its sentence starts in the data file
            (``None`` when unknown).
        n_words: the number of words of the data set.
        tokenizer: the tokenizer (for the stand-in token).
    """
    if not found:
        return
    shown = ", ".join(f"{word!r}" + ("" if line is None else f" (sentence at line {line})") for line, word in found[:3])
    logger.warning(
        "%d of %d words tokenize to nothing with %s and were given the token %s: %s%s.",
        len(found),
        n_words,
        type(tokenizer).__name__,
        stand_in_token(tokenizer),
        shown,
        f" and {len(found) - 3} more" if len(found) > 3 else "",
    )


def cut_blocks(
    tokenizer: PreTrainedTokenizerBase, texts: Iterable[str], block_size: int, join: bool = False
) -> list[dict[str, Any]]:
    """Tokenise texts and cut them into blocks of at most ``block_size`` tokens, each with the tokenizer's
    special tokens (``[CLS]``/``[SEP]``, ``<s>``...) around it.

    Args:
        tokenizer: tokenises the texts and gives the special tokens of a single sequence.
        texts: documents or lines.
        block_size: tokens per block, special tokens included; a document's (or the stream's) last block may
            be shorter.
        join: cut one stream of all the texts joined (pretraining: no block is wasted on a short line) instead
            of each text on its own (a block belongs to one text, whose score it adds to; a text with no
            token still gets one block of special tokens).

    Returns:
        One dict per block, in text order: ``input_ids``, ``special_tokens_mask``, ``block_index`` (its
        position in the list, which seeds its masking) and, unless ``join``, ``text_index``.

    Raises:
        DataError: ``block_size`` leaves no room next to the special tokens.
    """
    prefix, suffix = _special_affixes(tokenizer)
    room = block_size - len(prefix) - len(suffix)
    if room < 1:
        raise DataError(f"block_size ({block_size}) leaves no room for tokens next to the special tokens.")
    texts = list(texts)
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
    documents = [[token for ids in encoded for token in ids]] if join else encoded
    special = [1] * len(prefix), [1] * len(suffix)
    blocks: list[dict[str, Any]] = []
    for text_index, ids in enumerate(documents):
        for start in range(0, len(ids) if join else max(len(ids), 1), room):
            piece = ids[start : start + room]
            block = {
                "input_ids": prefix + piece + suffix,
                "special_tokens_mask": special[0] + [0] * len(piece) + special[1],
                "block_index": len(blocks),
            }
            if not join:
                block["text_index"] = text_index
            blocks.append(block)
    return blocks


def _special_affixes(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a single sequence (``[<s>]``, ``[]``; ``[[CLS]]``, ``[[SEP]]``)."""
    probe = "a"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return full[:start], full[start + len(bare) :]
    return [], []


def _model_inputs(tokenizer: PreTrainedTokenizerBase, encoding: Any) -> dict[str, list[int]]:
    names = [name for name in tokenizer.model_input_names if name in encoding]
    return {name: list(encoding[name]) for name in names}


def align_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Word labels moved onto tokens: the first piece of each word gets the word's label, the rest ``-100``."""
    return [word_labels[word] if word is not None else IGNORE_INDEX for word in _first_piece_words(word_ids)]


def first_piece_positions(word_ids: Sequence[int | None]) -> dict[int, int]:
    """The position of each word's first piece, by word index (words cut off by truncation are absent)."""
    return {word: position for position, word in enumerate(_first_piece_words(word_ids)) if word is not None}


def _first_piece_words(word_ids: Sequence[int | None]) -> list[int | None]:
    """``word_ids`` with every position that does not start a word set to ``None``."""
    starts: list[int | None] = []
    previous = None
    for word in word_ids:
        starts.append(word if word is not None and word != previous else None)
        previous = word
    return starts
