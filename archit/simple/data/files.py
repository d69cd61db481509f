"""Readers of record files: CSV, TSV and JSON Lines, each record with the line it starts on.

Files are read through :func:`archit.simple.textfiles.open_text`: UTF-8 with or without a byte-order mark (or the
``encoding`` given), CRLF or LF line ends in any mix. CSV is read as spreadsheets write it (RFC 4180): a field in
double quotes may hold the delimiter, line breaks and doubled quotes. TSV fields are taken literally, quotes
included, as in the TSV files of NLP data sets (GLUE, SNLI). The delimiter follows the extension unless given.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from archit.errors import DataError
from archit.simple.textfiles import DEFAULT_ENCODING, iter_lines, open_text

__all__ = ["iter_jsonl", "iter_records", "read_jsonl", "read_records", "require"]

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
DELIMITER_NAMES = {",": "a comma", "\t": "a tab", ";": "a semicolon", "|": "a vertical bar"}
"""The delimiters a header row is checked for, by name."""
DELIMITER_OPTIONS = {",": "','", "\t": "tab", ";": "';'", "|": "'|'"}
"""How each delimiter is passed to ``--delimiter``."""


def read_jsonl(path: str, encoding: str = DEFAULT_ENCODING) -> list[tuple[int, dict[str, Any]]]:
    """``(line, object)`` for each non-blank line of a JSON Lines file.

    Raises:
        DataError: the file is missing or not valid in ``encoding``; a line is not valid JSON or not a JSON object.
    """
    return list(iter_jsonl(path, encoding))


def iter_jsonl(path: str, encoding: str = DEFAULT_ENCODING) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`read_jsonl` one record at a time.

    Raises:
        DataError: as :func:`read_jsonl`, when the record at fault is reached.
    """
    for number, line in iter_lines(path, encoding):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}, line {number}: not valid JSON ({error.msg} at column {error.colno}).") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}, line {number}: expected a JSON object, found {type(record).__name__}.")
        yield number, record


def _check_header(path: str, header: list[str], delimiter: str) -> None:
    """Raise if the header row reads as one column that holds another delimiter: the wrong delimiter."""
    if len(header) != 1:
        return
    found = next((other for other in DELIMITER_NAMES if other != delimiter and other in header[0]), None)
    if found is not None:
        raise DataError(
            f"{path}, line 1: the header row reads as one column, {header[0]!r}, which holds "
            f"{DELIMITER_NAMES[found]}: the file is separated by {DELIMITER_NAMES[found]}, not by "
            f"{DELIMITER_NAMES.get(delimiter, repr(delimiter))}. Pass --delimiter {DELIMITER_OPTIONS[found]}."
        )


def _iter_table(path: str, delimiter: str, quoted: bool, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_text(path, encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
        try:
            header = next(reader, None)
            if not header:
                raise DataError(f"{path}, line 1: expected a header row naming the columns, found an empty file.")
            _check_header(path, header, delimiter)
            start = reader.line_num + 1
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    if len(row) != len(header):
                        raise DataError(
                            f"{path}, line {start}: {len(row)} fields where the header has {len(header)} "
                            f"({', '.join(map(repr, header))})."
                        )
                    values = [cell.replace("\r\n", "\n") for cell in row]  # as \n whatever the file's line ends
                    yield start, dict(zip(header, values, strict=True))
                start = reader.line_num + 1
        except csv.Error as error:
            raise DataError(f"{path}, line {reader.line_num}: cannot read the table ({error}).") from None


def read_records(
    path: str, encoding: str = DEFAULT_ENCODING, delimiter: str | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """``(line, record)`` for each record of a ``.csv``, ``.tsv`` (header row first) or JSON Lines file.

    Args:
        path: the file; its extension says its format.
        encoding: its text encoding (UTF-8 is read with or without a byte-order mark).
        delimiter: the field delimiter of a CSV or TSV file (default: ``,`` for ``.csv``, a tab for ``.tsv``).
            Quoting follows the extension either way: quoted fields in ``.csv``, literal fields in ``.tsv``.

    Raises:
        DataError: the file is missing, has an unknown extension, is not valid in ``encoding``, its header row
            shows another delimiter, or a record is malformed; or it holds no records at all.
    """
    return list(iter_records(path, encoding, delimiter))


def iter_records(
    path: str, encoding: str = DEFAULT_ENCODING, delimiter: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`read_records` one record at a time, the file read as the records are taken.

    Raises:
        DataError: as :func:`read_records`, when the record at fault (or the end of an empty file) is reached.
    """
    suffix = os.path.splitext(path)[1].lower()
    if suffix in TABLE_SUFFIXES:
        records = _iter_table(path, delimiter or TABLE_SUFFIXES[suffix], suffix != ".tsv", encoding)
    elif suffix in JSONL_SUFFIXES:
        records = iter_jsonl(path, encoding)
    else:
        raise DataError(
            f"{path}: unknown file type {suffix or '(no extension)'!r}; expected one of "
            f"{', '.join([*TABLE_SUFFIXES, *JSONL_SUFFIXES])}."
        )
    empty = True
    for record in records:
        empty = False
        yield record
    if empty:
        raise DataError(f"{path}: the file holds no examples.")


def require(path: str, line: int, record: Mapping[str, Any], column: str) -> Any:
    """The value of ``column`` in a record.

    Raises:
        DataError: the record has no such column (or it is empty); the message lists the columns it has, with
            invisible characters escaped, and the closest one.
    """
    value = record.get(column)
    if value is None or value == "":
        names = [str(name) for name in record]
        close = difflib.get_close_matches(column, names, n=1) if column not in record else []
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(
            f"{path}, line {line}: no value in column {column!r}; the record has {', '.join(map(repr, names))}.{hint} "
            "Name the right column in the run configuration."
        )
    return value
