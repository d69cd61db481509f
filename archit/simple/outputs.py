"""Outputs that appear whole or not at all: every file and directory a run writes goes to a temporary name
beside its target first and is renamed onto it once complete.

A process killed while writing (pre-emption, power, Ctrl-C) leaves the previous version of the target, or
none, and a hidden ``.<name>...partial`` entry that the next run removes (:func:`remove_partial_outputs`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator

__all__ = ["partial_directory", "publish_directory", "remove_partial_outputs", "replacing"]

PARTIAL = ".partial"
"""What the names of unfinished outputs hold (after a leading dot, which hides them)."""


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[str]:
    """A temporary path beside ``path`` to write the new file to; when the block ends without an error the file
    is flushed to disk and renamed onto ``path`` (atomically, ``os.replace``), else it is removed.

    The temporary name keeps the extension (``.metrics.<random>.partial.json``), for writers that choose the
    format by it (matplotlib).

    Args:
        path: the file to write.

    Yields:
        The temporary path; the block writes the whole file there.
    """
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    stem, suffix = os.path.splitext(name)
    temporary = os.path.join(directory, f".{stem}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL}{suffix}")
    try:
        yield temporary
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def partial_directory(path: str | os.PathLike[str]) -> str:
    """Where to build the directory ``path`` before :func:`publish_directory` (``.<name>.partial`` beside it).

    The name is fixed, so that every process of a distributed run saves to the same place.
    """
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}{PARTIAL}")


def publish_directory(partial: str, path: str | os.PathLike[str]) -> None:
    """Move a complete directory built at ``partial`` onto ``path``, replacing what was there.

    A directory cannot be renamed onto a non-empty one, so an existing ``path`` is first renamed aside (to
    ``.<name>.partial-old``), then removed: at no moment does ``path`` hold a mix of old and new files.
    """
    path = os.path.abspath(path)
    old = f"{partial_directory(path)}-old"
    if os.path.isdir(path):
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(partial, path)
    shutil.rmtree(old, ignore_errors=True)


def remove_partial_outputs(directory: str | os.PathLike[str]) -> list[str]:
    """Remove what an interrupted run left unfinished in ``directory`` (hidden ``.partial`` files and
    directories); returns their names."""
    if not os.path.isdir(directory):
        return []
    removed = []
    for name in sorted(os.listdir(directory)):
        if not (name.startswith(".") and PARTIAL in name):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
        removed.append(name)
    return removed
