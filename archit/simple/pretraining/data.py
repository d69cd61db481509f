"""Language-modelling data: token blocks from raw text, and transformers' own collator.

The blocks are cut by :func:`archit.simple.data.tokenization.cut_blocks` and the collator is
:class:`~archit.simple.data.language_modeling.LanguageModelingCollator`, the same pair the ``masked_lm`` and
``causal_lm`` runs of :mod:`archit.simple` use. It is transformers' ``DataCollatorForLanguageModeling``, not a
rewrite: for masked LM it picks ``mlm_probability`` of the tokens, replaces 80% of them with the mask token,
10% with a random token and keeps 10%, and never picks a special token (``[CLS]``, ``[SEP]``, padding); with a
seed, each block's masks depend on the seed, the epoch and the block alone. For causal LM the labels are the
input ids with padding set to -100 (the model shifts them).
"""

from __future__ import annotations

from collections.abc import Iterable

from transformers import PreTrainedTokenizerBase

from archit.errors import DataError
from archit.simple.data.language_modeling import LanguageModelingCollator
from archit.simple.data.tokenization import cut_blocks

__all__ = ["language_modeling_collator", "text_blocks"]

OBJECTIVES = ("causal_lm", "masked_lm")


def language_modeling_collator(
    tokenizer: PreTrainedTokenizerBase,
    objective: str = "causal_lm",
    mlm_probability: float = 0.15,
    pad_to_multiple_of: int | None = None,
    seed: int | None = None,
) -> LanguageModelingCollator:
    """transformers' collator for ``objective``.

    Args:
        tokenizer: pads the batch; for masked LM it must have a mask token.
        objective: ``"causal_lm"`` or ``"masked_lm"``.
        mlm_probability: share of the tokens masked LM predicts.
        pad_to_multiple_of: pad each batch to a multiple of this length.
        seed: seed of the masking, for reproducible batches: blocks from :func:`text_blocks` are masked from the
            seed, the epoch (``set_epoch``) and their ``block_index`` alone.

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
    return LanguageModelingCollator(
        tokenizer,
        mlm=masked,
        mlm_probability=mlm_probability if masked else 0.15,
        pad_to_multiple_of=pad_to_multiple_of,
        return_tensors="pt",
        seed=seed,
    )


def text_blocks(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, block_size: int = 128
) -> list[dict[str, list[int]]]:
    """Tokenise ``texts``, join them and cut the stream into blocks, each with the tokenizer's special tokens:
    :func:`~archit.simple.data.tokenization.cut_blocks` with ``join=True``.

    Args:
        texts: documents or lines.
        tokenizer: adds its special tokens (``<s>`` or ``[CLS]``/``[SEP]``) around each block.
        block_size: tokens per block, special tokens included; the last block may be shorter.

    Returns:
        One ``{"input_ids", "special_tokens_mask", "block_index"}`` per block, ready for
        :func:`language_modeling_collator`.

    Raises:
        DataError: ``block_size`` leaves no room next to the special tokens.
    """
    return cut_blocks(tokenizer, texts, block_size, join=True)
