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

import ast
import copy
import inspect
import os
import textwrap
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from archit.declaration.arguments import (
    CONTAINERS,
    build,
    effective_class,
    init_signature,
    is_torch_builtin,
    recover_init_args,
)
from archit.declaration.recording import InitArguments, record_init_args, recorded_init_args
from archit.declaration.rendering import (
    Imports,
    Scope,
    Target,
    is_plain,
    render_call,
    render_value,
    same_value,
    string_literal,
)
from archit.declaration.ties import tie_statements
from archit.errors import DeclarationError

__all__ = ["generate_difference", "printDifference", "print_difference", "write_difference"]

DEFAULT_SUFFIX = "Modified"
_WIDTH = 116
_SKIPPED_ATTRIBUTES = frozenset({"training", "gradient_checkpointing"})
_MAX_LITERAL_ELEMENTS = 64
_FILL_MARK = "\x00"  # separates a statement from the line that re-fills its non-persistent buffer


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
class _Plan:
    """One class to emit: a subclass of ``base`` whose ``__init__`` runs ``statements`` after the parent's."""

    base: type
    path: str
    statements: list[str]
    changes: list[str]
    name: str = ""
    fills: list[str] = field(default_factory=list)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(module: nn.Module, path: str) -> str:
    return f"{type(module).__name__} at {path!r}" if path else f"the top {type(module).__name__}"


@dataclass
class _Compiler:
    """The state of one declaration: imports, classes to emit, and records of the reference's construction."""

    suffix: str
    imports: Imports = field(default_factory=Imports)
    plans: list[_Plan] = field(default_factory=list)
    leaf_changes: list[str] = field(default_factory=list)
    records: dict[int, tuple[nn.Module, InitArguments]] = field(default_factory=dict)
    float_dtype: torch.dtype | None = None
    _by_key: dict[tuple[type, tuple[str, ...]], _Plan] = field(default_factory=dict)

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
        self.float_dtype = next((p.dtype for p in instance.parameters() if p.is_floating_point()), None)
        reference, arguments = self._reference(instance, base)
        top_name = f"{base.__name__}{self.suffix}"
        self.imports.reserve(top_name)
        plan = self._declare(instance, reference, arguments, "", top_name=top_name)
        text = self._module_text(instance, base, plan) if plan is not None else None
        generated = self._build_generated(text, instance, base, arguments) if text is not None else reference
        statements, changes = tie_statements(instance, generated, self._parameter_text)
        if statements:
            if plan is None:
                self.imports.name_for(base, "class of the model")
                plan = _Plan(base, "", [], [], name=top_name)
                self.plans.append(plan)
            plan.statements.extend(statements)
            plan.changes.extend(changes)
            self.leaf_changes.extend(changes)
            text = self._module_text(instance, base, plan)
            self._build_generated(text, instance, base, arguments)
        return text if text is not None else self._empty_module(base)

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
            arguments = recover_init_args(instance, base, _describe(instance, ""))
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
    ) -> _Plan | None:
        """The class declaring how ``instance`` differs from ``reference``, or ``None`` when it does not."""
        scope = Scope(dict(arguments.values) if arguments is not None else {}, reference)
        statements: list[str] = []
        changes: list[str] = []
        self._compare("self", instance, reference, scope, path, statements, changes)
        if not statements:
            return None
        fills = [line for s in statements for line in s.split(_FILL_MARK)[1:]]
        statements = [s.split(_FILL_MARK)[0] for s in statements]
        base = effective_class(type(instance))
        key = (base, tuple(statements))
        if top_name is None and key in self._by_key:
            return self._by_key[key]
        base_text = self.imports.name_for(base, f"class of {_describe(instance, path)}")
        plan = _Plan(base, path, statements, changes, name=top_name or self._new_name(base), fills=fills)
        self._by_key.setdefault(key, plan)
        self.plans.append(plan)
        self._check_signature(plan, base_text)
        return plan

    def _new_name(self, base: type) -> str:
        stem = f"{base.__name__}{self.suffix}"
        name, counter = stem, 2
        while self.imports.is_taken(name):
            name, counter = f"{stem}{counter}", counter + 1
        self.imports.reserve(name)
        return name

    def _compare(
        self,
        target: str,
        instance: nn.Module,
        reference: nn.Module,
        scope: Scope,
        path: str,
        statements: list[str],
        changes: list[str],
    ) -> None:
        """Append the statements that turn ``reference``'s direct members into ``instance``'s."""
        self._compare_children(target, instance, reference, scope, path, statements, changes)
        self._compare_tensors(target, instance, reference, path, statements, changes)
        self._compare_attributes(target, instance, reference, scope, path, statements, changes)

    def _compare_children(
        self,
        target: str,
        instance: nn.Module,
        reference: nn.Module,
        scope: Scope,
        path: str,
        statements: list[str],
        changes: list[str],
    ) -> None:
        mine, theirs = instance._modules, reference._modules
        container = type(instance) if type(instance) in CONTAINERS else None
        deleted: list[str] = []
        for name in [*theirs, *(n for n in mine if n not in theirs)]:
            child_path = _join(path, name)
            where = Target.of(target, instance, name)
            if name not in mine:
                deleted.append(name)
                continue
            new, old = mine[name], theirs.get(name)
            if new is old:
                continue
            if new is None:
                statements.append(where.assign("None"))
                self._change(changes, child_path, "set to None")
            elif old is None:
                expression = self._render_new(new, scope, child_path)
                if name not in theirs and container is not None and where.style == "index":
                    statements.append(f"{target}.append({expression})")
                elif name not in theirs and container is nn.Sequential:
                    statements.append(f"{target}.add_module({string_literal(name)}, {expression})")
                else:
                    statements.append(where.assign(expression))
                self._change(changes, child_path, f"added ({effective_class(type(new)).__name__})")
            else:
                self._compare_child(where, new, old, scope, child_path, statements, changes)
        if deleted:
            self._delete_children(target, instance, deleted, path, statements, changes)

    def _delete_children(
        self, target: str, instance: nn.Module, deleted: list[str], path: str, statements: list[str], changes: list[str]
    ) -> None:
        kept = len(instance._modules)
        tail = [str(i) for i in range(kept, kept + len(deleted))]
        if type(instance) in (nn.ModuleList, nn.Sequential) and deleted == tail:
            statements.append(f"del {target}[{kept}:]")
        else:
            statements.extend(Target.of(target, instance, name).delete() for name in deleted)
        for name in deleted:
            self._change(changes, _join(path, name), "deleted")

    def _compare_child(
        self,
        where: Target,
        new: nn.Module,
        old: nn.Module,
        scope: Scope,
        path: str,
        statements: list[str],
        changes: list[str],
    ) -> None:
        """Declare one submodule present in both trees: see into containers, subclass or replace it."""
        cls = effective_class(type(new))
        if cls is effective_class(type(old)) and cls in CONTAINERS:
            self._compare(where.read(), new, old, scope, path, statements, changes)
            return
        if cls is effective_class(type(old)) and not self._rebuilt(new, old, cls, scope, path):
            arguments, problem = self._reference_arguments(old, cls, path)
            plan = self._declare(new, old, arguments, path)
            if plan is None:
                return
            if arguments is None:
                raise problem or DeclarationError(f"Unknown constructor arguments for {_describe(old, path)}.")
            call = render_call(
                plan.name, arguments, scope, self.imports, _describe(new, path), self._module_renderer(scope, path)
            )
            statements.append(where.assign(self._wrapped(new, call, path)))
            self._change(changes, path, f"declared as {plan.name}", leaf=False)
            return
        statements.append(where.assign(self._render_new(new, scope, path)))
        self._change(changes, path, f"replaced by {cls.__name__}")

    def _reference_arguments(
        self, module: nn.Module, cls: type, path: str
    ) -> tuple[InitArguments | None, DeclarationError | None]:
        """How the reference built ``module``: recorded during its construction, else recovered."""
        if id(module) in self.records:
            return self.records[id(module)][1], None
        try:
            return recover_init_args(module, cls, _describe(module, path)), None
        except DeclarationError as error:
            return None, error

    def _rebuilt(self, new: nn.Module, old: nn.Module, cls: type, scope: Scope, path: str) -> bool:
        """Whether ``new`` was constructed with other arguments than ``old`` (so it is declared as new)."""
        if not is_torch_builtin(cls) and recorded_init_args(new) is None:
            return False
        scratch = Imports()
        placeholder = lambda module, what: f"<module {id(module)}>"  # noqa: E731
        try:
            mine = recover_init_args(new, cls, _describe(new, path))
            if not is_torch_builtin(cls) and id(old) in self.records:
                theirs = self.records[id(old)][1]
            else:
                theirs = recover_init_args(old, cls, _describe(old, path))
            return render_call("_", mine, scope, scratch, path, placeholder) != render_call(
                "_", theirs, scope, scratch, path, placeholder
            )
        except DeclarationError:
            return True

    def _compare_tensors(
        self,
        target: str,
        instance: nn.Module,
        reference: nn.Module,
        path: str,
        statements: list[str],
        changes: list[str],
    ) -> None:
        """Declare parameters and buffers that were added, deleted, reshaped, retyped or re-registered."""
        mine, theirs = _tensor_entries(instance), _tensor_entries(reference)
        for name in [*theirs, *(n for n in mine if n not in theirs)]:
            new, old = mine.get(name), theirs.get(name)
            if new is not None and old is not None and _tensor_signature(new) == _tensor_signature(old):
                continue
            where = Target.of(target, instance, name)
            member_path = _join(path, name)
            if new is None:
                statements.append(where.delete())
                self._change(changes, member_path, f"{old[0]} deleted")
                continue
            kind, tensor, persistent = new
            if old is not None and old[0] != kind and old[1] is not None:
                statements.append(where.delete())
            what = f"{kind} {name!r} of {_describe(instance, path)}"
            if kind == "parameter":
                value = "None" if tensor is None else self._parameter_text(tensor)
                statements.append(where.assign(value))
            else:
                value = "None" if tensor is None else self._buffer_text(tensor, persistent, what)
                flag = "" if persistent else ", persistent=False"
                statement = f"{target}.register_buffer({string_literal(name)}, {value}{flag})"
                if not persistent and tensor is not None:  # remembered for _archit_fill_buffers
                    found = f"getattr({where.parent}, {string_literal(name)}, None)"
                    statement += f"{_FILL_MARK}if {found} is not None:  # not yet registered while __init__ runs"
                    statement += f"{_FILL_MARK}    {where.read()}.copy_({value})"
                statements.append(statement)
            self._change(changes, member_path, f"{kind} {'replaced' if old is not None else 'added'}")

    def _compare_attributes(
        self,
        target: str,
        instance: nn.Module,
        reference: nn.Module,
        scope: Scope,
        path: str,
        statements: list[str],
        changes: list[str],
    ) -> None:
        """Declare public attributes holding literals that differ from the reference's (``self.scale = 2.0``)."""
        theirs = vars(reference)
        for name, value in vars(instance).items():
            if name.startswith("_") or name in _SKIPPED_ATTRIBUTES or not is_plain(value):
                continue
            if name in theirs and same_value(theirs[name], value):
                continue
            where = Target.of(target, instance, name)
            statements.append(where.assign(render_value(value, Scope(), self.imports, f"attribute {name!r}")))
            self._change(changes, _join(path, name), f"set to {value!r}")

    # --- new modules ---------------------------------------------------------------------------------------
    def _render_new(self, module: nn.Module, scope: Scope, path: str) -> str:
        """An expression, in ``scope``, that constructs ``module`` (and its own later changes)."""
        cls = effective_class(type(module))
        what = _describe(module, path)
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
            items.append((name, self._render_new(child, scope, _join(path, name))))
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

    # --- tensors -----------------------------------------------------------------------------------------------
    def _dtype_suffix(self, tensor: torch.Tensor, always: bool = False) -> str:
        if always or not tensor.is_floating_point() or (self.float_dtype and tensor.dtype != self.float_dtype):
            return f", dtype={render_value(tensor.dtype, Scope(), self.imports, 'dtype')}"
        return ""

    def _zeros(self, tensor: torch.Tensor) -> str:
        shape = ", ".join(str(s) for s in tensor.shape) if tensor.dim() else "()"
        return f"{self.imports.module('torch')}.zeros({shape}{self._dtype_suffix(tensor)})"

    def _parameter_text(self, tensor: torch.Tensor) -> str:
        self.imports.name_for(nn.Parameter, "parameter")
        frozen = "" if tensor.requires_grad else ", requires_grad=False"
        return f"nn.Parameter({self._zeros(tensor)}{frozen})"

    def _buffer_text(self, tensor: torch.Tensor, persistent: bool, what: str) -> str:
        """A persistent buffer's values come from the state dict; a non-persistent one's must be written."""
        if persistent:
            return self._zeros(tensor)
        if tensor.device.type == "meta":
            raise DeclarationError(
                f"The non-persistent {what} is on the meta device, so its values are unknown, and they are not "
                "in the state dict either. Declare it from a model with real weights, or make it persistent."
            )
        torch_name = self.imports.module("torch")
        dtype = self._dtype_suffix(tensor, always=True)
        shape = tuple(tensor.shape)
        flat = tensor.detach().flatten()
        if flat.numel() == 0 or bool((flat == flat[0]).all()):
            fill = flat[0].item() if flat.numel() else 0
            if fill == 0:
                return f"{torch_name}.zeros({shape!r}{dtype})"
            return f"{torch_name}.full({shape!r}, {render_value(fill, Scope(), self.imports, what)}{dtype})"
        if flat.dtype != torch.bool and torch.equal(flat, torch.arange(flat.numel()).to(flat.dtype)):
            view = "" if tensor.dim() == 1 else f".view{shape!r}"
            return f"{torch_name}.arange({flat.numel()}{dtype}){view}"
        if flat.numel() <= _MAX_LITERAL_ELEMENTS:
            return f"{torch_name}.tensor({render_value(tensor.tolist(), Scope(), self.imports, what)}{dtype})"
        raise DeclarationError(
            f"The non-persistent {what} holds {flat.numel()} values that are not in the state dict and follow "
            f"no pattern the compiler writes (constant, arange, or at most {_MAX_LITERAL_ELEMENTS} values). "
            "Register it with persistent=True, or compute it in the module's __init__."
        )

    # --- text ----------------------------------------------------------------------------------------------------
    def _change(self, changes: list[str], path: str, text: str, leaf: bool = True) -> None:
        changes.append(f"{path}: {text}")
        if leaf:
            self.leaf_changes.append(f"{path or '(top)'}: {text}")

    def _check_signature(self, plan: _Plan, base_text: str) -> None:
        del base_text
        for name in init_signature(plan.base).parameters:
            if name in ("self", "super"):
                raise DeclarationError(f"{plan.base.__qualname__}.__init__ has a parameter named {name!r}.")

    def _class_text(self, plan: _Plan) -> list[str]:
        base = self.imports.name_for(plan.base, f"class of {plan.path!r}")
        signature = init_signature(plan.base)
        parameters, call = _signature_text(signature, self.imports, plan.base)
        clash = set(signature.parameters) & (self.imports.local_names() | {p.name for p in self.plans})
        if clash:
            raise DeclarationError(
                f"{plan.base.__qualname__}.__init__ has parameters named {sorted(clash)}, which the generated code "
                "also needs as imported names; pass another suffix or rename the import in your own module."
            )
        prefix = f"{plan.path}." if plan.path else ""
        local = [c.removeprefix(prefix) for c in plan.changes]
        summary = f"{plan.base.__name__}, with " + "; ".join(local) + "."
        lines = [f"class {plan.name}({base}):"]
        lines.extend(_docstring(summary, indent=4))
        lines.extend(["", f"    _archit_declared_base = {base}", ""])
        lines.append(f"    def __init__({', '.join(['self', *parameters])}):")
        lines.append(f"        super().__init__({', '.join(call)})")
        lines.extend(f"        {statement}" for statement in plan.statements)
        if plan.fills:
            lines.extend(["", "    def _archit_fill_buffers(self):"])
            lines.extend(_docstring(_FILL_DOC, indent=8))
            lines.extend(f"        {fill}" for fill in plan.fills)
        if any(p.fills for p in self.plans) and _is_pretrained_model(plan.base):
            lines.extend(["", "    def _init_weights(self, module):"])
            lines.extend(_docstring(_INIT_DOC, indent=8))
            lines.append("        super()._init_weights(module)")
            lines.append('        fill = getattr(module, "_archit_fill_buffers", None)')
            lines.extend(["        if fill is not None:", "            fill()"])
        return lines

    def _module_text(self, instance: nn.Module, base: type, top: _Plan) -> str:
        classes = [self._class_text(plan) for plan in self.plans]
        del instance
        source = f"{base.__module__}.{base.__qualname__}"
        fresh = f"a fresh {base.__name__}" + ("(config)" if hasattr(base, "config_class") else "")
        header = [
            f"Classes that declare a modified {base.__name__}; the top class is {top.name}.",
            "",
            f"Generated by archit.declaration.compiler from a modified instance of {source}, compared with {fresh}.",
            "",
            "Changes:",
            *[f"- {change}" for change in self.leaf_changes],
        ]
        lines = _docstring_lines(header, indent=0)
        names = [string_literal(p.name) for p in self.plans]
        exported = f"__all__ = [{', '.join(names)}]"
        if len(exported) > 120:
            exported = "\n".join(["__all__ = [", *(f"    {n}," for n in names), "]"])
        lines.extend(["", *self.imports.render(), "", exported])
        for class_lines in classes:
            lines.extend(["", "", *class_lines])
        return _finish("\n".join(lines) + "\n")

    def _empty_module(self, base: type) -> str:
        header = [
            f"No difference: the instance has the same structure as a fresh {base.__name__}; nothing to declare.",
            "",
            f"Generated by archit.declaration.compiler, compared with {base.__module__}.{base.__qualname__}.",
        ]
        return _finish("\n".join([*_docstring_lines(header, indent=0), "", "__all__: list[str] = []"]) + "\n")


_FILL_DOC = "Write the values of the non-persistent buffers declared above; checkpoints do not hold them."
_INIT_DOC = (
    "Initialise as the parent does, then re-fill archit-declared non-persistent buffers (transformers 5 loads "
    "checkpoints into empty tensors and initialises what they do not hold through this method)."
)


def _is_pretrained_model(cls: type) -> bool:
    """Whether ``cls`` is a transformers ``PreTrainedModel`` (without importing transformers)."""
    return any(k.__name__ == "PreTrainedModel" and k.__module__.startswith("transformers.") for k in cls.__mro__)


def _tensor_entries(module: nn.Module) -> dict[str, tuple[str, torch.Tensor | None, bool]]:
    entries: dict[str, tuple[str, torch.Tensor | None, bool]] = {}
    for name, parameter in module._parameters.items():
        entries[name] = ("parameter", parameter, True)
    for name, buffer in module._buffers.items():
        entries[name] = ("buffer", buffer, name not in module._non_persistent_buffers_set)
    return entries


def _tensor_signature(entry: tuple[str, torch.Tensor | None, bool]) -> tuple[Any, ...]:
    """What makes a parameter or buffer structurally the same: kind, shape, dtype family, persistence."""
    kind, tensor, persistent = entry
    if tensor is None:
        return kind, None, persistent
    dtype = "floating" if tensor.is_floating_point() else str(tensor.dtype)
    return kind, tuple(tensor.shape), dtype, persistent


def _ordered_dict() -> type:
    from collections import OrderedDict

    return OrderedDict


def _signature_text(signature: inspect.Signature, imports: Imports, owner: type) -> tuple[list[str], list[str]]:
    """The parameter list of a generated ``__init__`` (``self`` excluded) and the arguments of its super call."""
    parameters: list[str] = []
    call: list[str] = []
    star = False
    last_positional_only = None
    for p in signature.parameters.values():
        default = ""
        if p.default is not p.empty:
            what = f"default of {p.name!r} in {owner.__qualname__}.__init__"
            default = f"={render_value(p.default, Scope(), imports, what)}"
        if p.kind is p.POSITIONAL_ONLY:
            parameters.append(f"{p.name}{default}")
            call.append(p.name)
            last_positional_only = len(parameters)
        elif p.kind is p.POSITIONAL_OR_KEYWORD:
            parameters.append(f"{p.name}{default}")
            call.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            parameters.append(f"*{p.name}")
            call.append(f"*{p.name}")
            star = True
        elif p.kind is p.KEYWORD_ONLY:
            if not star:
                parameters.append("*")
                star = True
            parameters.append(f"{p.name}{default}")
            call.append(f"{p.name}={p.name}")
        else:
            parameters.append(f"**{p.name}")
            call.append(f"**{p.name}")
    if last_positional_only is not None:
        parameters.insert(last_positional_only, "/")
    return parameters, call


def _docstring(text: str, indent: int) -> list[str]:
    return _docstring_lines([text], indent)


def _docstring_lines(paragraphs: list[str], indent: int) -> list[str]:
    """A triple-quoted docstring, wrapped to fit ruff's 120 columns."""
    pad = " " * indent
    width = _WIDTH - indent
    body: list[str] = []
    for paragraph in paragraphs:
        if not paragraph:
            body.append("")
            continue
        hanging = "  " if paragraph.startswith("- ") else ""
        body.extend(textwrap.wrap(paragraph.replace('"""', "'''"), width=width, subsequent_indent=hanging) or [""])
    if len(body) == 1 and len(body[0]) + 6 <= width:
        return [f'{pad}"""{body[0]}"""']
    return [f'{pad}"""{body[0]}', *[f"{pad}{line}" if line else "" for line in body[1:]], f'{pad}"""']


def _finish(text: str) -> str:
    """Parse the generated text before anyone sees it; a compiler bug must not become a broken file."""
    try:
        ast.parse(text)
    except SyntaxError as error:  # pragma: no cover - a bug in this module
        raise DeclarationError(f"The compiler produced invalid Python ({error}); please report it:\n{text}") from error
    return text
