"""Language-modelling data: token blocks from raw text, and transformers' own collators.

The collators are :class:`transformers.DataCollatorForLanguageModeling`, not a rewrite: for masked LM it picks
``mlm_probability`` of the tokens, replaces 80% of them with the mask token, 10% with a random token and keeps
10%, and never picks a special token (``[CLS]``, ``[SEP]``, padding); for causal LM the labels are the input ids
with padding set to -100 (the model shifts them).
"""

from __future__ import annotations

from collections.abc import Iterable

from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerBase

from archit.errors import DataError

__all__ = ["language_modeling_collator", "text_blocks"]

OBJECTIVES = ("causal_lm", "masked_lm")


def language_modeling_collator(
    tokenizer: PreTrainedTokenizerBase,
    objective: str = "causal_lm",
    mlm_probability: float = 0.15,
    pad_to_multiple_of: int | None = None,
    seed: int | None = None,
) -> DataCollatorForLanguageModeling:
    """transformers' collator for ``objective``.

    Args:
        tokenizer: pads the batch; for masked LM it must have a mask token.
        objective: ``"causal_lm"`` or ``"masked_lm"``.
        mlm_probability: share of the tokens masked LM predicts.
        pad_to_multiple_of: pad each batch to a multiple of this length.
        seed: seed of the masking (transformers 4.57 and later), for reproducible batches.

    Returns:
        A collator: list of ``{"input_ids": [...]}`` → ``input_ids``, ``attention_mask``, ``labels`` tensors.

    Raises:
        DataError: an unknown objective, or masked LM with a tokenizer that has no mask token.
    """
    objective = getattr(objective, "value", objective)
    if objective not in OBJECTIVES:
        raise DataError(f"Unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}.")
    masked = objective == "masked_lm"
    if masked and tokenizer.mask_token is None:
        raise DataError(
            f"Masked LM needs a tokenizer with a mask token; {type(tokenizer).__name__} has none. Train one with "
            "archit.simple.pretraining.train_tokenizer(texts, objective='masked_lm')."
        )
    options = {"seed": seed} if seed is not None else {}
    return DataCollatorForLanguageModeling(
        tokenizer,
        mlm=masked,
        mlm_probability=mlm_probability if masked else 0.15,
        pad_to_multiple_of=pad_to_multiple_of,
        return_tensors="pt",
        **options,
    )


def text_blocks(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, block_size: int = 128
) -> list[dict[str, list[int]]]:
    """Tokenise ``texts``, join them and cut the stream into blocks, each with the tokenizer's special tokens.

    Args:
        texts: documents or lines.
        tokenizer: adds its special tokens (``<s>`` or ``[CLS]``/``[SEP]``) around each block.
        block_size: tokens per block, special tokens included; the last block may be shorter.

    Returns:
        One ``{"input_ids": [...]}`` per block, ready for :func:`language_modeling_collator`.

    Raises:
        DataError: ``block_size`` leaves no room next to the special tokens.
    """
    prefix, suffix = _special_affixes(tokenizer)
    room = block_size - len(prefix) - len(suffix)
    if room < 1:
        raise DataError(f"block_size ({block_size}) leaves no room for tokens next to the special tokens.")
    stream = [token for text in texts for token in tokenizer(text, add_special_tokens=False)["input_ids"]]
    return [{"input_ids": prefix + stream[start : start + room] + suffix} for start in range(0, len(stream), room)]


def _special_affixes(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a single sequence (``[<s>]``, ``[]``; ``[[CLS]]``, ``[[SEP]]``)."""
    probe = "a"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return full[:start], full[start + len(bare) :]
    return [], []
