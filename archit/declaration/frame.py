"""What one step of the declaration walk works on: a module, its reference, and the ``__init__`` being written.

The compiler walks the modified instance and a freshly built reference side by side. A :class:`Frame` holds
what every step needs about the module in hand; what it declares goes into the frame's statements and
changes, which the frames of one generated class share (a container's entries are declared by the nearest
enclosing class).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from torch import nn

from archit.declaration.recording import InitArguments
from archit.declaration.rendering import Scope, Target

__all__ = ["Frame", "Statement", "describe", "join_path"]


def join_path(path: str, name: str) -> str:
    """The dotted path of member ``name`` of the module at ``path`` (``""`` is the top)."""
    return f"{path}.{name}" if path else name


def describe(module: nn.Module, path: str) -> str:
    """The module for error messages: ``"Linear at 'lm_head.dense'"``, or ``"the top RobertaForMaskedLM"``."""
    return f"{type(module).__name__} at {path!r}" if path else f"the top {type(module).__name__}"


@dataclass(frozen=True)
class Statement:
    """One statement of a generated ``__init__``.

    Args:
        code: the statement (``self.dense = nn.Linear(32, 32)``).
        refill: the lines that write the values of the non-persistent buffer it registers again, run by the
            class's ``_archit_fill_buffers``; empty for any other statement.
    """

    code: str
    refill: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """A module compared with its reference, inside the ``__init__`` of the generated class that declares it.

    Args:
        target: the module as an expression relative to that ``__init__``'s ``self`` (``self.layer[1]``).
        instance: the module as modified.
        reference: the same module in the reference.
        path: its dotted path from the top of the model (``""`` for the top).
        scope: the names available in the ``__init__``.
        statements: what the ``__init__`` declares, in order; shared by the frames of one class.
        changes: a description of each change, ``"<path>: <what>"``; shared likewise.
    """

    target: str
    instance: nn.Module
    reference: nn.Module
    path: str
    scope: Scope
    statements: list[Statement] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @classmethod
    def of_class(cls, instance: nn.Module, reference: nn.Module, arguments: InitArguments | None, path: str) -> Frame:
        """The frame of a module declared by a class of its own, with nothing declared yet.

        Args:
            instance: the module as modified.
            reference: the same module as its class builds it.
            arguments: the constructor arguments the reference was built with (the ``__init__``'s
                parameters), or ``None`` when unknown.
            path: the module's dotted path.

        Returns:
            A frame whose target is ``self`` and whose scope holds the arguments and the reference's
            submodules.
        """
        scope = Scope(dict(arguments.values) if arguments is not None else {}, reference)
        return cls("self", instance, reference, path, scope)

    def child(self, name: str, instance: nn.Module, reference: nn.Module) -> Frame:
        """The frame of submodule ``name``, declared in the same ``__init__`` (used for containers)."""
        target = self.where(name).read()
        return dataclasses.replace(
            self, target=target, instance=instance, reference=reference, path=self.member_path(name)
        )

    def where(self, name: str) -> Target:
        """Where member ``name`` of the module is read or written in the ``__init__``."""
        return Target.of(self.target, self.instance, name)

    def member_path(self, name: str) -> str:
        """The dotted path of member ``name`` of the module."""
        return join_path(self.path, name)

    def describe(self) -> str:
        """The module for error messages (see :func:`describe`)."""
        return describe(self.instance, self.path)

    def emit(self, code: str, refill: tuple[str, ...] = ()) -> None:
        """Append a statement to the ``__init__``."""
        self.statements.append(Statement(code, refill))
