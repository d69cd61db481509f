"""Turn a model that was modified in place into importable class code.

A user loads ``RobertaForMaskedLM``, sets ``model.roberta.embeddings.word_embeddings = CoolEmbeddings(...)``,
trains and saves it. Loading that checkpoint again needs classes that declare the change::

    from archit.declaration.compiler import printDifference
    printDifference(model, RobertaForMaskedLM)

The compiler builds a reference ``RobertaForMaskedLM(config)`` on the meta device (no parameter memory, so a
7B model declares as fast as a small one) and walks both trees side by side. For every module whose subtree
changed it emits a subclass of that module's own class whose ``__init__`` calls the parent's and then
declares what changed; ``forward`` and everything else are inherited. Entries of ``ModuleList``,
``ModuleDict`` and ``Sequential`` are overridden by index or key in the nearest enclosing class.

What is compared: submodules (replaced, added, deleted, set to ``None``), parameters and buffers (added,
deleted, of another shape or kind, persistence), and public attributes holding literals (``self.scale =
2.0``). Floating-point dtypes, ``requires_grad``, devices, hooks and the values of weights are state, not
structure, and are not declared. Non-persistent buffers with the same name and shape are assumed unchanged
(their values cannot be read from a meta reference).
"""

from __future__ import annotations

import copy
import inspect
import os
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from archit.declaration.arguments import (
    CONTAINERS,
    build,
    effective_class,
    is_torch_builtin,
    recover_init_args,
)
from archit.declaration.assembly import empty_module, module_text
from archit.declaration.frame import Frame, Statement, describe, join_path
from archit.declaration.planning import ClassPlan, Planner
from archit.declaration.recording import InitArguments, record_init_args, recorded_init_args
from archit.declaration.rendering import (
    Imports,
    Scope,
    is_plain,
    render_call,
    render_value,
    same_value,
    string_literal,
)
from archit.declaration.tensors import TensorText, tensor_entries, tensor_signature
from archit.declaration.ties import tie_statements
from archit.errors import DeclarationError

__all__ = ["generate_difference", "printDifference", "print_difference", "write_difference"]

DEFAULT_SUFFIX = "Modified"
_SKIPPED_ATTRIBUTES = frozenset({"training", "gradient_checkpointing"})


def generate_difference(instance: nn.Module, klass: type[nn.Module], suffix: str = DEFAULT_SUFFIX) -> str:
    """The source of a module whose classes rebuild ``instance``'s structure from ``klass``.

    Args:
        instance: the model as modified in place (it may be wrapped by ``ArchitWrapper`` and live on any
            device, including meta).
        klass: the class the model was built as, e.g. ``RobertaForMaskedLM``. A ``PreTrainedModel`` class is
            rebuilt from ``instance.config``; any other class from the arguments ``instance`` was recorded
            with (see :func:`~archit.declaration.record_init_args`) or keeps as same-named attributes.
        suffix: appended to each changed class's name (``RobertaEmbeddings`` -> ``RobertaEmbeddingsModified``).

    Returns:
        The module's source. Its top class, ``klass.__name__ + suffix``, builds from the same config, loads
        ``instance.state_dict()`` with ``strict=True`` and computes the same outputs. With no difference
        the module declares nothing and its docstring says so.

    Raises:
        DeclarationError: a new module's constructor arguments cannot be recovered, a class cannot be
            imported (defined in ``__main__`` or a local scope), a value cannot be written as code, or
            ``instance`` is not a ``klass``.
    """
    if not suffix.isidentifier():
        raise DeclarationError(f"The suffix must be usable in a class name (letters, digits, '_'); got {suffix!r}.")
    return _Compiler(suffix).compile(instance, klass)


def printDifference(instance: nn.Module, klass: type[nn.Module], suffix: str = DEFAULT_SUFFIX) -> None:  # noqa: N802
    """Print the class code that declares how ``instance`` differs from ``klass`` (ArchIt's name).

    Args:
        instance: the model as modified in place.
        klass: the class it was built as.
        suffix: appended to each changed class's name.

    Raises:
        DeclarationError: as :func:`generate_difference`.
    """
    print(generate_difference(instance, klass, suffix=suffix), end="")


print_difference = printDifference


def write_difference(
    instance: nn.Module, klass: type[nn.Module], path: str | os.PathLike[str], suffix: str = DEFAULT_SUFFIX
) -> str:
    """Write the class code that declares ``instance`` to ``path``, an importable ``.py`` module.

    Args:
        instance: the model as modified in place.
        klass: the class it was built as.
        path: the file to write; its folder must exist. An existing file is replaced only once the new text
            has been generated and parsed.
        suffix: appended to each changed class's name.

    Returns:
        The text written.

    Raises:
        DeclarationError: as :func:`generate_difference`.
    """
    text = generate_difference(instance, klass, suffix=suffix)
    temporary = f"{os.fspath(path)}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
    return text


@dataclass
class _Compiler:
    """The state of one declaration: imports, classes to emit, and records of the reference's construction."""

    suffix: str
    imports: Imports = field(default_factory=Imports)
    leaf_changes: list[str] = field(default_factory=list)
    records: dict[int, tuple[nn.Module, InitArguments]] = field(default_factory=dict)
    tensors: TensorText = field(init=False)
    planner: Planner = field(init=False)

    def __post_init__(self) -> None:
        self.planner = Planner(self.imports, self.suffix)

    # --- entry point -------------------------------------------------------------------------------------
    def compile(self, instance: nn.Module, klass: type[nn.Module]) -> str:
        if not (isinstance(klass, type) and issubclass(klass, nn.Module)):
            raise DeclarationError(f"klass must be a torch.nn.Module class such as RobertaForMaskedLM; got {klass!r}.")
        base = effective_class(klass)
        found = effective_class(type(instance))
        if not issubclass(found, base):
            raise DeclarationError(
                f"The instance is a {found.__qualname__}, not a {base.__qualname__}: pass the class the model "
                f"was built as, e.g. generate_difference(model, {found.__name__})."
            )
        self.tensors = TensorText(
            self.imports, next((p.dtype for p in instance.parameters() if p.is_floating_point()), None)
        )
        reference, arguments = self._reference(instance, base)
        top_name = f"{base.__name__}{self.suffix}"
        self.imports.reserve(top_name)
        plan = self._declare(instance, reference, arguments, "", top_name=top_name)
        text = (
            module_text(base, plan, self.planner.plans, self.imports, self.leaf_changes) if plan is not None else None
        )
        generated = self._build_generated(text, instance, base, arguments) if text is not None else reference
        statements, changes = tie_statements(instance, generated, self.tensors.parameter)
        if statements:
            if plan is None:
                plan = self.planner.empty_top(base, top_name)
            plan.statements.extend(Statement(code) for code in statements)
            plan.changes.extend(changes)
            self.leaf_changes.extend(changes)
            text = module_text(base, plan, self.planner.plans, self.imports, self.leaf_changes)
            self._build_generated(text, instance, base, arguments)
        return text if text is not None else empty_module(base)

    def _build_generated(
        self, text: str, instance: nn.Module, base: type[nn.Module], arguments: InitArguments
    ) -> nn.Module:
        """Execute the generated module and build its top class on the meta device, as a check and for ties."""
        namespace: dict[str, Any] = {"__name__": "archit_declaration_check"}
        try:
            exec(compile(text, "<archit.declaration generated module>", "exec"), namespace)  # noqa: S102
            top = namespace["__all__"][-1]
            with torch.device("meta"):
                if getattr(instance, "config", None) is not None and hasattr(base, "config_class"):
                    generated = namespace[top](copy.deepcopy(instance.config))
                else:
                    generated = build(namespace[top], arguments)
        except DeclarationError:
            raise
        except Exception as error:
            raise DeclarationError(
                f"The generated module does not build on the meta device ({type(error).__name__}: {error}). "
                f"This is a bug of archit.declaration or a constructor that does not run on meta; generated text:"
                f"\n{text}"
            ) from error
        mine = {k: tuple(v.shape) for k, v in instance.state_dict().items()}
        theirs = {k: tuple(v.shape) for k, v in generated.state_dict().items()}
        if mine != theirs:
            different = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
            raise DeclarationError(
                f"The generated classes would not load the instance's state dict strictly (keys or shapes differ: "
                f"{different[:8]}); this is a bug of archit.declaration, please report it."
            )
        return generated

    def _reference(self, instance: nn.Module, base: type[nn.Module]) -> tuple[nn.Module, InitArguments]:
        """Build ``base`` on the meta device, from the instance's config when it has one."""
        config = getattr(instance, "config", None)
        if config is not None and hasattr(base, "config_class"):
            arguments = InitArguments(inspect.Signature(), {})
            call: Any = lambda: base(copy.deepcopy(config))  # noqa: E731
        else:
            arguments = recover_init_args(instance, base, describe(instance, ""))
            call = lambda: build(base, arguments)  # noqa: E731
        try:
            with torch.device("meta"), record_init_args(self.records):
                reference = call()
        except DeclarationError:
            raise
        except Exception as error:
            raise DeclarationError(
                f"Building the reference {base.__name__} on the meta device failed ({type(error).__name__}: "
                f"{error}). The compiler compares the instance with a fresh {base.__name__} built from its config."
            ) from error
        if id(reference) in self.records:
            arguments = self.records[id(reference)][1]
        return reference, arguments

    # --- comparison --------------------------------------------------------------------------------------
    def _declare(
        self,
        instance: nn.Module,
        reference: nn.Module,
        arguments: InitArguments | None,
        path: str,
        top_name: str | None = None,
    ) -> ClassPlan | None:
        """The class declaring how ``instance`` differs from ``reference``, or ``None`` when it does not."""
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
            plan = self._declare(new, old, arguments, path)
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
        self, module: nn.Module, cls: type, path: str
    ) -> tuple[InitArguments | None, DeclarationError | None]:
        """How the reference built ``module``: recorded during its construction, else recovered."""
        if id(module) in self.records:
            return self.records[id(module)][1], None
        try:
            return recover_init_args(module, cls, describe(module, path)), None
        except DeclarationError as error:
            return None, error

    def _rebuilt(self, new: nn.Module, old: nn.Module, cls: type, scope: Scope, path: str) -> bool:
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

    # --- new modules ---------------------------------------------------------------------------------------
    def _render_new(self, module: nn.Module, scope: Scope, path: str) -> str:
        """An expression, in ``scope``, that constructs ``module`` (and its own later changes)."""
        cls = effective_class(type(module))
        what = describe(module, path)
        if cls in CONTAINERS:
            return self._render_container(module, cls, scope, path)
        arguments = recover_init_args(module, cls, what)
        if is_torch_builtin(cls):
            arguments = InitArguments(arguments.signature, {k: v for k, v in arguments.values.items()})
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
        plan = self._declare(module, reference, arguments, path)
        callee = plan.name if plan is not None else self.imports.name_for(cls, f"class of {what}")
        call = render_call(callee, arguments, scope, self.imports, what, self._module_renderer(scope, path))
        return self._wrapped(module, call, path)

    def _render_container(self, module: nn.Module, cls: type, scope: Scope, path: str) -> str:
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
        ordered = self.imports.name_for(_ordered_dict(), "OrderedDict")
        return f"{callee}({ordered}([{', '.join(f'({string_literal(k)}, {v})' for k, v in items)}]))"

    def _module_renderer(self, scope: Scope, path: str) -> Any:
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

    # --- text ----------------------------------------------------------------------------------------------------
    def _change(self, frame: Frame, name: str, text: str, leaf: bool = True) -> None:
        """Describe a change of member ``name``: in the class's docstring, and in the module's when ``leaf``."""
        path = frame.member_path(name)
        frame.changes.append(f"{path}: {text}")
        if leaf:
            self.leaf_changes.append(f"{path or '(top)'}: {text}")


def _ordered_dict() -> type:
    from collections import OrderedDict

    return OrderedDict
