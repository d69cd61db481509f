"""``ArchitFactory``: one call from a checkpoint and a task name to a model-with-head.

Also registers archit's config with ``AutoConfig`` and its tasks with the matching ``AutoModelFor...`` class,
so a saved archit model loads through transformers' Auto classes without ``trust_remote_code``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import attrs
import transformers
from transformers import PretrainedConfig

from archit._compat import make_known_to_pipelines
from archit.errors import MultiTaskError, RegistrationError
from archit.modeling.base_models import BaseModel
from archit.modeling.tasks import ArchitConfig, ModelWithHead
from archit.modeling.tasks.registration import TASKS, register_task
from archit.resolution.checkpoints import locate_checkpoint, location_options

if TYPE_CHECKING:
    from archit.modeling.multitask import MultiTaskModel

__all__ = ["TASKS", "ArchitFactory", "register_task"]


class ArchitFactory:
    """Build or load a model-with-head by task name."""

    @staticmethod
    def tasks(filter: str = "*") -> list[str]:
        """The registered task names matching an ``fnmatch`` pattern, in natural order."""
        return TASKS.list(filter)

    @staticmethod
    def get_task(task: str) -> type[ModelWithHead]:
        """The task class registered as ``task``.

        Raises:
            UnknownTaskError: no task of that name; the message lists the registered ones.
        """
        return TASKS.get(task)

    @staticmethod
    def split_kwargs(task_class: type[ModelWithHead], kwargs: dict[str, Any]) -> tuple[dict, dict]:
        """Split keyword arguments into head-config fields and the rest; ``None`` values are dropped, so unset
        command-line options never override defaults."""
        kwargs = {key: value for key, value in kwargs.items() if value is not None}
        fields = task_class.head_config_class.field_names()
        return {k: v for k, v in kwargs.items() if k in fields}, {k: v for k, v in kwargs.items() if k not in fields}

    @staticmethod
    def from_pretrained(
        name_or_path: str | os.PathLike, task: str | None = None, tasks: dict[str, dict] | None = None, **kwargs: Any
    ) -> ModelWithHead | MultiTaskModel:
        """Load any checkpoint (bare backbone, HF ``XForY`` or archit) as a model for ``task``, or as a multi-task
        model with one head per entry of ``tasks``.

        Args:
            name_or_path: a local checkpoint directory, or a Hugging Face Hub id (``"microsoft/deberta-v2-xlarge"``)
                read from the cache and downloaded when missing, unless offline.
            task: a name from :meth:`tasks` (``"dep_parsing"``, ``"token_classification"``...).
            tasks: instead of ``task``, ``{name: {"task": kind, **head_options}}``: a
                :class:`~archit.modeling.multitask.MultiTaskModel` (see :func:`~archit.modeling.multitask.load_tasks`).
            **kwargs: head-config fields (``num_labels=37``...), label maps (``id2label``), ``config`` (used
                instead of the checkpoint's), hub options (``revision``, ``cache_dir``, ``token``,
                ``local_files_only``, ``subfolder``, ``trust_remote_code``) and transformers ``from_pretrained``
                options (``dtype``, ``attn_implementation``, ``ignore_mismatched_sizes``...); ``None`` values
                are dropped.

        Raises:
            UnknownTaskError: unknown task.
            HeadConfigError: head fields the task's head config does not have.
            MultiTaskError: both or neither of ``task`` and ``tasks``; ``tasks`` that do not fit together.
            CheckpointError, UnknownArchitectureError: as :meth:`ModelWithHead.from_pretrained`.
        """
        if tasks is not None and task is None:
            from archit.modeling.multitask import load_tasks  # it builds on this factory

            return load_tasks(name_or_path, tasks, **kwargs)
        if task is None or tasks is not None:
            raise MultiTaskError(
                "Pass task= (one head) or tasks= (several heads on one backbone), not both or neither."
            )
        task_class = ArchitFactory.get_task(task)
        head_fields, other = ArchitFactory.split_kwargs(task_class, kwargs)
        return task_class.from_pretrained(name_or_path, **head_fields, **other)

    @staticmethod
    def from_config(config: PretrainedConfig, task: str, **kwargs: Any) -> ModelWithHead:
        """A randomly initialised model for ``task`` on a backbone described by ``config``.

        Args:
            config: the backbone's config.
            task: a name from :meth:`tasks`.
            **kwargs: head-config fields, and ``id2label`` / ``label2id``.

        Raises:
            UnknownTaskError: unknown task.
            HeadConfigError: a keyword that is neither a head field nor a label map.
        """
        task_class = ArchitFactory.get_task(task)
        head_fields, label_maps = ArchitFactory.split_kwargs(task_class, kwargs)
        head_config = attrs.evolve(task_class.default_head_config(), **head_fields)
        return task_class.from_config(config, head_config=head_config, **label_maps)


def _load_config(name_or_path: str | os.PathLike, kwargs: dict[str, Any]) -> PretrainedConfig:
    """The config of a checkpoint directory or hub id, located with the hub options among ``kwargs``."""
    checkpoint = locate_checkpoint(name_or_path, weights=False, **location_options(kwargs))
    return checkpoint.load_config(kwargs.get("trust_remote_code", False))


class _AutoTaskDispatch:
    """Registered with an ``AutoModelFor...`` class that several tasks share: loads an archit checkpoint as the
    task it was saved as when that is one of them, else as the default task (with a new head, as transformers'
    Auto classes give a checkpoint of another task)."""

    config_class = ArchitConfig
    tasks: tuple[str, ...] = ()

    @classmethod
    def task_of(cls, config: ArchitConfig) -> type[ModelWithHead]:
        return TASKS.get(config.task if config.task in cls.tasks else cls.tasks[0])

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *model_args: Any, **kwargs: Any) -> ModelWithHead:
        config = kwargs.get("config") or _load_config(name_or_path, kwargs)
        return cls.task_of(config).from_pretrained(name_or_path, *model_args, **kwargs)

    @classmethod
    def from_config(cls, config: ArchitConfig, **kwargs: Any) -> ModelWithHead:
        return cls.task_of(config).from_config(config, **kwargs)


class _AutoBackboneDispatch:
    """Registered with ``AutoModel``: the backbone part of an archit checkpoint, as its plain HF class."""

    config_class = ArchitConfig

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *model_args: Any, **kwargs: Any) -> Any:
        config = kwargs.pop("config", None) or _load_config(name_or_path, kwargs)
        if config.task in TASKS:  # build the backbone as the task did (without a pooler it does not use)
            specialised = TASKS.get(config.task).specialised_for(config.backbone_config)
            kwargs = {**specialised._backbone_kwargs(config.get_head_config()), **kwargs}
        return BaseModel.from_pretrained(name_or_path, config=config, **kwargs)

    @classmethod
    def from_config(cls, config: ArchitConfig, **kwargs: Any) -> Any:
        return BaseModel(config.backbone_config, **kwargs)


def _tasks_by_auto_class() -> dict[str, tuple[str, ...]]:
    """The registered task names by the ``AutoModelFor...`` class they declare (``hf_auto_class``), in natural
    order with the default (``hf_auto_default``) first where several share one.

    Raises:
        RegistrationError: several tasks share an Auto class and not exactly one of them is its default.
    """
    by_auto: dict[str, list[str]] = {}
    for name, task_class in TASKS.items():
        if task_class.hf_auto_class is not None:
            by_auto.setdefault(task_class.hf_auto_class, []).append(name)
    ordered = {}
    for auto_name, names in by_auto.items():
        defaults = [name for name in names if TASKS.get(name).hf_auto_default]
        if len(names) > 1 and len(defaults) != 1:
            raise RegistrationError(
                f"Tasks {', '.join(names)} share {auto_name}, and {len(defaults)} of them set hf_auto_default; "
                "set it on exactly one (the task an archit checkpoint of another task loads as)."
            )
        ordered[auto_name] = tuple(defaults + [name for name in names if name not in defaults])
    return ordered


def _register_with_transformers() -> None:
    # A task alone in its Auto class is registered as itself (so pipelines recognise it by name); where several
    # tasks share an Auto class, a dispatcher loads the task the checkpoint was saved as. Run again on every
    # change to TASKS, so a task registered later (archit.extend.register_task) reaches its Auto class too.
    for auto_name, tasks in _tasks_by_auto_class().items():
        if len(tasks) == 1:
            model_class = TASKS.get(tasks[0])
        else:
            model_class = type(f"Archit{auto_name.removeprefix('AutoModel')}", (_AutoTaskDispatch,), {"tasks": tasks})
        getattr(transformers, auto_name).register(ArchitConfig, model_class, exist_ok=True)
        make_known_to_pipelines(ArchitConfig.model_type, auto_name, tuple(TASKS.get(task).__name__ for task in tasks))
    transformers.AutoModel.register(ArchitConfig, _AutoBackboneDispatch, exist_ok=True)


_register_with_transformers()
TASKS.on_change(_register_with_transformers)
