"""Readers of record files: CSV, TSV and JSON Lines, each record with the line it starts on."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from typing import Any

from archit.errors import DataError
from archit.simple.data.base import iter_lines

__all__ = ["read_jsonl", "read_records", "require"]

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")


def read_jsonl(path: str) -> list[tuple[int, dict[str, Any]]]:
    """``(line, object)`` for each non-blank line of a JSON Lines file.

    Raises:
        DataError: a line is not valid JSON or not a JSON object.
    """
    records = []
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}, line {number}: not valid JSON ({error.msg} at column {error.colno}).") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}, line {number}: expected a JSON object, found {type(record).__name__}.")
        records.append((number, record))
    return records


def _read_table(path: str, delimiter: str) -> list[tuple[int, dict[str, Any]]]:
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such data file.")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    records = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
        try:
            header = next(reader, None)
            if not header:
                raise DataError(f"{path}, line 1: expected a header row naming the columns, found an empty file.")
            start = reader.line_num + 1
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    if len(row) != len(header):
                        raise DataError(
                            f"{path}, line {start}: {len(row)} fields where the header has {len(header)} "
                            f"({', '.join(header)})."
                        )
                    records.append((start, dict(zip(header, row, strict=True))))
                start = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as error:
            raise DataError(f"{path}, line {reader.line_num}: cannot read the table ({error}).") from None
    return records


def read_records(path: str) -> list[tuple[int, dict[str, Any]]]:
    """``(line, record)`` for each record of a ``.csv``, ``.tsv`` (header row first) or JSON Lines file.

    Raises:
        DataError: the file is missing, has an unknown extension, or a record is malformed; or it holds no
            records at all.
    """
    suffix = os.path.splitext(path)[1].lower()
    if suffix in TABLE_SUFFIXES:
        records = _read_table(path, TABLE_SUFFIXES[suffix])
    elif suffix in JSONL_SUFFIXES:
        records = read_jsonl(path)
    else:
        raise DataError(
            f"{path}: unknown file type {suffix or '(no extension)'!r}; expected one of "
            f"{', '.join([*TABLE_SUFFIXES, *JSONL_SUFFIXES])}."
        )
    if not records:
        raise DataError(f"{path}: the file holds no examples.")
    return records


def require(path: str, line: int, record: Mapping[str, Any], column: str) -> Any:
    """The value of ``column`` in a record.

    Raises:
        DataError: the record has no such column (or it is empty); the message lists the columns it has.
    """
    value = record.get(column)
    if value is None or value == "":
        raise DataError(
            f"{path}, line {line}: no value in column {column!r}; the record has {', '.join(map(repr, record))}. "
            "Name the right column in the run configuration."
        )
    return value
