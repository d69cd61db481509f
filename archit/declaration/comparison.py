"""Compare a modified module tree with its reference, and write the statements that declare the difference.

The walk goes through both trees side by side. A module whose subtree changed is declared by a class of its
own (planned by :class:`~archit.declaration.planning.Planner`), except containers (``ModuleList``,
``ModuleDict``, ``Sequential``), whose entries the nearest enclosing class overrides by index or key. A module
that is new, or built with other arguments, is written as a constructor call, itself declared when it was
changed after construction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn

from archit.declaration.arguments import CONTAINERS, build, effective_class, is_torch_builtin, recover_init_args
from archit.declaration.frame import Frame, describe, join_path
from archit.declaration.planning import ClassPlan, Planner
from archit.declaration.recording import InitArguments, record_init_args, recorded_init_args
from archit.declaration.rendering import Imports, Scope, is_plain, render_call, render_value, same_value, string_literal
from archit.declaration.tensors import TensorText, tensor_entries, tensor_signature
from archit.errors import DeclarationError

__all__ = ["Comparison"]

_SKIPPED_ATTRIBUTES = frozenset({"training", "gradient_checkpointing"})


class Comparison:
    """The walk of one declaration: compares modules and plans the classes that declare their differences.

    Args:
        imports: the generated module's imports.
        planner: plans the classes to emit.
        tensors: writes new parameters and buffers.
        records: the constructor arguments of the reference's modules, recorded while it was built, keyed by
            ``id(module)``; extended with those of the references of new modules.
    """

    def __init__(
        self,
        imports: Imports,
        planner: Planner,
        tensors: TensorText,
        records: dict[int, tuple[nn.Module, InitArguments]],
    ) -> None:
        self.imports = imports
        self.planner = planner
        self.tensors = tensors
        self.records = records
        self.leaf_changes: list[str] = []
        """Every change that is not a class declared in place of a module: the generated module's summary."""

    def declare(
        self,
        instance: nn.Module,
        reference: nn.Module,
        arguments: InitArguments | None,
        path: str,
        top_name: str | None = None,
    ) -> ClassPlan | None:
        """The class declaring how ``instance`` differs from ``reference``, or ``None`` when it does not.

        Args:
            instance: the module as modified.
            reference: the same module as its class builds it (on the meta device).
            arguments: the constructor arguments the reference was built with, or ``None`` when unknown.
            path: the module's dotted path (``""`` for the top).
            top_name: the top class's name, when ``instance`` is the model itself.

        Returns:
            The planned class (shared with an earlier module of the same class changed alike), or ``None``.

        Raises:
            DeclarationError: a change cannot be written as code (see
                :func:`~archit.declaration.generate_difference`).
        """
        frame = Frame.of_class(instance, reference, arguments, path)
        self._compare(frame)
        if not frame.statements:
            return None
        return self.planner.plan(frame, top_name)

    def _compare(self, frame: Frame) -> None:
        """Append the statements that turn the reference's direct members into the instance's."""
        self._compare_children(frame)
        self._compare_tensors(frame)
        self._compare_attributes(frame)

    def _compare_children(self, frame: Frame) -> None:
        """Declare submodules that were set to ``None``, added, changed or deleted."""
        mine, theirs = frame.instance._modules, frame.reference._modules
        deleted: list[str] = []
        for name in [*theirs, *(n for n in mine if n not in theirs)]:
            if name not in mine:
                deleted.append(name)
                continue
            new, old = mine[name], theirs.get(name)
            if new is old:
                continue
            if new is None:
                frame.emit(frame.where(name).assign("None"))
                self._change(frame, name, "set to None")
            elif old is None:
                self._add_child(frame, name, new, added=name not in theirs)
            else:
                self._compare_child(frame, name, new, old)
        if deleted:
            self._delete_children(frame, deleted)

    def _add_child(self, frame: Frame, name: str, new: nn.Module, added: bool) -> None:
        """Declare a submodule where the reference has none: ``added`` when it has no such name at all."""
        container = type(frame.instance) if type(frame.instance) in CONTAINERS else None
        where = frame.where(name)
        expression = self._render_new(new, frame.scope, frame.member_path(name))
        if added and container is not None and where.style == "index":
            frame.emit(f"{frame.target}.append({expression})")
        elif added and container is nn.Sequential:
            frame.emit(f"{frame.target}.add_module({string_literal(name)}, {expression})")
        else:
            frame.emit(where.assign(expression))
        self._change(frame, name, f"added ({effective_class(type(new)).__name__})")

    def _delete_children(self, frame: Frame, deleted: list[str]) -> None:
        """Delete submodules; the last entries of a list or sequence go in one slice (``del self.layer[2:]``)."""
        kept = len(frame.instance._modules)
        tail = [str(i) for i in range(kept, kept + len(deleted))]
        if type(frame.instance) in (nn.ModuleList, nn.Sequential) and deleted == tail:
            frame.emit(f"del {frame.target}[{kept}:]")
        else:
            for name in deleted:
                frame.emit(frame.where(name).delete())
        for name in deleted:
            self._change(frame, name, "deleted")

    def _compare_child(self, frame: Frame, name: str, new: nn.Module, old: nn.Module) -> None:
        """Declare one submodule present in both trees: see into containers, subclass or replace it."""
        cls = effective_class(type(new))
        path = frame.member_path(name)
        if cls is effective_class(type(old)) and cls in CONTAINERS:
            self._compare(frame.child(name, new, old))
            return
        if cls is effective_class(type(old)) and not self._rebuilt(new, old, cls, frame.scope, path):
            arguments, problem = self._reference_arguments(old, cls, path)
            plan = self.declare(new, old, arguments, path)
            if plan is None:
                return
            if arguments is None:
                raise problem or DeclarationError(f"Unknown constructor arguments for {describe(old, path)}.")
            render_module = self._module_renderer(frame.scope, path)
            call = render_call(plan.name, arguments, frame.scope, self.imports, describe(new, path), render_module)
            frame.emit(frame.where(name).assign(self._wrapped(new, call, path)))
            self._change(frame, name, f"declared as {plan.name}", leaf=False)
            return
        frame.emit(frame.where(name).assign(self._render_new(new, frame.scope, path)))
        self._change(frame, name, f"replaced by {cls.__name__}")

    def _reference_arguments(
        self, module: nn.Module, cls: type[nn.Module], path: str
    ) -> tuple[InitArguments | None, DeclarationError | None]:
        """How the reference built ``module``: recorded during its construction, else recovered."""
        if id(module) in self.records:
            return self.records[id(module)][1], None
        try:
            return recover_init_args(module, cls, describe(module, path)), None
        except DeclarationError as error:
            return None, error

    def _rebuilt(self, new: nn.Module, old: nn.Module, cls: type[nn.Module], scope: Scope, path: str) -> bool:
        """Whether ``new`` was constructed with other arguments than ``old`` (so it is declared as new)."""
        if not is_torch_builtin(cls) and recorded_init_args(new) is None:
            return False
        scratch = Imports()
        placeholder = lambda module, what: f"<module {id(module)}>"  # noqa: E731
        try:
            mine = recover_init_args(new, cls, describe(new, path))
            if not is_torch_builtin(cls) and id(old) in self.records:
                theirs = self.records[id(old)][1]
            else:
                theirs = recover_init_args(old, cls, describe(old, path))
            return render_call("_", mine, scope, scratch, path, placeholder) != render_call(
                "_", theirs, scope, scratch, path, placeholder
            )
        except DeclarationError:
            return True

    def _compare_tensors(self, frame: Frame) -> None:
        """Declare parameters and buffers that were added, deleted, reshaped, retyped or re-registered."""
        mine, theirs = tensor_entries(frame.instance), tensor_entries(frame.reference)
        for name in [*theirs, *(n for n in mine if n not in theirs)]:
            new, old = mine.get(name), theirs.get(name)
            if new is not None and old is not None and tensor_signature(new) == tensor_signature(old):
                continue
            where = frame.where(name)
            if new is None:
                frame.emit(where.delete())
                self._change(frame, name, f"{theirs[name].kind} deleted")
                continue
            kind, tensor, persistent = new
            if old is not None and old.kind != kind and old.tensor is not None:
                frame.emit(where.delete())
            if kind == "parameter":
                frame.emit(where.assign("None" if tensor is None else self.tensors.parameter(tensor)))
            else:
                self._register_buffer(frame, name, tensor, persistent)
            self._change(frame, name, f"{kind} {'replaced' if old is not None else 'added'}")

    def _register_buffer(self, frame: Frame, name: str, tensor: torch.Tensor | None, persistent: bool) -> None:
        """Declare a buffer; a non-persistent one is also re-filled by ``_archit_fill_buffers``."""
        what = f"buffer {name!r} of {frame.describe()}"
        value = "None" if tensor is None else self.tensors.buffer(tensor, persistent, what)
        flag = "" if persistent else ", persistent=False"
        refill: tuple[str, ...] = ()
        if not persistent and tensor is not None:  # its values are not in checkpoints
            where = frame.where(name)
            found = f"getattr({where.parent}, {string_literal(name)}, None)"
            refill = (
                f"if {found} is not None:  # not yet registered while __init__ runs",
                f"    {where.read()}.copy_({value})",
            )
        frame.emit(f"{frame.target}.register_buffer({string_literal(name)}, {value}{flag})", refill)

    def _compare_attributes(self, frame: Frame) -> None:
        """Declare public attributes holding literals that differ from the reference's (``self.scale = 2.0``)."""
        theirs = vars(frame.reference)
        for name, value in vars(frame.instance).items():
            if name.startswith("_") or name in _SKIPPED_ATTRIBUTES or not is_plain(value):
                continue
            if name in theirs and same_value(theirs[name], value):
                continue
            frame.emit(frame.where(name).assign(render_value(value, Scope(), self.imports, f"attribute {name!r}")))
            self._change(frame, name, f"set to {value!r}")

    def _render_new(self, module: nn.Module, scope: Scope, path: str) -> str:
        """An expression, in ``scope``, that constructs ``module`` (and its own later changes)."""
        cls = effective_class(type(module))
        what = describe(module, path)
        if cls in CONTAINERS:
            return self._render_container(module, cls, scope, path)
        arguments = recover_init_args(module, cls, what)
        try:
            with torch.device("meta"), record_init_args(self.records):
                reference = build(cls, arguments)
        except Exception as error:
            raise DeclarationError(
                f"Building {what} again from its recovered arguments on the meta device failed "
                f"({type(error).__name__}: {error}). Build it inside `with archit.declaration.record_init_args():`."
            ) from error
        if is_torch_builtin(cls) and reference.extra_repr() != module.extra_repr():
            raise DeclarationError(
                f"The arguments recovered for {what} build `{reference.extra_repr()}`, not `{module.extra_repr()}`. "
                "Build it inside `with archit.declaration.record_init_args():`."
            )
        plan = self.declare(module, reference, arguments, path)
        callee = plan.name if plan is not None else self.imports.name_for(cls, f"class of {what}")
        call = render_call(callee, arguments, scope, self.imports, what, self._module_renderer(scope, path))
        return self._wrapped(module, call, path)

    def _render_container(self, module: nn.Module, cls: type[nn.Module], scope: Scope, path: str) -> str:
        """A new ``ModuleList``, ``ModuleDict`` or ``Sequential`` with each entry constructed in place."""
        if module._parameters or module._buffers:
            raise DeclarationError(
                f"The {cls.__name__} at {path!r} holds parameters or buffers of its own, which the compiler does "
                "not declare for a new container. Put them in a module of their own."
            )
        items: list[tuple[str, str]] = []
        for name, child in module._modules.items():
            if child is None:
                raise DeclarationError(f"The {cls.__name__} at {path!r} holds None at {name!r}; remove the entry.")
            items.append((name, self._render_new(child, scope, join_path(path, name))))
        callee = self.imports.name_for(cls, f"class of {path!r}")
        if cls is nn.ModuleDict:
            return f"{callee}({{{', '.join(f'{string_literal(k)}: {v}' for k, v in items)}}})"
        if cls is nn.ModuleList:
            return f"{callee}([{', '.join(v for _, v in items)}])"
        if [k for k, _ in items] == [str(i) for i in range(len(items))]:
            return f"{callee}({', '.join(v for _, v in items)})"
        ordered = self.imports.name_for(OrderedDict, "OrderedDict")
        return f"{callee}({ordered}([{', '.join(f'({string_literal(k)}, {v})' for k, v in items)}]))"

    def _module_renderer(self, scope: Scope, path: str) -> Callable[[nn.Module, str], str]:
        """Render a module passed as a constructor argument (``Wrapper(inner=nn.Linear(4, 4))``)."""

        def render(module: nn.Module, what: str) -> str:
            return self._render_new(module, scope, f"{path}:{what.split()[1].strip(chr(39))}")

        return render

    def _wrapped(self, module: nn.Module, expression: str, path: str) -> str:
        """Wrap the expression again when the instance's module was wrapped by ``ArchitWrapper``."""
        wrapper = getattr(type(module), "_archit_wrapper_class", None)
        if not isinstance(wrapper, type):
            return expression
        name = self.imports.name_for(wrapper, f"wrapper of {path!r}")
        family = getattr(getattr(type(module), "family", None), "name", None)
        if isinstance(family, str):
            return f"{name}.wrap({expression}, {string_literal(family)})"
        return f"{name}.wrap({expression})"

    def _change(self, frame: Frame, name: str, text: str, leaf: bool = True) -> None:
        """Describe a change of member ``name``: in the class's docstring, and in the module's when ``leaf``."""
        path = frame.member_path(name)
        frame.changes.append(f"{path}: {text}")
        if leaf:
            self.leaf_changes.append(f"{path or '(top)'}: {text}")
