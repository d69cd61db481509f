"""The task registry: ``TASKS`` and :func:`register_task`, which each task package calls at its bottom."""

from __future__ import annotations

from archit.errors import RegistrationError, UnknownTaskError
from archit.modeling.tasks.base import ModelWithHead
from archit.registry import Registry

__all__ = ["TASKS", "register_task"]

TASKS: Registry[type[ModelWithHead]] = Registry(
    "task", UnknownTaskError, "Register your own with archit.extend.register_task(TaskClass)."
)
"""The tasks :class:`ArchitFactory` builds, by task name: the one list of task names."""


def register_task(task_class: type[ModelWithHead], name: str | None = None, exist_ok: bool = False) -> type:
    """Make a task available to :class:`ArchitFactory` under ``name`` (its ``task_name`` by default).

    Raises:
        RegistrationError: not a :class:`ModelWithHead`, no name, or the name is taken and ``exist_ok`` is false.
    """
    if not (isinstance(task_class, type) and issubclass(task_class, ModelWithHead)):
        raise RegistrationError(f"A task must subclass archit.modeling.tasks.ModelWithHead; got {task_class!r}.")
    name = name or task_class.task_name
    if not name:
        raise RegistrationError(f"{task_class.__name__} has no task_name; set it or pass name=.")
    return TASKS.register(task_class, name, exist_ok=exist_ok)
