"""Extractive question answering from SQuAD JSON (v1.1 and v2.0, with unanswerable questions).

A question and its context become one feature per window of the context (``max_seq_length`` tokens, windows
overlapping by ``doc_stride`` tokens). A window that does not hold the answer, and every window of an
unanswerable question, points both answer ends at position 0 (the classification token where the
tokenizer has one) and, for ``extractive_aqa``, is labelled unanswerable.

An answer is predicted as the best-scoring span of at most ``max_answer_length`` tokens over all windows;
``extractive_qa`` answers ``""`` when the score of position 0 beats it, ``extractive_aqa`` when no window's
answerability head gives "answerable" more than half the probability.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from archit.errors import DataError
from archit.simple.data.base import Example, Feature, TaskData, register_task_data, write_jsonl_lines
from archit.simple.data.collate import Collator
from archit.simple.metrics.squad import squad_scores
from archit.simple.textfiles import DEFAULT_ENCODING, open_text

if TYPE_CHECKING:
    import tokenizers  # a dependency of transformers, reached through the tokenizer's backend

__all__ = ["ExtractiveQAData", "read_squad"]

N_BEST = 20
# The fields of a backend ``Encoding`` behind the model inputs a pair call returns.
_ENCODING_FIELDS = {"input_ids": "ids", "token_type_ids": "type_ids", "attention_mask": "attention_mask"}


def _line_of(text: str, needle: str) -> int | None:
    position = text.find(needle)
    return text.count("\n", 0, position) + 1 if position >= 0 else None


def _where(path: str, raw: str, location: str, question_id: Any) -> str:
    line = _line_of(raw, json.dumps(str(question_id))) if question_id is not None else None
    return f"{path}, line {line} ({location})" if line else f"{path}, {location}"


def _answers(path: str, raw: str, location: str, qa: Mapping[str, Any], context: str) -> list[dict[str, Any]] | None:
    """The checked answers of one question; ``None`` when the question carries no gold answer at all."""
    if "answers" not in qa and "is_impossible" not in qa:
        return None
    answers = qa.get("answers") or []
    if qa.get("is_impossible"):
        return []
    for answer in answers:
        text, start = answer.get("text"), answer.get("answer_start")
        if not isinstance(text, str) or not isinstance(start, int):
            raise DataError(
                f"{_where(path, raw, location, qa.get('id'))}: each answer needs a string 'text' and an integer "
                f"'answer_start'; found {answer!r}."
            )
        if context[start : start + len(text)] != text:
            raise DataError(
                f"{_where(path, raw, location, qa.get('id'))}: answer {text!r} does not occur at character "
                f"{start} of its context (found {context[start : start + len(text)]!r})."
            )
    if not answers:
        raise DataError(
            f"{_where(path, raw, location, qa.get('id'))}: no answers, and 'is_impossible' is not true; mark "
            'unanswerable questions with "is_impossible": true.'
        )
    return list(answers)


def read_squad(path: str, encoding: str = DEFAULT_ENCODING) -> list[Example]:
    """Questions of a SQuAD JSON file: ``{"line", "id", "question", "context", "answers"}``.

    ``answers`` is a list of ``{"text", "answer_start"}`` (empty for unanswerable questions) and is absent
    when the file gives none (data to predict).

    Raises:
        DataError: the file is missing, not valid in ``encoding``, not JSON, lacks the SQuAD structure, or an
            answer is not where it says.
    """
    with open_text(path, encoding) as handle:
        raw = handle.read()
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}, line {error.lineno}: not valid JSON ({error.msg}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise DataError(f"{path}: expected SQuAD JSON, an object with a 'data' list of articles.")
    examples = []
    for a, article in enumerate(document["data"]):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            context = paragraph.get("context")
            if not isinstance(context, str) or not context.strip():
                raise DataError(f"{path}, data[{a}].paragraphs[{p}]: no 'context' text.")
            for q, qa in enumerate(paragraph.get("qas", [])):
                location = f"data[{a}].paragraphs[{p}].qas[{q}]"
                if not isinstance(qa.get("question"), str) or not qa["question"].strip() or "id" not in qa:
                    raise DataError(f"{_where(path, raw, location, qa.get('id'))}: needs an 'id' and a 'question'.")
                example: Example = {
                    "line": _line_of(raw, json.dumps(str(qa["id"]))) or 0,
                    "id": str(qa["id"]),
                    "question": qa["question"].strip(),
                    "context": context,
                }
                answers = _answers(path, raw, location, qa, context)
                if answers is not None:
                    example["answers"] = answers
                examples.append(example)
    if not examples:
        raise DataError(f"{path}: the file holds no questions.")
    return examples


@register_task_data
class ExtractiveQAData(TaskData):
    """Data of ``extractive_qa`` and ``extractive_aqa`` (which adds an answerability label)."""

    tasks = ("extractive_qa", "extractive_aqa")
    formats = "SQuAD JSON (v1.1 or v2.0 with is_impossible)"
    metrics = {"extractive_qa": "SQuAD exact match and F1", "extractive_aqa": "SQuAD exact match and F1"}

    @property
    def output_names(self) -> tuple[str, ...]:
        names = ("start_logits", "end_logits")
        return (*names, "answerability_logits") if self.task == "extractive_aqa" else names

    def read(self, path: str) -> list[Example]:
        return read_squad(path, self.config.encoding)

    def featurize(self, examples: Sequence[Example], training: bool = False) -> list[Feature]:
        if not self.tokenizer.is_fast:
            raise DataError(
                f"Extractive QA maps answers to characters through a fast tokenizer's offsets; "
                f"{type(self.tokenizer).__name__} is a Python tokenizer. Use a checkpoint with a tokenizer.json."
            )
        # The question and the context are tokenised once each, then the context is cut into windows and each is
        # joined to the question, as a pair call does it. A pair call could not be checked beforehand without
        # tokenising the question twice, and the backend panics when a question leaves no room.
        tokenize, join = self._backends
        questions = tokenize.encode_batch([example["question"] for example in examples], add_special_tokens=False)
        # Each context is the second text of a pair after an empty first one, as in a pair call: its tokens, and
        # so every window's, carry the second text's token type.
        contexts = tokenize.encode_batch([("", example["context"]) for example in examples], add_special_tokens=False)
        special = self.tokenizer.num_special_tokens_to_add(pair=True)
        names = [name for name in self.tokenizer.model_input_names if name in _ENCODING_FIELDS]
        features = []
        for example_index, (example, question, context) in enumerate(zip(examples, questions, contexts, strict=True)):
            room = self.config.max_seq_length - special - len(question)  # context tokens a window holds
            self._check_room(example, len(question), room)
            if len(context) > room:
                context.truncate(room, stride=self.config.doc_stride, direction=self.tokenizer.truncation_side)
            pair = join.post_process(question, context, add_special_tokens=True)
            for window in [pair, *pair.overflowing]:
                offsets = [
                    offset if sequence_id == 1 else None
                    for offset, sequence_id in zip(window.offsets, window.sequence_ids, strict=True)
                ]
                feature: Feature = {name: list(getattr(window, _ENCODING_FIELDS[name])) for name in names}
                feature.update(example_index=example_index, offsets=offsets)
                if "answers" in example:
                    feature.update(self._positions(feature["input_ids"], offsets, example["answers"]))
                features.append(feature)
        return features

    @functools.cached_property
    def _backends(self) -> tuple[tokenizers.Tokenizer, tokenizers.Tokenizer]:
        """Two copies of the backend tokenizer, without the truncation or padding a tokenizer.json may carry: one
        that only tokenises (its post-processor would trim RoBERTa's offsets a second time when joining), and one
        that joins a question to a window of its context, adding the special tokens."""
        backend = self.tokenizer.backend_tokenizer
        join = type(backend).from_str(backend.to_str())
        join.no_truncation()
        join.no_padding()
        join.encode_special_tokens = self.tokenizer.split_special_tokens
        tokenize = type(backend).from_str(join.to_str())
        tokenize.post_processor = None
        return tokenize, join

    def _check_room(self, example: Example, question_length: int, room: int) -> None:
        """Raise a :class:`DataError` for a question that leaves no more than ``doc_stride`` context tokens."""
        if room <= self.config.doc_stride:
            raise DataError(
                f"Question {example['id']!r} (line {example['line']}) takes {question_length} of max_seq_length "
                f"{self.config.max_seq_length} tokens, leaving {room} for the context, which must exceed "
                f"doc_stride ({self.config.doc_stride}); raise max_seq_length or lower doc_stride."
            )

    def _null_position(self, input_ids: Sequence[int]) -> int:
        cls = self.tokenizer.cls_token_id
        return input_ids.index(cls) if cls is not None and cls in input_ids else 0

    def _positions(
        self, input_ids: Sequence[int], offsets: Sequence[tuple[int, int] | None], answers: Sequence[Mapping]
    ) -> dict[str, int]:
        null = self._null_position(input_ids)
        labels = {"start_positions": null, "end_positions": null}
        if self.task == "extractive_aqa":
            labels["answerable"] = 0
        if not answers:
            return labels
        first, last = answers[0]["answer_start"], answers[0]["answer_start"] + len(answers[0]["text"])
        context = [(i, offset) for i, offset in enumerate(offsets) if offset is not None]
        if not context or context[0][1][0] > first or context[-1][1][1] < last:
            return labels  # the answer is not in this window
        start = next(i for i, (_, offset_end) in context if offset_end > first)
        end = next(i for i, (offset_start, _) in reversed(context) if offset_start < last)
        labels.update(start_positions=start, end_positions=max(start, end))
        if self.task == "extractive_aqa":
            labels["answerable"] = 1
        return labels

    def collator(self, training: bool = False) -> Collator:
        return Collator(self.tokenizer, side="right")  # answer positions are counted from the left

    def decode(
        self, outputs: Mapping[str, np.ndarray], features: Sequence[Feature], examples: Sequence[Example]
    ) -> list[str]:
        best: dict[int, tuple[float, str]] = {}
        null: dict[int, float] = {}
        answerable: dict[int, float] = {}
        for index, feature in enumerate(features):
            example_index = feature["example_index"]
            starts, ends = outputs["start_logits"][index], outputs["end_logits"][index]
            position = self._null_position(feature["input_ids"])
            null[example_index] = min(null.get(example_index, np.inf), float(starts[position] + ends[position]))
            score, text = self._best_span(starts, ends, feature["offsets"], examples[example_index]["context"])
            if score > best.get(example_index, (-np.inf, ""))[0]:
                best[example_index] = (score, text)
            if "answerability_logits" in outputs:
                logits = np.asarray(outputs["answerability_logits"][index], dtype=np.float64)
                probability = float(np.exp(logits[1] - np.logaddexp(logits[0], logits[1])))
                answerable[example_index] = max(answerable.get(example_index, 0.0), probability)
        predictions = []
        for example_index in range(len(examples)):
            score, text = best.get(example_index, (-np.inf, ""))
            if self.task == "extractive_aqa":
                predictions.append(text if answerable.get(example_index, 0.0) > 0.5 else "")
            else:
                predictions.append(text if score > null.get(example_index, -np.inf) else "")
        return predictions

    def _best_span(
        self, starts: np.ndarray, ends: np.ndarray, offsets: Sequence[tuple[int, int] | None], context: str
    ) -> tuple[float, str]:
        """The best span of one window: ``(start logit + end logit, text)``; ``(-inf, "")`` if none fits."""
        length = len(offsets)
        candidates = [i for i in np.argsort(starts[:length])[::-1][:N_BEST] if offsets[i] is not None]
        ends_by_score = [i for i in np.argsort(ends[:length])[::-1][:N_BEST] if offsets[i] is not None]
        best = (-np.inf, "")
        for start in candidates:
            for end in ends_by_score:
                if start <= end < start + self.config.max_answer_length:
                    score = float(starts[start] + ends[end])
                    if score > best[0]:
                        best = (score, context[offsets[start][0] : offsets[end][1]])
        return best

    def score(self, predictions: Sequence[str], examples: Sequence[Example]) -> dict[str, float]:
        gold = {e["id"]: [a["text"] for a in e["answers"]] for e in examples if "answers" in e}
        if not gold:
            return {}
        return squad_scores({e["id"]: p for p, e in zip(predictions, examples, strict=True)}, gold)

    def write_predictions_to(self, handle: TextIO, predictions: Sequence[str], examples: Sequence[Example]) -> None:
        records = []
        for prediction, example in zip(predictions, examples, strict=True):
            record = {"id": example["id"], "question": example["question"], "prediction": prediction}
            if "answers" in example:
                record["answers"] = [answer["text"] for answer in example["answers"]]
            records.append(record)
        write_jsonl_lines(handle, records)

    @property
    def main_metric(self) -> str:
        return "f1"
