"""Loading a PEFT adapter directory into an archit task, as transformers loads adapters into its own classes.

transformers' ``from_pretrained`` on a directory (or hub repository) holding ``adapter_config.json`` loads the base
model the adapter names (``base_model_name_or_path``) and attaches the adapter through its PEFT integration
(``PreTrainedModel.load_adapter``). archit does the same, with one addition: the ``config.json`` saved beside the
adapter (an :class:`ArchitConfig`, which archit runs write) gives the task head and the labels, so the head PEFT
saved in full (``modules_to_save``) fits the head built on the base checkpoint. A run's model directory saved
without merging (``config.json``, no weights, the adapter in ``adapter/``) loads the same way.

The Auto classes hand an adapter directory to archit's class only when they read its own config: transformers 5
does for a local directory holding ``config.json``; transformers 4.57 (and any version, for a hub repository)
reads the base checkpoint's config and builds that family's HF class, unless ``config=`` is given. A run's model
directory reaches archit's class on every version.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Any

from transformers import AutoConfig

from archit._compat import pop_adapter_path
from archit.errors import CheckpointError
from archit.modeling.tasks.configuration import ArchitConfig
from archit.resolution.checkpoints import HUB_OPTIONS, checkpoint_file, holds_weights

if TYPE_CHECKING:
    from archit.modeling.base_models import BaseModel
    from archit.modeling.heads.base import HeadConfig
    from archit.modeling.tasks.base import ModelWithHead

__all__ = ["ADAPTER_CONFIG_NAME", "ADAPTER_DIRECTORY", "find_adapter", "load_with_adapter"]

ADAPTER_CONFIG_NAME = "adapter_config.json"
"""The file that makes a directory a PEFT adapter (PEFT's and transformers' name for it)."""

ADAPTER_DIRECTORY = "adapter"
"""Where a PEFT run saves its adapter (and trained head), inside its model directory."""

_BASE_OPTIONS = ("cache_dir", "token", "local_files_only")
"""Hub options that also reach the base checkpoint (the revision and subfolder are the adapter's own)."""


def find_adapter(name_or_path: str | os.PathLike, kwargs: dict[str, Any]) -> str | None:
    """The PEFT adapter to attach when loading ``name_or_path``, else ``None``: the adapter an Auto class found
    (it passes it in ``adapter_kwargs``; ``name_or_path`` is then the base checkpoint where the Auto class put it
    in the adapter's place), else ``name_or_path`` itself when it holds ``adapter_config.json``, else its
    ``adapter/`` when it holds a config but no weights (a run saved with ``merge_adapter`` off).

    Raises:
        CheckpointError: as :func:`~archit.resolution.checkpoints.checkpoint_file`.
    """
    named = pop_adapter_path(dict(kwargs.get("adapter_kwargs") or {}))
    if named is not None:
        return named
    options = {name: kwargs[name] for name in HUB_OPTIONS if kwargs.get(name) is not None}
    if checkpoint_file(name_or_path, ADAPTER_CONFIG_NAME, **options) is not None:
        return os.fspath(name_or_path)
    beside = f"{ADAPTER_DIRECTORY}/{ADAPTER_CONFIG_NAME}"
    if checkpoint_file(name_or_path, beside, **options) is None or holds_weights(name_or_path, **options):
        return None
    if os.path.isdir(name_or_path):
        return os.path.join(os.fspath(name_or_path), ADAPTER_DIRECTORY)
    # a hub repository's adapter is reached through the subfolder (the base checkpoint never sees it)
    kwargs["subfolder"] = posixpath.join(kwargs.get("subfolder") or "", ADAPTER_DIRECTORY)
    return os.fspath(name_or_path)


def load_with_adapter(
    task: type[ModelWithHead],
    name_or_path: str | os.PathLike,
    adapter: str,
    base_model_class: type[BaseModel] | None,
    head_config: HeadConfig | None,
    model_args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> ModelWithHead:
    """Load the base checkpoint of a PEFT adapter into ``task`` and attach the adapter (unmerged).

    The head and labels are the adapter directory's :class:`ArchitConfig` (its ``config.json``) unless given;
    the base checkpoint is ``name_or_path`` when an Auto class has already put it there, else the adapter's
    ``base_model_name_or_path``.

    Args:
        task: the archit task class loading.
        name_or_path: what ``from_pretrained`` was given (after an Auto class's substitution).
        adapter: the adapter directory or hub id, from :func:`find_adapter`.
        base_model_class, head_config, model_args, kwargs: as :meth:`ModelWithHead.from_pretrained` takes them.

    Returns:
        The model with the adapter attached and active, in eval mode; ``loading_report`` is the base checkpoint's,
        with the head weights the adapter restored no longer listed as new, and a note naming the adapter.

    Raises:
        CheckpointError: peft is not installed; the adapter was trained for another task.
    """
    try:
        from peft import PeftConfig
        from peft.utils import ModulesToSaveWrapper
    except ImportError:
        raise CheckpointError(
            f"{adapter} holds a PEFT adapter ({ADAPTER_CONFIG_NAME}), and loading it needs the peft package, which "
            "is not installed: pip install 'archit[train]'."
        ) from None
    adapter_kwargs = dict(kwargs.pop("adapter_kwargs", None) or {})
    named = pop_adapter_path(adapter_kwargs)
    hub_options = {name: value for name in HUB_OPTIONS if (value := kwargs.pop(name, None)) is not None}
    adapter_kwargs = {**hub_options, **adapter_kwargs}
    # the options an Auto class passes belong to the base it substituted; the adapter's revision is its own
    base_named = named is not None and named != os.fspath(name_or_path)
    base_options = (
        hub_options if base_named else {name: hub_options[name] for name in _BASE_OPTIONS if name in hub_options}
    )
    given = kwargs.pop("config", None)
    saved = given if isinstance(given, ArchitConfig) else _adapter_config(adapter, adapter_kwargs)
    labels: dict[str, Any] = {}
    if saved is not None:
        if saved.task != task.task_name:
            raise CheckpointError(
                f"{adapter} holds an adapter trained for the {saved.task} task, not {task.task_name}: load it with "
                f"ArchitFactory.from_pretrained({adapter!r}, task={saved.task!r}) or its Auto class."
            )
        head_config = head_config or saved.get_head_config()
        labels = {"id2label": saved.id2label, "label2id": saved.label2id}
    if not base_named:
        name_or_path = PeftConfig.from_pretrained(adapter, **adapter_kwargs).base_model_name_or_path
    model = task._load_checkpoint(
        name_or_path, base_model_class, head_config, *model_args, **{**labels, **base_options, **kwargs}
    )
    report = model.loading_report
    model.load_adapter(adapter, adapter_kwargs=adapter_kwargs)
    model.eval()
    wrapped = [name for name, child in model.head.named_children() if isinstance(child, ModulesToSaveWrapper)]
    if isinstance(model.head, ModulesToSaveWrapper) or wrapped:
        restored_prefixes = (
            ("head.",) if isinstance(model.head, ModulesToSaveWrapper) else tuple(f"head.{n}." for n in wrapped)
        )
        report.new = [name for name in report.new if not name.startswith(restored_prefixes)]
        restored = "the trained head (PEFT keeps the random weights it replaced as original_module, unused)"
    else:
        restored = "no head: the head listed as new is random"
    report.notes.append(f"Attached the PEFT adapter {adapter} (unmerged), with {restored}.")
    report.checkpoint = f"{report.checkpoint} with the adapter {adapter}"
    return model


def _adapter_config(adapter: str, hub_options: dict[str, Any]) -> ArchitConfig | None:
    """The :class:`ArchitConfig` saved beside an adapter (``None`` when there is none, or another config)."""
    options = {name: hub_options[name] for name in HUB_OPTIONS if hub_options.get(name) is not None}
    if checkpoint_file(adapter, "config.json", **options) is None:
        return None
    config = AutoConfig.from_pretrained(adapter, **options)
    return config if isinstance(config, ArchitConfig) else None
