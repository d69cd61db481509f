"""The one way archit opens data files: text in any encoding, with or without a byte-order mark, with CRLF or LF
line ends in any mix; predictions out as UTF-8 without a byte-order mark, with LF line ends.

This module imports nothing of archit but its errors, so that every reader (the CoNLL-U reader included, which
the metrics import) can use it without pulling in the task data package.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
from collections.abc import Iterator
from typing import TextIO

from archit.errors import DataError

__all__ = ["DEFAULT_ENCODING", "create_text", "iter_lines", "open_text", "reading_codec"]

DEFAULT_ENCODING = "utf-8"
"""The encoding data files are read in unless told otherwise; a UTF-8 byte-order mark is skipped."""

_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def reading_codec(encoding: str) -> str:
    """The codec that reads files of ``encoding``: ``utf-8`` (any spelling) reads as ``utf-8-sig``, which skips a
    byte-order mark if there is one.

    Raises:
        DataError: ``encoding`` is not a text encoding Python knows.
    """
    try:
        "".encode(encoding)  # LookupError for unknown names and for non-text codecs such as base64
    except LookupError:
        raise DataError(
            f"{encoding!r} is not a text encoding Python knows; use a name such as utf-8, latin-1, cp1252 or utf-16."
        ) from None
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


@contextlib.contextmanager
def open_text(path: str | os.PathLike[str], encoding: str = DEFAULT_ENCODING) -> Iterator[TextIO]:
    """Open a data file for reading as text.

    Lines keep their own line ends (``newline=""``, what the ``csv`` module needs): ``\\r\\n``, ``\\n`` and ``\\r``
    each end a line. A UTF-8 byte-order mark at the start is skipped when ``encoding`` is UTF-8.

    Args:
        path: the data file.
        encoding: its text encoding (``utf-8``, ``latin-1``, ``cp1252``, ``utf-16``...).

    Raises:
        DataError: the file does not exist, ``encoding`` is unknown, or the file (read inside the ``with`` block)
            is not valid in ``encoding``: the message gives the line and byte offset and suggests ``--encoding``.
    """
    codec = reading_codec(encoding)
    if not os.path.isfile(path):
        raise DataError(f"{os.fspath(path)}: no such data file.")
    try:
        with open(path, encoding=codec, newline="") as handle:
            yield handle
    except UnicodeDecodeError:
        raise _decoding_error(os.fspath(path), encoding, codec) from None


def iter_lines(path: str | os.PathLike[str], encoding: str = DEFAULT_ENCODING) -> Iterator[tuple[int, str]]:
    """``(line number, line without its line end)`` for each line of a text file (see :func:`open_text`).

    Raises:
        DataError: see :func:`open_text`.
    """
    with open_text(path, encoding) as handle:
        for number, line in enumerate(handle, start=1):
            yield number, line.rstrip("\r\n")


def create_text(path: str | os.PathLike[str]) -> TextIO:
    """Open a file for writing text as UTF-8 without a byte-order mark, with LF line ends on every platform."""
    return open(path, "w", encoding="utf-8", newline="\n")


def _decoding_error(path: str, encoding: str, codec: str) -> DataError:
    """The one-line error for a file that is not valid in ``encoding``: line, byte offset and the option to pass."""
    with open(path, "rb") as handle:
        raw = handle.read()
    suggestion = _suggested_encoding(raw, codec)
    offset = _first_invalid_byte(raw, codec)
    where = found = ""
    if offset is not None:  # always, unless the file changed since the reader failed
        before = raw[:offset].decode(codec, errors="replace")
        line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1  # as open_text ends lines
        where = f", line {line}"
        found = f" (byte 0x{raw[offset]:02x} at byte offset {offset})"
    return DataError(
        f"{path}{where}: not valid {encoding}{found}; pass --encoding {suggestion} or the file's own encoding."
    )


def _suggested_encoding(raw: bytes, codec: str) -> str:
    """The encoding to suggest for a file that ``codec`` cannot read, from what its bytes look like."""
    if raw.startswith(_UTF16_MARKS):
        return "utf-16 (the file starts with a UTF-16 byte-order mark)"
    if codecs.lookup(codec).name != "utf-8-sig" and _first_invalid_byte(raw, "utf-8-sig") is None:
        return "utf-8"
    # bytes 0x80-0x9f are control characters in latin-1 but letters, quotes and the euro sign in cp1252
    if re.search(b"[\x80-\x9f]", raw) and _first_invalid_byte(raw, "cp1252") is None:
        return "cp1252"
    return "latin-1"


def _first_invalid_byte(raw: bytes, codec: str) -> int | None:
    """The offset in ``raw`` of the first byte that ``codec`` cannot decode, or ``None`` when all of it decodes."""
    try:
        raw.decode(codec)
    except UnicodeDecodeError as error:
        return error.start + len(raw) - len(error.object)  # utf-8-sig reports offsets after the mark it skipped
    return None
