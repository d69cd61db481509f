"""The ``dependency-parsing`` pipeline: transformers' ``pipeline()`` for archit's parsers.

Importing ``archit`` registers the task with transformers' pipeline registry (as soon as
``transformers.pipelines`` is imported, so that ``import archit`` stays free of torch and transformers), after
which ``pipeline("dependency-parsing", model=...)`` takes a model directory saved by ``save_pretrained`` or by
``archit train`` (its ``model/`` directory), a hub id of one, or a loaded :class:`ForDependencyParsing`.

Sentences are encoded as in training: every word tokenised into at least one piece, the whole sentence at once
(no truncation), the model encoding sentences longer than its backbone takes in overlapping windows.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
from transformers import Pipeline, PreTrainedTokenizerBase

from archit.errors import DataError
from archit.modeling.parsing import MIN, head_mask
from archit.modeling.tasks.dependency_parsing import ForDependencyParsing
from archit.simple.data.tokenization import encode_words

__all__ = ["TASK", "DependencyParsingPipeline", "register_pipeline", "split_words"]

TASK = "dependency-parsing"
UNTRUNCATED = 1_000_000

WordSplitter = Callable[[str], Sequence[str]]

_WORD = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")


def split_words(text: str) -> list[str]:
    """The default rule for raw text: a word is a run of letters and digits, which may join further runs by an
    inner apostrophe or hyphen (``don't``, ``Türkiye'nin``, ``well-known``); every other character that is not
    white space is a word of its own (punctuation: ``"Hi!"`` gives ``["Hi", "!"]``).

    Pass ``word_splitter=`` to the pipeline for another rule (a treebank's tokenizer, ``str.split``...).
    """
    return _WORD.findall(text)


class DependencyParsingPipeline(Pipeline):
    """Dependency parsing of pre-split words or raw text with an archit :class:`ForDependencyParsing` model.

    Call it with one sentence (``list[str]`` of words, or a ``str`` of raw text split by ``word_splitter``), or
    with a batch: a list of word lists (``list[list[str]]``, raw texts among them allowed) or an iterator of
    sentences (``iter(texts)`` for raw texts alone, since a list of strings is one sentence's words).
    ``batch_size=`` pads and runs several sentences at once, with the same results.

    Returns, per sentence, one dict per word: ``id`` (1-based), ``word``, ``head`` (the head's id, 0 for the
    root), ``relation``, ``head_score`` (the probability of that head among the word's possible heads) and
    ``relation_score`` (the probability of that relation for that head). Heads form a tree, decoded by the
    model's own decoder (its head config's ``decoder``).

    Args:
        word_splitter: splits raw text into words; default :func:`split_words`. Also accepted per call.
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.model, ForDependencyParsing):
            raise DataError(
                f"The dependency-parsing pipeline needs an archit ForDependencyParsing model, found "
                f"{type(self.model).__name__}. Pass a model saved by `archit train --task dep_parsing` (its model/ "
                "directory) or by ForDependencyParsing.save_pretrained."
            )
        if self.tokenizer is None:
            raise DataError("The dependency-parsing pipeline needs the model's tokenizer; pass tokenizer=.")
        if self.tokenizer.padding_side != "right":
            # batches are padded as in training, on the right; the caller's tokenizer is left as it is
            self.tokenizer: PreTrainedTokenizerBase = copy.copy(self.tokenizer)
            self.tokenizer.padding_side = "right"

    def _sanitize_parameters(
        self, word_splitter: WordSplitter | None = None, **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Route the call's options; the pipeline takes ``word_splitter`` (and transformers' ``batch_size``,
        ``num_workers``).

        Raises:
            TypeError: any other option, which would otherwise be ignored silently.
        """
        if kwargs:
            raise TypeError(
                f"The dependency-parsing pipeline got unknown options {sorted(kwargs)}; it takes word_splitter, "
                "batch_size and num_workers."
            )
        preprocess_params = {} if word_splitter is None else {"word_splitter": word_splitter}
        return preprocess_params, {}, {}

    def __call__(self, inputs: str | Sequence[str] | Iterable[str | Sequence[str]], **kwargs: Any) -> Any:
        """Parse one sentence or a batch (see the class docstring).

        Raises:
            DataError: a sentence without words, or a word that is not a string.
        """
        if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(word, str) for word in inputs):
            return super().__call__([list(inputs)], **kwargs)[0]
        if isinstance(inputs, Iterator):
            # a batch given as an iterator, raw texts alone included; listed, as transformers would list it
            return super().__call__(list(inputs), **kwargs)
        return super().__call__(inputs, **kwargs)

    def preprocess(self, inputs: str | Sequence[str], word_splitter: WordSplitter = split_words) -> dict[str, Any]:
        words = list(word_splitter(inputs)) if isinstance(inputs, str) else list(inputs)
        if not words:
            raise DataError(f"Nothing to parse in {inputs!r}: a sentence needs at least one word.")
        if not all(isinstance(word, str) for word in words):
            raise DataError(
                f"A sentence is a list of words (str); found {[type(word).__name__ for word in words][:5]}. Pass one "
                "sentence as list[str] or raw text, a batch as a list of those."
            )
        encoding, word_ids, _ = encode_words(self.tokenizer, words, UNTRUNCATED)
        model_inputs = {key: torch.tensor([values]) for key, values in encoding.items()}
        # Shifted by one, so that the pipelines' padding value 0 means "no word" (the model's -1).
        model_inputs["word_positions"] = torch.tensor([[0 if word is None else word + 1 for word in word_ids]])
        model_inputs["n_words"] = torch.tensor([len(words)])
        return {"words": words, **model_inputs}

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        words, n_words = model_inputs.pop("words"), model_inputs.pop("n_words")
        word_ids = model_inputs.pop("word_positions") - 1
        outputs = self.model(**model_inputs, word_ids=word_ids)
        # [batch_size, n_words + 1]: true at the words 1..n of each sentence
        mask = torch.arange(outputs.arc_logits.shape[1], device=n_words.device).unsqueeze(0)
        mask = (mask > 0) & (mask <= n_words.unsqueeze(1))
        # [batch_size, n_words + 1, n_words + 1]: probability of head j for dependent i, over its possible heads
        arc_probs = outputs.arc_logits.masked_fill(~head_mask(mask.to(outputs.arc_logits.device)), MIN).softmax(-1)
        heads = outputs.arc_predictions
        # [batch_size, n_words]: the probability of each word's predicted head
        head_scores = arc_probs[:, 1:].gather(-1, heads.unsqueeze(-1)).squeeze(-1)
        # [batch_size, n_words, num_labels]: relation scores at each word's predicted head
        rel_at_head = outputs.rel_logits[:, 1:].gather(
            2, heads[..., None, None].expand(-1, -1, 1, outputs.rel_logits.shape[-1])
        )
        rel_scores = rel_at_head.squeeze(2).softmax(-1).gather(-1, outputs.rel_predictions.unsqueeze(-1)).squeeze(-1)
        return {
            "words": words,
            "n_words": n_words,
            "heads": heads,
            "relations": outputs.rel_predictions,
            "head_scores": head_scores,
            "relation_scores": rel_scores,
        }

    def postprocess(self, model_outputs: dict[str, Any]) -> list[dict[str, Any]]:
        words = model_outputs["words"]  # one sentence's: the pipelines unbatch lists by item
        id2label = self.model.config.id2label
        return [
            {
                "id": index + 1,
                "word": word,
                "head": int(model_outputs["heads"][0, index]),
                "relation": id2label[int(model_outputs["relations"][0, index])],
                "head_score": float(model_outputs["head_scores"][0, index]),
                "relation_score": float(model_outputs["relation_scores"][0, index]),
            }
            for index, word in enumerate(words)
        ]


def register_pipeline() -> None:
    """Register the ``dependency-parsing`` task with transformers' pipeline registry (again: a no-op)."""
    from transformers.pipelines import PIPELINE_REGISTRY

    if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
        PIPELINE_REGISTRY.register_pipeline(
            TASK, pipeline_class=DependencyParsingPipeline, pt_model=ForDependencyParsing, type="text"
        )
