"""The classes a declaration emits: one per module whose subtree changed, named, and shared by equal changes.

Each class subclasses the changed module's own class (``RobertaEmbeddings`` -> ``RobertaEmbeddingsModified``)
and runs its statements after the parent's ``__init__``. Two modules of one class with the same statements
(every layer of an encoder changed alike) share one class.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from archit.declaration.arguments import effective_class, init_signature
from archit.declaration.frame import Frame, Statement
from archit.declaration.rendering import Imports
from archit.errors import DeclarationError

__all__ = ["ClassPlan", "Planner"]


@dataclass
class ClassPlan:
    """One class to emit: a subclass of ``base`` whose ``__init__`` runs ``statements`` after the parent's.

    Args:
        base: the class it subclasses.
        path: the dotted path of the first module it declares (``""`` for the top).
        name: its name in the generated module.
        statements: the statements of its ``__init__``.
        changes: a description of each change it declares, ``"<path>: <what>"``.
    """

    base: type[nn.Module]
    path: str
    name: str
    statements: list[Statement]
    changes: list[str]

    @property
    def fills(self) -> list[str]:
        """The body of the class's ``_archit_fill_buffers``: the re-fill lines of its statements, in order."""
        return [line for statement in self.statements for line in statement.refill]


class Planner:
    """Plans the classes of one generated module, in the order the module defines them.

    Args:
        imports: the module's imports; each class's base is imported, and each class's name reserved.
        suffix: appended to a base class's name to name its subclass.
    """

    def __init__(self, imports: Imports, suffix: str) -> None:
        self.imports = imports
        self.suffix = suffix
        self.plans: list[ClassPlan] = []
        self._by_key: dict[tuple[type[nn.Module], tuple[str, ...]], ClassPlan] = {}

    def plan(self, frame: Frame, top_name: str | None = None) -> ClassPlan:
        """The class that declares the statements of ``frame``: a new one, or one planned for equal changes.

        Args:
            frame: the frame of a module declared by a class of its own, its statements complete.
            top_name: the name of the top class, when ``frame`` is the top module (always a class of its own).

        Returns:
            The plan, appended to :attr:`plans` when new.

        Raises:
            DeclarationError: the base class's ``__init__`` has a parameter named ``self`` or ``super``.
        """
        base = effective_class(type(frame.instance))
        key = (base, tuple(statement.code for statement in frame.statements))
        if top_name is None and key in self._by_key:
            return self._by_key[key]
        self.imports.name_for(base, f"class of {frame.describe()}")
        plan = ClassPlan(base, frame.path, top_name or self._new_name(base), frame.statements, frame.changes)
        self._by_key.setdefault(key, plan)
        self.plans.append(plan)
        _check_signature(base)
        return plan

    def empty_top(self, base: type[nn.Module], name: str) -> ClassPlan:
        """A top class with nothing declared yet (the statements that tie parameters are added to it)."""
        self.imports.name_for(base, "class of the model")
        plan = ClassPlan(base, "", name, [], [])
        self.plans.append(plan)
        return plan

    def _new_name(self, base: type) -> str:
        stem = f"{base.__name__}{self.suffix}"
        name, counter = stem, 2
        while self.imports.is_taken(name):
            name, counter = f"{stem}{counter}", counter + 1
        self.imports.reserve(name)
        return name


def _check_signature(base: type[nn.Module]) -> None:
    """The generated ``__init__`` repeats the base's parameters beside ``self`` and calls ``super()``."""
    for name in init_signature(base).parameters:
        if name in ("self", "super"):
            raise DeclarationError(f"{base.__qualname__}.__init__ has a parameter named {name!r}.")
