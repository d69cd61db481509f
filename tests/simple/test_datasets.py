"""Task data from ``datasets``: every task reads a dataset split as it reads the same data from a file."""

from __future__ import annotations

import csv
import io
import json

import datasets
import pytest

from archit.errors import DataError
from archit.simple.config import RunConfiguration
from archit.simple.data import get_task_data
from archit.simple.data.from_datasets import export_split, load_splits
from archit.simple.formats.conllu import read_conllu
from tests.simple.tasks import CHOICE, CLASSIFICATION, FIXTURES, MULTI_LABEL, NER, REGRESSION, SQUAD, TEXT


def _ner_rows() -> list[dict]:
    rows = []
    for block in NER.replace("-DOCSTART- O\n\n", "").strip().split("\n\n"):
        pairs = [line.split() for line in block.splitlines()]
        rows.append({"tokens": [word for word, _ in pairs], "ner_tags": [tag for _, tag in pairs]})
    return rows


def _tree_rows() -> list[dict]:
    return [
        {"tokens": s.forms, "upos": s.upos, "head": [str(h) for h in s.heads], "deprel": s.deprels}
        for s in read_conllu(FIXTURES / "en_tiny.conllu")
    ]


def _squad_rows() -> list[dict]:
    paragraph = SQUAD["data"][0]["paragraphs"][0]
    return [
        {
            "id": qa["id"],
            "question": qa["question"],
            "context": paragraph["context"],
            "answers": {
                "text": [a["text"] for a in qa["answers"]],
                "answer_start": [a["answer_start"] for a in qa["answers"]],
            },
        }
        for qa in paragraph["qas"]
    ]


def _dataset(task: str) -> tuple[datasets.Dataset, str, str]:
    """A dataset of the task's test data, the same data as a file, and the file's name."""
    if task in ("sequence_classification", "multi_label_classification"):
        text, name = (CLASSIFICATION, "data.csv") if task == "sequence_classification" else (MULTI_LABEL, "data.tsv")
        rows = list(csv.DictReader(io.StringIO(text), delimiter="," if name.endswith("csv") else "\t"))
        if task == "multi_label_classification":
            rows = [{**row, "label": row["label"].split(",")} for row in rows]
            return datasets.Dataset.from_list(rows), text, name
        names = sorted({row["label"] for row in rows})
        features = datasets.Features(
            {
                "text": datasets.Value("string"),
                "text_pair": datasets.Value("string"),
                "label": datasets.ClassLabel(names=names),
            }
        )
        return datasets.Dataset.from_list(rows, features=features), text, name
    if task in ("regression", "multiple_choice"):
        text = REGRESSION if task == "regression" else CHOICE
        return datasets.Dataset.from_list([json.loads(line) for line in text.splitlines()]), text, "data.jsonl"
    if task == "token_classification":
        rows = _ner_rows()
        names = sorted({tag for row in rows for tag in row["ner_tags"]})
        features = datasets.Features(
            {
                "tokens": datasets.Sequence(datasets.Value("string")),
                "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
            }
        )
        return datasets.Dataset.from_list(rows, features=features), NER, "ner.txt"
    if task == "dep_parsing":
        text = (FIXTURES / "en_tiny.conllu").read_text(encoding="utf-8")
        return datasets.Dataset.from_list(_tree_rows()), text, "trees.conllu"
    if task == "extractive_qa":
        return datasets.Dataset.from_list(_squad_rows()), json.dumps(SQUAD), "squad.json"
    documents = [{"text": line} for line in TEXT.splitlines() if line.strip()]
    return datasets.Dataset.from_list(documents), TEXT, "text.txt"


def _comparable(task: str, example: dict) -> dict:
    """An example without what says where it came from (its line; the CoNLL-U lines of a tree)."""
    kept = {key: value for key, value in example.items() if key not in ("line", "sentence")}
    if "sentence" in example:
        sentence = example["sentence"]
        kept.update(forms=sentence.forms, heads=sentence.heads, deprels=sentence.deprels, upos=sentence.upos)
    return kept


TASKS = [
    "sequence_classification",
    "multi_label_classification",
    "regression",
    "multiple_choice",
    "token_classification",
    "dep_parsing",
    "extractive_qa",
    "masked_lm",
]


@pytest.mark.parametrize("task", TASKS)
def test_a_dataset_reads_as_the_same_data_in_a_file(tmp_path, tokenizers, task) -> None:
    dataset, text, name = _dataset(task)
    config = RunConfiguration(task=task, model_name_or_path="unused")
    data = get_task_data(task, config, tokenizers["wordpiece"])
    (tmp_path / name).write_text(text, encoding="utf-8")
    from_file = data.read(str(tmp_path / name))
    from_dataset = data.read(export_split(dataset, task, config, str(tmp_path), "train"))
    assert [_comparable(task, e) for e in from_dataset] == [_comparable(task, e) for e in from_file]
    assert len(from_dataset) == len(dataset) or task == "extractive_qa"


def test_splits_come_from_a_dataset_dict_a_dataset_or_a_saved_directory(tmp_path) -> None:
    train = datasets.Dataset.from_list([{"text": "a", "label": "x"}])
    splits = datasets.DatasetDict({"train": train, "validation": train})
    assert set(load_splits(splits)) == {"train", "validation"}
    assert set(load_splits(train)) == {"train"}
    splits.save_to_disk(str(tmp_path / "saved"))
    assert load_splits(str(tmp_path / "saved"))["validation"]["text"] == ["a"]


def test_missing_columns_and_unreadable_sources_say_what_there_is(tmp_path) -> None:
    config = RunConfiguration(task="sequence_classification", model_name_or_path="unused")
    dataset = datasets.Dataset.from_list([{"sentence": "a", "label": 0}])
    with pytest.raises(DataError, match="no column 'text'; the dataset has 'sentence', 'label'"):
        export_split(dataset, "sequence_classification", config, str(tmp_path), "train")
    with pytest.raises(DataError, match="Expected a Dataset, a DatasetDict"):
        load_splits(3)
