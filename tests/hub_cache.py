"""A Hugging Face Hub cache written by hand, in the layout huggingface_hub writes, for offline tests of hub ids.

``hf download org/name`` (or any ``from_pretrained("org/name")``) leaves, under the cache directory::

    models--org--name/blobs/<etag>                 each file's content, named by its git or LFS hash
    models--org--name/snapshots/<commit>/<path>    relative symlinks into blobs/, one tree per commit
    models--org--name/refs/<branch or tag>         the commit hash the branch or tag points to

:func:`cache_repository` writes exactly that from a local directory, so tests can point ``cache_dir`` or
``HF_HUB_CACHE`` at it and load hub ids with ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

_LFS_SUFFIXES = (".safetensors", ".bin")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def repository_folder(cache_dir: str | os.PathLike, repo_id: str) -> Path:
    """The folder of a model repository in a hub cache: ``models--org--name``."""
    return Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))


def cache_repository(
    cache_dir: str | os.PathLike,
    repo_id: str,
    directory: str | os.PathLike,
    revision: str = "main",
    subfolder: str = "",
    commit: str | None = None,
) -> str:
    """Put the files of ``directory`` (recursively) in a hub cache as model repository ``repo_id`` at ``revision``.

    Args:
        cache_dir: the hub cache (what ``HF_HUB_CACHE`` or ``cache_dir=`` names).
        repo_id: ``"org/name"``.
        directory: the files, e.g. what ``save_pretrained`` wrote.
        revision: a branch or tag (written to ``refs/``), or a 40-hex commit hash (no ref).
        subfolder: where the files go inside the repository.
        commit: the snapshot to add the files to (default: one derived from the repository, revision and files).

    Returns:
        The commit hash of the snapshot.
    """
    files = sorted(path for path in Path(directory).rglob("*") if path.is_file())
    hashes = {path: _etag(path) for path in files}
    repository = repository_folder(cache_dir, repo_id)
    if commit is None:
        commit = revision if _COMMIT.match(revision) else _commit_hash(repo_id, revision, subfolder, hashes)
    for path, etag in hashes.items():
        blob = repository / "blobs" / etag
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(path.read_bytes())
        pointer = repository / "snapshots" / commit / subfolder / path.relative_to(directory)
        pointer.parent.mkdir(parents=True, exist_ok=True)
        if pointer.is_symlink() or pointer.exists():
            pointer.unlink()
        pointer.symlink_to(os.path.relpath(blob, pointer.parent))
    if not _COMMIT.match(revision):
        ref = repository / "refs" / revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit)  # huggingface_hub writes the bare hash, no newline
    return commit


def _etag(path: Path) -> str:
    """The blob name huggingface_hub uses: the SHA-256 of LFS files (weights), the git blob SHA-1 of others."""
    content = path.read_bytes()
    if path.name.endswith(_LFS_SUFFIXES):
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _commit_hash(repo_id: str, revision: str, subfolder: str, hashes: dict[Path, str]) -> str:
    """A stable stand-in for the commit hash the hub would report, distinct per repository, revision and content."""
    digest = hashlib.sha1(f"{repo_id}@{revision}/{subfolder}".encode())
    for etag in hashes.values():
        digest.update(etag.encode())
    return digest.hexdigest()
