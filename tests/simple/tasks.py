"""Tiny data files of every task, for the end-to-end runscript tests and the two-process test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures"

NER = """-DOCSTART- O

John B-PER
Smith I-PER
works O
for O
Acme B-ORG
in O
Paris B-LOC

the O
cat O
sat O
in O
New B-LOC
York I-LOC
"""

CLASSIFICATION = (
    "text,text_pair,label\nthe cat sat,a dog ran,same\nNew York,the mat,different\nParis is big,a big city,same\n"
)
MULTI_LABEL = "text\tlabel\nthe cat sat\tanimal,home\na dog ran in the park\tanimal\nNew York is a big city\tplace\n"
REGRESSION = (
    '{"text": "the cat sat", "label": 0.5}\n{"text": "a dog ran", "label": 1.5}\n{"text": "New York", "label": 3}\n'
)
CHOICE = (
    '{"text": "the cat", "choices": ["sat on the mat", "is a city"], "label": 0}\n'
    '{"text": "New York", "choices": ["ran in the park", "is a big city"], "label": 1}\n'
)
TEXT = "the cat sat on the mat\na dog ran in the park\n\nNew York is a big city and Paris is big\n"
SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "t",
            "paragraphs": [
                {
                    "context": "John Smith works for Acme in Paris. The cat sat on the mat.",
                    "qas": [
                        {"id": "q1", "question": "Where is Acme?", "answers": [{"text": "Paris", "answer_start": 29}]},
                        {"id": "q2", "question": "Who owns the dog?", "answers": [], "is_impossible": True},
                        {
                            "id": "q3",
                            "question": "Where did the cat sit?",
                            "answers": [{"text": "the mat", "answer_start": 51}],
                        },
                    ],
                }
            ],
        }
    ],
}

# task name, checkpoint kind, data file name, its text (None: the CoNLL-U fixture), main metric, predictions suffix
TASK_CASES: list[tuple[str, str, str, Any, str, str]] = [
    ("token_classification", "roberta", "ner.txt", NER, "f1", ".jsonl"),
    ("token_classification", "bert", "tags.conllu", None, "accuracy", ".conllu"),
    ("sequence_classification", "bert", "pairs.csv", CLASSIFICATION, "accuracy", ".jsonl"),
    ("multi_label_classification", "bert", "multi.tsv", MULTI_LABEL, "macro_f1", ".jsonl"),
    ("regression", "gpt2", "scores.jsonl", REGRESSION, "pearson", ".jsonl"),  # a left-padding family
    ("extractive_qa", "bert", "squad.json", SQUAD, "f1", ".jsonl"),
    ("extractive_aqa", "roberta", "squad.json", SQUAD, "f1", ".jsonl"),
    ("multiple_choice", "bert", "choice.jsonl", CHOICE, "accuracy", ".jsonl"),
    ("masked_lm", "bert", "text.txt", TEXT, "perplexity", ".jsonl"),
    ("causal_lm", "gpt2", "text.txt", TEXT, "perplexity", ".jsonl"),
    ("dep_parsing", "bert", "trees.conllu", None, "las", ".conllu"),
]


def write_task_data(directory: Path, name: str, content: Any) -> str:
    """Write one task's data file (``None``: copy the English CoNLL-U fixture) and return its path."""
    path = directory / name
    if content is None:
        content = (FIXTURES / "en_tiny.conllu").read_text(encoding="utf-8")
    elif not isinstance(content, str):
        content = json.dumps(content, indent=1)
    path.write_text(content, encoding="utf-8")
    return str(path)


NER_EIGHT = "\n".join(
    [
        "John B-PER\nSmith I-PER\nworks O\nfor O\nAcme B-ORG\nin O\nParis B-LOC",
        "the O\ncat O\nsat O",
        "a O\ndog O\nran O\nin O\nthe O\npark O\nin O\nNew B-LOC\nYork I-LOC",
        "Ankara B-LOC",
        "Mary B-PER\nruns O",
        "is O\nthe O\nmovie O\ngood O\nor O\nbad O",
        "Acme B-ORG\nis O\nbig O",
        "New B-LOC\nYork I-LOC\nis O\na O\nbig O\ncity O\nand O\nParis B-LOC\nis O\nbig O",
    ]
)
_TEXTS = [
    "the cat sat on the mat",
    "a dog ran",
    "New York is a big city and Paris is big",
    "is the movie good",
    "Ankara",
    "John Smith works for Acme in Paris",
    "the park",
    "a big city",
]


def _records(labels: list) -> str:
    return "".join(
        json.dumps({"text": text, "label": label}) + "\n" for text, label in zip(_TEXTS, labels, strict=True)
    )


_SQUAD_QUESTIONS = [
    ("Where is Acme?", "Paris"),
    ("Who works for Acme?", "John Smith"),
    ("Where did the cat sit?", "the mat"),
    ("Who owns the dog?", None),
    ("What sat on the mat?", "The cat"),
    ("What is big?", None),
    ("Where does John work?", "Acme"),
    ("In which city is Acme?", "Paris"),
]
_CONTEXT = "John Smith works for Acme in Paris. The cat sat on the mat."

# task -> (checkpoint kind, data file name, its text (None: the CoNLL-U fixture, read with max_train_samples=8))
EIGHT_EXAMPLES: dict[str, tuple[str, str, Any]] = {
    "token_classification": ("bert", "ner.txt", NER_EIGHT),
    "sequence_classification": ("bert", "labels.jsonl", _records(["a", "b", "a", "c", "b", "a", "a", "c"])),
    "multi_label_classification": (
        "bert",
        "labels.jsonl",
        _records([["x"], ["x", "y"], ["y"], ["z"], ["x", "z"], ["y"], ["x", "y", "z"], ["z"]]),
    ),
    "regression": ("bert", "scores.jsonl", _records([0.5, 1.5, 3.0, -1.0, 2.0, 0.0, 4.5, 1.0])),
    "extractive_qa": ("bert", "squad.json", None),
    "extractive_aqa": ("bert", "squad.json", None),
    "multiple_choice": (
        "bert",
        "choice.jsonl",
        "".join(
            json.dumps({"text": text, "choices": [other, text.split()[-1]], "label": index % 2}) + "\n"
            for index, (text, other) in enumerate(zip(_TEXTS, reversed(_TEXTS), strict=True))
        ),
    ),
    "masked_lm": ("bert", "text.txt", "\n".join(_TEXTS) + "\n"),
    "causal_lm": ("gpt2", "text.txt", "\n".join(_TEXTS) + "\n"),
    "dep_parsing": ("bert", "trees.conllu", None),
}
"""Eight training examples of every task, of different lengths, for runs compared number for number."""


def squad_eight() -> dict[str, Any]:
    """SQuAD v2.0 with the eight questions of :data:`EIGHT_EXAMPLES` (two without an answer)."""
    questions = []
    for index, (question, answer) in enumerate(_SQUAD_QUESTIONS):
        answers = [] if answer is None else [{"text": answer, "answer_start": _CONTEXT.index(answer)}]
        questions.append({"id": f"q{index}", "question": question, "answers": answers, "is_impossible": not answers})
    return {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": _CONTEXT, "qas": questions}]}]}


def write_eight_examples(directory: Path, task: str) -> str:
    """Write the eight examples of ``task`` and return the file's path."""
    _, name, content = EIGHT_EXAMPLES[task]
    if task in ("extractive_qa", "extractive_aqa"):
        content = squad_eight()
    return write_task_data(directory, name, content)
