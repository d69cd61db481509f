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
