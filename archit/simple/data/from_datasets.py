"""Task data from the ``datasets`` library: a ``Dataset`` or ``DatasetDict`` in Python, a directory written by
``save_to_disk``, or a dataset on the Hugging Face Hub.

Each split is written to a file in the task's own input format (in a temporary directory), which the task's
reader then reads, so that a dataset is checked exactly as a file is. Columns are read as follows, class-label
columns (``ClassLabel``) giving their label names:

========================================  ===========================================================================
task                                      columns
========================================  ===========================================================================
sequence and multi-label classification,  the run's ``text_column``, ``text_pair_column``, ``label_column`` (and
regression, multiple choice               ``choices_column``), as in JSON Lines files
token_classification                      ``tokens`` and the tags: ``label_column`` when the dataset has it, else
                                          ``ner_tags``, ``tags``, ``pos_tags`` or ``upos``
dep_parsing                               ``tokens``, ``head`` and ``deprel`` (and ``upos``), as in the Universal
                                          Dependencies datasets
extractive_qa, extractive_aqa             ``id``, ``question``, ``context`` and ``answers`` (``{"text": [...],
                                          "answer_start": [...]}``), as in SQuAD
masked_lm, causal_lm                      ``text_column``, one document per row
========================================  ===========================================================================
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archit.errors import DataError
from archit.simple.data.base import write_jsonl
from archit.simple.textfiles import create_text

if TYPE_CHECKING:
    from datasets import Dataset

    from archit.simple.config import RunConfiguration

__all__ = ["TAG_COLUMNS", "export_split", "load_splits"]

TAG_COLUMNS = ("ner_tags", "tags", "pos_tags", "upos")
"""Tag columns token classification looks for, in order, when the dataset has no ``label_column``."""


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise DataError(
            "Reading a dataset needs the datasets package, which is not installed: pip install 'archit[train]'."
        ) from None
    return datasets


def load_splits(source: Any, config_name: str | None = None, revision: str | None = None) -> Mapping[str, Dataset]:
    """The splits of a dataset, by name.

    Args:
        source: a ``DatasetDict``; a ``Dataset`` (its one split is ``"train"``); a directory written by
            ``save_to_disk`` (of either); or the Hugging Face Hub name of a dataset (read from the cache, fetched
            when missing unless ``HF_HUB_OFFLINE=1`` or ``HF_DATASETS_OFFLINE=1``).
        config_name: the hub dataset's configuration (``"en"``, ``"mrpc"``...).
        revision: the hub dataset's branch, tag or commit.

    Raises:
        DataError: ``source`` is none of these, or the hub dataset cannot be loaded.
    """
    datasets = _datasets()
    if isinstance(source, datasets.DatasetDict):
        return dict(source)
    if isinstance(source, datasets.Dataset):
        return {"train": source}
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(f"Expected a Dataset, a DatasetDict, a save_to_disk directory or a hub name; got {source!r}.")
    if os.path.isdir(source):
        loaded = datasets.load_from_disk(os.fspath(source))
        return dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
    try:
        return dict(datasets.load_dataset(os.fspath(source), config_name, revision=revision))
    except Exception as error:  # datasets raises many kinds (connection, missing config, offline cache miss)
        raise DataError(
            f"Cannot load dataset {source!r} (config {config_name!r}): {error}. Pass a save_to_disk directory, or "
            "a hub name that is cached or reachable (with --dataset-config for datasets that have several)."
        ) from None


def _label_names(split: Dataset, column: str) -> Callable[[Any], Any] | None:
    """A function giving a class-label column's names (lists of labels too), or ``None`` for other columns."""
    feature = split.features.get(column)
    inner = getattr(feature, "feature", None)  # Sequence(ClassLabel) / List(ClassLabel)
    if hasattr(feature, "int2str"):
        return lambda value: feature.int2str(value) if value is not None and value != -1 else None
    if inner is not None and hasattr(inner, "int2str"):
        return lambda values: [inner.int2str(value) for value in values]
    return None


def _named(split: Dataset, row: Mapping[str, Any], column: str) -> Any:
    names = _label_names(split, column)
    value = row.get(column)
    return names(value) if names is not None and value is not None else value


def _require_columns(split: Dataset, origin: str, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in split.column_names]
    if missing:
        raise DataError(
            f"{origin}: no column {missing[0]!r}; the dataset has {', '.join(map(repr, split.column_names))}. "
            "Name the right column in the run configuration."
        )


def _write_records(split: Dataset, config: RunConfiguration, path: str, origin: str) -> None:
    columns = [config.text_column, config.text_pair_column, config.label_column, config.choices_column]
    present = [column for column in columns if column and column in split.column_names]
    _require_columns(split, origin, [config.text_column])
    write_jsonl(path, [{column: _named(split, row, column) for column in present} for row in split])


def _write_tags(split: Dataset, config: RunConfiguration, path: str, origin: str) -> None:
    candidates = [config.label_column, *TAG_COLUMNS]
    tags = next((column for column in candidates if column in split.column_names), None)
    _require_columns(split, origin, ["tokens"])
    with create_text(path) as handle:
        for index, row in enumerate(split):
            words = row["tokens"]
            labels = _named(split, row, tags) if tags is not None else None
            for word, label in zip(words, labels or [None] * len(words), strict=True):
                if not word or any(character.isspace() for character in word):
                    raise DataError(f"{origin}, row {index}: the word {word!r} is empty or holds white space.")
                handle.write(f"{word} {label}\n" if label is not None else f"{word}\n")
            handle.write("\n")


def _write_trees(split: Dataset, config: RunConfiguration, path: str, origin: str) -> None:
    _require_columns(split, origin, ["tokens", "head", "deprel"])
    with create_text(path) as handle:
        for index, row in enumerate(split):
            upos = _named(split, row, "upos") if "upos" in split.column_names else ["_"] * len(row["tokens"])
            handle.write(f"# sent_id = {row.get('idx', index)}\n")
            for number, (form, tag, head, relation) in enumerate(
                zip(row["tokens"], upos, row["head"], row["deprel"], strict=True), start=1
            ):
                if str(head) == "None":  # multiword tokens in the UD datasets have no head
                    raise DataError(f"{origin}, row {index}: word {number} ({form!r}) has no head.")
                handle.write(f"{number}\t{form}\t_\t{tag}\t_\t_\t{head}\t{relation}\t_\t_\n")
            handle.write("\n")


def _write_squad(split: Dataset, config: RunConfiguration, path: str, origin: str) -> None:
    _require_columns(split, origin, ["id", "question", "context"])
    paragraphs = []
    for row in split:
        qa: dict[str, Any] = {"id": str(row["id"]), "question": row["question"]}
        if row.get("answers") is not None:
            answers = row["answers"]
            qa["answers"] = [
                {"text": text, "answer_start": start}
                for text, start in zip(answers["text"], answers["answer_start"], strict=True)
            ]
            qa["is_impossible"] = not qa["answers"]
        paragraphs.append({"context": row["context"], "qas": [qa]})
    with create_text(path) as handle:
        json.dump(
            {"version": "v2.0", "data": [{"title": origin, "paragraphs": paragraphs}]}, handle, ensure_ascii=False
        )


def _write_text(split: Dataset, config: RunConfiguration, path: str, origin: str) -> None:
    _require_columns(split, origin, [config.text_column])
    with create_text(path) as handle:
        for row in split:
            handle.write(" ".join(str(row[config.text_column]).split()) + "\n")


_WRITERS: dict[str, tuple[str, Callable[[Dataset, RunConfiguration, str, str], None]]] = {
    "sequence_classification": (".jsonl", _write_records),
    "multi_label_classification": (".jsonl", _write_records),
    "regression": (".jsonl", _write_records),
    "multiple_choice": (".jsonl", _write_records),
    "token_classification": (".txt", _write_tags),
    "dep_parsing": (".conllu", _write_trees),
    "extractive_qa": (".json", _write_squad),
    "extractive_aqa": (".json", _write_squad),
    "masked_lm": (".txt", _write_text),
    "causal_lm": (".txt", _write_text),
}


def export_split(split: Dataset, task: str, config: RunConfiguration, directory: str, name: str) -> str:
    """Write one split in the task's input format; returns the file's path.

    Args:
        split: the split.
        task: the archit task.
        config: the run configuration (column names).
        directory: where the file goes.
        name: the split's name (the file's stem, and the origin errors name).

    Raises:
        DataError: the task reads no datasets, a column is missing, or a row cannot be written in the format.
    """
    if task not in _WRITERS:
        raise DataError(f"Task {task!r} reads no datasets; tasks that do: {', '.join(sorted(_WRITERS))}.")
    suffix, writer = _WRITERS[task]
    path = os.path.join(directory, name + suffix)
    writer(split, config, path, f"dataset split {name!r}")
    return path
