"""Where a checkpoint's files are: a local directory, or a Hugging Face Hub id found in (or fetched to) the cache.

Every archit entry point that takes a checkpoint locates it here first, so that a missing directory, a
directory without weights or a hub id that is not cached fails at once, with a message that says what to do.
Hub files go through huggingface_hub's own ``hf_hub_download``: the cache (``HF_HUB_CACHE``, ``HF_HOME``),
offline mode (``HF_HUB_OFFLINE``), tokens (``HF_TOKEN``, ``hf auth login``) and progress bars behave as they do
in transformers, and only the files a load reads are fetched (the config, then the weights: one file, or the
shards its index names). The same id and hub options then go on to transformers' ``from_pretrained``, which
finds those files in the cache.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from huggingface_hub import constants, hf_hub_download, scan_cache_dir
from huggingface_hub.errors import (
    CacheNotFound,
    EntryNotFoundError,
    GatedRepoError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id
from transformers import AutoConfig, PretrainedConfig

from archit._compat import is_known_model_type
from archit.errors import CheckpointError

__all__ = [
    "HUB_OPTIONS",
    "Checkpoint",
    "checkpoint_file",
    "download_command",
    "holds_weights",
    "locate_checkpoint",
    "location_options",
]

HUB_OPTIONS = ("revision", "cache_dir", "token", "local_files_only", "subfolder")
"""The ``from_pretrained`` keyword arguments that say where a checkpoint's files are, as transformers spells
them; archit reads them to locate the files and passes them on unchanged."""

_WEIGHT_OPTIONS = ("variant", "use_safetensors")
_CONFIG_NAME = "config.json"
_SAFETENSORS, _SAFETENSORS_INDEX = "model.safetensors", "model.safetensors.index.json"
_PICKLE, _PICKLE_INDEX = "pytorch_model.bin", "pytorch_model.bin.index.json"


def location_options(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The options among ``from_pretrained`` keyword arguments that :func:`locate_checkpoint` reads: the
    :data:`HUB_OPTIONS` and the weight-file choices ``variant`` and ``use_safetensors`` (unset ones left out)."""
    return {name: kwargs[name] for name in (*HUB_OPTIONS, *_WEIGHT_OPTIONS) if kwargs.get(name) is not None}


def download_command(repo_id: str, revision: str | None = None, cache_dir: str | os.PathLike | None = None) -> str:
    """The shell command that puts a hub model in the cache: ``hf download ID [--revision REV] [--cache-dir DIR]``
    (without ``--cache-dir``, it downloads to the default cache, ``HF_HUB_CACHE``)."""
    options = {"--revision": revision, "--cache-dir": os.fspath(cache_dir) if cache_dir is not None else None}
    return " ".join(["hf download", repo_id, *(f"{flag} {value}" for flag, value in options.items() if value)])


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose files are on this machine.

    Attributes:
        name_or_path: what the caller named, as a string: a local directory, or a hub id (what transformers gets).
        config_file: the local ``config.json`` (inside the hub cache for a hub id).
        weight_files: the local weight files a load reads (one file, or the shards an index names); empty when
            only the config was located.
        hub_options: the hub options it was located with (for a hub id), to pass on to transformers.
    """

    name_or_path: str
    config_file: str
    weight_files: tuple[str, ...] = ()
    hub_options: dict[str, Any] = field(default_factory=dict)

    def config_dict(self) -> dict[str, Any]:
        """The content of ``config.json``, unparsed by transformers.

        Raises:
            CheckpointError: the file is not valid JSON.
        """
        try:
            with open(self.config_file, encoding="utf-8") as handle:
                return json.load(handle)
        except json.JSONDecodeError as error:
            raise CheckpointError(f"{self.config_file} is not valid JSON ({error}); re-save the checkpoint.") from error

    def load_config(self, trust_remote_code: bool = False) -> PretrainedConfig:
        """The checkpoint's config through transformers' ``AutoConfig``, with the same hub options.

        Args:
            trust_remote_code: run the checkpoint's own configuration code (``auto_map`` in ``config.json``)
                where transformers has no class for its model type.

        Raises:
            CheckpointError: the config needs the checkpoint's own code and ``trust_remote_code`` is not set
                (checked before transformers is asked, which would prompt for it), or is not valid JSON.
        """
        remote_code = self.remote_code()
        if remote_code is not None and not trust_remote_code:
            raise CheckpointError(
                f"{self.name_or_path!r} is a {self.config_dict().get('model_type')!r} model that runs its own code "
                f"({remote_code}, named by auto_map in its config.json), and transformers has no class for it. "
                "Read that code, then pass trust_remote_code=True to run it."
            )
        return AutoConfig.from_pretrained(self.name_or_path, trust_remote_code=trust_remote_code, **self.hub_options)

    def remote_code(self) -> str | None:
        """The checkpoint's own configuration class (``auto_map["AutoConfig"]`` in ``config.json``) when its model
        type is one transformers has no class for, so that loading it runs the checkpoint's code; else ``None``.

        Raises:
            CheckpointError: ``config.json`` is not valid JSON.
        """
        values = self.config_dict()
        reference = (values.get("auto_map") or {}).get("AutoConfig")
        if reference is None or is_known_model_type(values.get("model_type", "")):
            return None
        return reference

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Catch truncated or corrupt safetensors files before transformers starts loading; return the shapes of
        the tensors they hold, by name (pickled ``.bin`` weights are not read).

        Raises:
            CheckpointError: a safetensors file is unreadable or shorter than its header promises.
        """
        shapes: dict[str, tuple[int, ...]] = {}
        for path in self.weight_files:
            if path.endswith(".safetensors"):
                shapes.update(_safetensors_shapes(path))
        return shapes


def locate_checkpoint(
    name_or_path: str | os.PathLike,
    *,
    weights: bool = True,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    subfolder: str = "",
    variant: str | None = None,
    use_safetensors: bool | None = None,
) -> Checkpoint:
    """Find a checkpoint's config and weights: in a local directory, else in the Hugging Face cache under a hub
    id (downloading what is missing, unless offline).

    A name is a local directory when one exists under it; a ``Path``, an absolute path, a name starting with
    ``.`` or ``~``, or one with more than one ``/`` is always taken as one; anything else is a hub id
    (``"org/name"``, or a legacy ``"name"``).

    Args:
        name_or_path: a directory written by ``save_pretrained``, or a hub id.
        weights: also locate (and, online, download) the weight files, as a load needs them.
        revision: hub branch, tag or commit (default: the default branch).
        cache_dir: the hub cache (default: ``HF_HUB_CACHE``, else ``$HF_HOME/hub``).
        token: hub token (default: ``HF_TOKEN`` or the ``hf auth login`` token).
        local_files_only: use the cache only, as ``HF_HUB_OFFLINE=1`` does.
        subfolder: the checkpoint's folder inside the directory or repository.
        variant, use_safetensors: which weight files a load reads, as in transformers' ``from_pretrained``.

    Returns:
        The located :class:`Checkpoint`.

    Raises:
        CheckpointError: a local directory that does not exist, is a file, or lacks ``config.json`` or weights;
            a malformed hub id; a hub id (or revision) that is not cached while offline, or unknown to the hub.
    """
    name = os.fspath(name_or_path)
    options = _hub_options(revision, cache_dir, token, local_files_only, subfolder)
    weight_names = _weight_names(variant, use_safetensors) if weights else ()
    source = _source(name_or_path, options)
    if isinstance(source, str):
        return _local_checkpoint(name, source, weight_names, options)
    config_file = source.fetch(_CONFIG_NAME)
    return Checkpoint(name, config_file, source.fetch_weights(weight_names) if weights else (), options)


def checkpoint_file(
    name_or_path: str | os.PathLike,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    subfolder: str = "",
) -> str | None:
    """The local path of one file of a checkpoint directory or hub repository (downloaded when missing, unless
    offline), or ``None`` when the checkpoint does not have it.

    Args:
        name_or_path, revision, cache_dir, token, local_files_only, subfolder: as for :func:`locate_checkpoint`.
        filename: the file's name inside the checkpoint (its subfolder).

    Raises:
        CheckpointError: as :func:`locate_checkpoint`, for the checkpoint itself: a directory that does not exist,
            a malformed hub id, a hub id (or revision) that is not cached while offline, or unknown to the hub.
    """
    source = _source(name_or_path, _hub_options(revision, cache_dir, token, local_files_only, subfolder))
    if isinstance(source, str):
        path = os.path.join(source, filename)
        return path if os.path.isfile(path) else None
    return source.fetch(filename, required=False)


def holds_weights(name_or_path: str | os.PathLike, **options: Any) -> bool:
    """Whether a checkpoint directory or hub repository holds model weights (any file transformers loads).

    Args:
        name_or_path: as for :func:`locate_checkpoint`.
        **options: the hub options of :func:`checkpoint_file`.

    Raises:
        CheckpointError: as :func:`checkpoint_file`.
    """
    return any(checkpoint_file(name_or_path, name, **options) is not None for name in _weight_names(None, None))


def _hub_options(
    revision: str | None,
    cache_dir: str | os.PathLike | None,
    token: str | bool | None,
    local_files_only: bool,
    subfolder: str,
) -> dict[str, Any]:
    """The hub options that were given, as transformers' ``from_pretrained`` takes them."""
    given = {
        "revision": revision,
        "cache_dir": os.fspath(cache_dir) if cache_dir is not None else None,
        "token": token,
        "local_files_only": local_files_only or None,
        "subfolder": subfolder or None,
    }
    return {key: value for key, value in given.items() if value is not None}


def _source(name_or_path: str | os.PathLike, options: dict[str, Any]) -> str | _Repository:
    """The local directory holding the checkpoint (its subfolder), or the hub repository it names.

    Raises:
        CheckpointError: a file, a path that does not exist, or a malformed hub id.
    """
    name = os.fspath(name_or_path)
    if os.path.isdir(name):
        return os.path.join(name, options["subfolder"]) if "subfolder" in options else name
    if os.path.exists(name):
        raise CheckpointError(f"Checkpoint {name!r} is a file; pass the directory save_pretrained() wrote.")
    if _is_path(name_or_path):
        raise CheckpointError(
            f"Checkpoint directory {name!r} does not exist (resolved to {os.path.abspath(os.path.expanduser(name))}). "
            "Pass a directory written by save_pretrained(), or a Hugging Face Hub id such as 'org/name'."
        )
    try:
        validate_repo_id(name)
    except HFValidationError as error:
        raise CheckpointError(
            f"{name!r} is neither an existing directory nor a valid Hugging Face Hub id ({error}). Pass a "
            "directory written by save_pretrained(), or a hub id such as 'microsoft/deberta-v2-xlarge'."
        ) from None
    return _Repository(name, options)


def _is_path(name_or_path: str | os.PathLike) -> bool:
    """Whether a name that is not an existing directory can only mean a local path (never a hub id)."""
    if isinstance(name_or_path, os.PathLike):
        return True
    name = name_or_path
    separators = {os.sep, os.altsep or os.sep} - {"/"}
    return (
        os.path.isabs(name)
        or name.startswith((".", "~"))
        or name.endswith("/")
        or name.count("/") > 1
        or any(separator in name for separator in separators)
    )


def _weight_names(variant: str | None, use_safetensors: bool | None) -> tuple[str, ...]:
    """The weight files transformers looks for, in its order: safetensors (single, then sharded), then pickle."""
    names: tuple[str, ...] = (_SAFETENSORS, _SAFETENSORS_INDEX) if use_safetensors is not False else ()
    names += (_PICKLE, _PICKLE_INDEX) if not use_safetensors else ()
    return tuple(_with_variant(name, variant) for name in names) if variant else names


def _with_variant(name: str, variant: str) -> str:
    """``model.safetensors`` as ``model.fp16.safetensors``: the variant goes before the last extension."""
    stem, extension = name.rsplit(".", 1)
    return f"{stem}.{variant}.{extension}"


def _shards(index_file: str) -> list[str]:
    """The shard file names an index (``*.index.json``) maps weights to, in order."""
    try:
        with open(index_file, encoding="utf-8") as handle:
            return sorted(set(json.load(handle)["weight_map"].values()))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(
            f"{index_file} is not a weight index (no 'weight_map': {error!r}); re-save the checkpoint."
        ) from None


def _local_checkpoint(name: str, directory: str, weight_names: tuple[str, ...], options: dict[str, Any]) -> Checkpoint:
    config_file = os.path.join(directory, _CONFIG_NAME)
    if not os.path.isfile(config_file):
        raise CheckpointError(
            f"Checkpoint directory {directory!r} has no config.json; it was not written by save_pretrained(). "
            "Save the model with save_pretrained(), or pass its config object instead of the path."
        )
    if not weight_names:
        return Checkpoint(name, config_file, hub_options=options)
    found = next((weight for weight in weight_names if os.path.isfile(os.path.join(directory, weight))), None)
    if found is None:
        raise CheckpointError(
            f"Checkpoint directory {directory!r} holds a config but no weights ({_listed(weight_names)}); "
            "save the model again with save_pretrained()."
        )
    files = [found] if not found.endswith(".json") else _shards(os.path.join(directory, found))
    missing = [file for file in files if not os.path.isfile(os.path.join(directory, file))]
    if missing:
        raise CheckpointError(
            f"{os.path.join(directory, found)} names weight files that are not in {directory!r}: {_listed(missing)}. "
            "Copy the whole checkpoint directory, or save the model again."
        )
    return Checkpoint(name, config_file, tuple(os.path.join(directory, file) for file in files), options)


class _Repository:
    """The files of one hub repository at one revision, fetched with ``hf_hub_download``, and the errors that
    say what is missing and how to get it."""

    def __init__(self, repo_id: str, options: dict[str, Any]) -> None:
        self.repo_id = repo_id
        self.options = options
        self.revision = str(options.get("revision") or constants.DEFAULT_REVISION)

    @overload
    def fetch(self, filename: str, required: Literal[True] = True) -> str: ...
    @overload
    def fetch(self, filename: str, required: bool) -> str | None: ...
    def fetch(self, filename: str, required: bool = True) -> str | None:
        """The local path of a file; ``None`` for a file the repository does not have, unless ``required``.

        Raises:
            CheckpointError: the repository or revision cannot be had (see :meth:`_unavailable`); a required file
                is not in the repository, or not in the cache while offline.
        """
        try:
            return hf_hub_download(self.repo_id, filename, **self.options)
        except LocalEntryNotFoundError as error:  # before EntryNotFoundError, its base class
            if not required and self._revision_is_cached():  # offline: the cached snapshot lacks the file
                return None
            raise self._unavailable((filename,), error) from None
        except GatedRepoError as error:
            raise CheckpointError(
                f"Hugging Face Hub model {self.repo_id!r} is gated: request access on its page, then log in "
                f"(hf auth login) or pass token=. ({_first_line(error)})"
            ) from None
        except RepositoryNotFoundError:
            raise CheckpointError(
                f"{self.repo_id!r} is neither a local directory nor a model on the Hugging Face Hub (or it is "
                "private: log in with hf auth login, or pass token=). Check the name, or pass a directory "
                "written by save_pretrained()."
            ) from None
        except RevisionNotFoundError:
            raise CheckpointError(
                f"Hugging Face Hub model {self.repo_id!r} has no revision {self.revision!r}; pass an existing "
                "branch, tag or commit as revision=, or leave it out for the default branch."
            ) from None
        except EntryNotFoundError:
            if not required:
                return None
            raise CheckpointError(
                f"Hugging Face Hub model {self.repo_id!r} (revision {self.revision!r}) has no "
                f"{self._in_subfolder(filename)}: it is not a transformers checkpoint, or it is in a subfolder "
                "(pass subfolder=)."
            ) from None

    def fetch_weights(self, weight_names: tuple[str, ...]) -> tuple[str, ...]:
        """The local weight files: the first of ``weight_names`` the repository has, and the shards it names.

        Raises:
            CheckpointError: none is cached while offline, or the repository has none.
        """
        unavailable = None
        for weight in weight_names:
            try:
                found = hf_hub_download(self.repo_id, weight, **self.options)
            except LocalEntryNotFoundError as error:  # not cached while offline (or the hub was unreachable)
                unavailable = unavailable or error
                continue
            except EntryNotFoundError:  # the repository does not have this file
                continue
            if not weight.endswith(".json"):
                return (found,)
            return tuple(self.fetch(shard) for shard in _shards(found))
        if unavailable is not None:
            raise self._unavailable(weight_names, unavailable)
        raise CheckpointError(
            f"Hugging Face Hub model {self.repo_id!r} (revision {self.revision!r}) holds a config but no weights "
            f"({_listed(weight_names)}); it cannot be loaded with from_pretrained."
        )

    def _revision_is_cached(self) -> bool:
        revisions = _cached_revisions(self._cache(), self.repo_id) or []
        return any(self.revision in names for names in revisions)

    def _cache(self) -> str:
        return os.fspath(self.options.get("cache_dir") or constants.HF_HUB_CACHE)

    def _in_subfolder(self, filename: str) -> str:
        subfolder = self.options.get("subfolder")
        return f"{subfolder}/{filename}" if subfolder else filename

    def _unavailable(self, wanted: tuple[str, ...], error: LocalEntryNotFoundError) -> CheckpointError:
        """The error for files that are not in the cache and could not be downloaded: what is cached of the
        repository, why nothing was downloaded, and the command that fetches it."""
        cache = self._cache()
        revisions = _cached_revisions(cache, self.repo_id)
        command = download_command(self.repo_id, self.options.get("revision"), self.options.get("cache_dir"))
        if self.options.get("local_files_only"):
            why, remedy = "local_files_only=True", "or leave out local_files_only=True to download it"
        elif constants.HF_HUB_OFFLINE:
            why, remedy = "HF_HUB_OFFLINE is set", "or unset HF_HUB_OFFLINE to let from_pretrained download it"
        else:
            why, remedy = f"the hub could not be reached ({_first_line(error)})", "or check the connection"
        if revisions is None:
            what = (
                f"Hugging Face Hub model {self.repo_id!r} is not in the cache at {cache} (and there is no local "
                "directory of that name)"
            )
        elif not any(self.revision in names for names in revisions):
            cached = "; ".join(", ".join(names) for names in revisions) or "no snapshot"
            what = (
                f"Revision {self.revision!r} of Hugging Face Hub model {self.repo_id!r} is not in the cache at "
                f"{cache} (cached revisions: {cached})"
            )
        else:
            what = (
                f"Hugging Face Hub model {self.repo_id!r} (revision {self.revision!r}) is in the cache at {cache}, "
                f"but without {_listed([self._in_subfolder(filename) for filename in wanted])}"
            )
        return CheckpointError(f"{what}, and {why}, so nothing was downloaded. Download it with `{command}`, {remedy}.")


def _cached_revisions(cache: str, repo_id: str) -> list[tuple[str, ...]] | None:
    """Names of each cached snapshot of a model repository (its refs, then its commit hash), or ``None`` when
    the cache holds nothing of it."""
    try:
        repos = scan_cache_dir(cache).repos
    except CacheNotFound:
        return None
    for repo in repos:
        if repo.repo_id == repo_id and repo.repo_type == "model":
            return sorted((*sorted(revision.refs), revision.commit_hash) for revision in repo.revisions)
    return None


def _safetensors_shapes(path: str) -> dict[str, tuple[int, ...]]:
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as handle:
            (header_size,) = struct.unpack("<Q", handle.read(8))
            if header_size > size:
                raise ValueError("header longer than the file")
            header = json.loads(handle.read(header_size))
        header.pop("__metadata__", None)
        end = max((entry["data_offsets"][1] for entry in header.values()), default=0)
    except (struct.error, ValueError, KeyError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path} is not a readable safetensors file ({error}); save the model again.") from error
    if 8 + header_size + end > size:
        raise CheckpointError(
            f"{path} is truncated: it holds {size} bytes, its header promises {8 + header_size + end}. "
            "The copy or download was interrupted: copy or download it again, or re-save the model."
        )
    return {key: tuple(entry["shape"]) for key, entry in header.items()}


def _listed(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
