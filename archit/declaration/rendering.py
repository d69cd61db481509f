"""Turn Python values, imports and constructor calls into source text for generated modules.

Only values that can be written as code that rebuilds them are rendered: literals, dtypes, enum members,
importable classes and functions, and names that are in scope in the ``__init__`` being written (its own
parameters, their attributes, and the submodules its parent constructor already built). Anything else raises
:class:`~archit.errors.DeclarationError`, so the compiler never emits code that would not run.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import keyword
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from archit.declaration.recording import InitArguments
from archit.errors import DeclarationError

__all__ = ["Imports", "Scope", "Target", "is_plain", "render_call", "render_value", "same_value", "string_literal"]

_PLAIN_SCALARS = (type(None), bool, int, float, str, bytes)


def is_plain(value: Any) -> bool:
    """Whether ``value`` is a literal that :func:`render_value` writes without any import or scope.

    Args:
        value: any object.

    Returns:
        True for ``None``, booleans, numbers, strings, bytes, dtypes and tuples of those.
    """
    if isinstance(value, (_PLAIN_SCALARS, torch.dtype)):
        return not isinstance(value, enum.Enum)
    if type(value) is tuple:
        return all(is_plain(item) for item in value)
    return False


def string_literal(text: str) -> str:
    """``text`` as a Python string literal, in double quotes as black writes it."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def same_value(a: Any, b: Any) -> bool:
    """Whether two argument values are the same for the purpose of declaring code.

    Identical objects are the same; literals and containers of literals compare by type and value (``1`` is
    not ``True``, ``nan`` equals ``nan``); other objects (configs) compare with ``==`` when their types match.
    Tensors and modules are the same only when identical.

    Args:
        a: one value.
        b: the other.

    Returns:
        Whether code written for ``a`` also builds ``b``.
    """
    if a is b:
        return True
    if type(a) is not type(b) or isinstance(a, (torch.Tensor, nn.Module)):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 (objects whose __eq__ cannot answer are simply not the same)
        return False


class Imports:
    """The import statements a generated module needs, and the local name of each imported object.

    ``torch.nn`` classes are written ``nn.Linear``; everything else is imported by its real module and
    qualified name. Two objects with the same name get distinct local names, deterministically.
    """

    def __init__(self) -> None:
        self._modules: set[str] = set()
        self._names: dict[str, tuple[str, str]] = {}  # local name -> (module, attribute)
        self._by_object: dict[int, str] = {}
        self._keep: list[Any] = []
        self._reserved: set[str] = set()

    def reserve(self, name: str) -> None:
        """Keep ``name`` free for a class the module defines itself."""
        self._reserved.add(name)

    def is_taken(self, name: str) -> bool:
        """Whether ``name`` is already an imported or reserved local name."""
        return name in self._names or name in self._reserved or name in self._modules

    def module(self, name: str) -> str:
        """Import a whole module (``torch``) and return the name to use for it."""
        self._modules.add(name)
        return name

    def name_for(self, obj: Any, what: str) -> str:
        """Import a class, function or enum class and return the expression that names it.

        Args:
            obj: the object to import.
            what: a description for error messages (``"class of roberta.embeddings.word_embeddings"``).

        Returns:
            The local expression (``nn.Linear``, ``RobertaEmbeddings``, ``Outer.Inner``).

        Raises:
            DeclarationError: ``obj`` is defined in ``__main__`` or in a local scope, or its module does not
                give it back under its qualified name.
        """
        if id(obj) in self._by_object:
            return self._by_object[id(obj)]
        if getattr(nn, getattr(obj, "__name__", ""), None) is obj and inspect.isclass(obj):
            self._modules.add("torch.nn")
            expression = f"nn.{obj.__name__}"
        else:
            module_name, qualname = _importable_name(obj, what)
            head, _, rest = qualname.partition(".")
            local = head
            counter = 2
            while (local in self._names and self._names[local] != (module_name, head)) or local in self._reserved:
                local, counter = f"{head}_{counter}", counter + 1
            self._names[local] = (module_name, head)
            expression = f"{local}.{rest}" if rest else local
        self._by_object[id(obj)] = expression
        self._keep.append(obj)
        return expression

    def local_names(self) -> set[str]:
        """Every name the import block binds."""
        names = set(self._names)
        names.update("nn" if m == "torch.nn" else m.split(".")[0] for m in self._modules)
        return names

    def render(self) -> list[str]:
        """The import block as ruff's isort writes it: standard library, third party, then local packages."""
        sections: dict[int, list[str]] = {0: [], 1: [], 2: []}
        froms: dict[str, list[str]] = {}
        if "torch.nn" in self._modules:
            froms.setdefault("torch", []).append("nn")
        for local, (module_name, attribute) in self._names.items():
            froms.setdefault(module_name, []).append(attribute if local == attribute else f"{attribute} as {local}")
        for module_name in sorted(m for m in self._modules if m != "torch.nn"):
            sections[_section(module_name)].append(f"import {module_name}")
        for module_name in sorted(froms):
            names = sorted(froms[module_name], key=_isort_key)
            line = f"from {module_name} import {', '.join(names)}"
            if len(line) > 120:
                line = "\n".join([f"from {module_name} import (", *(f"    {n}," for n in names), ")"])
            sections[_section(module_name)].append(line)
        lines: list[str] = []
        for index in sorted(sections):
            block = _sort_section(sections[index])
            if block:
                lines.extend([""] * bool(lines) + block)
        return lines


def _sort_section(lines: list[str]) -> list[str]:
    """Order a section as isort's default profile does: by module name, ``import`` before ``from``."""

    def key(line: str) -> tuple[int, str]:
        words = line.split()
        return (0, words[1].lower()) if words[0] == "import" else (1, words[1].lower())

    return sorted(lines, key=key)


def _isort_key(name: str) -> tuple[int, str, str]:
    """ruff's ``order-by-type``: CONSTANTS, then Classes, then functions and modules."""
    bare = name.split(" as ")[0]
    if bare.isupper() and len(bare) > 1:
        return 0, bare.lower(), bare
    return (1 if bare[:1].isupper() else 2), bare.lower(), bare


def _section(module_name: str) -> int:
    """0 for the standard library, 1 for installed packages, 2 for local code (not under site-packages)."""
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names:
        return 0
    module = sys.modules.get(top)
    location = getattr(module, "__file__", None) or ""
    if location and "site-packages" not in location and "dist-packages" not in location:
        return 2
    return 1


def _importable_name(obj: Any, what: str) -> tuple[str, str]:
    """The module and qualified name under which generated code imports ``obj``, checked to give it back."""
    module_name, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    label = f"{module_name}.{qualname}" if module_name and qualname else repr(obj)
    if not module_name or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise DeclarationError(
            f"The {what} is {label}, which is defined in a local scope and cannot be imported by generated code. "
            "Define it at the top level of an importable module."
        )
    if module_name == "__main__":
        raise DeclarationError(
            f"The {what} is {label}, defined in __main__ (a script or notebook), which generated code cannot "
            "import. Move it to a module (a .py file on the Python path) and build the model with it from there."
        )
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise DeclarationError(
            f"The {what} is {label}, but that name cannot be imported ({error}). Define it at the top level of "
            "an importable module."
        ) from error
    if found is not obj:
        raise DeclarationError(
            f"The {what} is {label}, but importing that name gives a different object (was the class redefined "
            "after the model was built?). Rebuild the model with the current definition."
        )
    return module_name, qualname


@dataclass
class Scope:
    """The names available inside one generated ``__init__``.

    Args:
        values: the constructor arguments of the module being declared, by parameter name.
        module: the reference module whose constructor ran; its submodules are reachable as ``self.<name>``.
    """

    values: dict[str, Any] = field(default_factory=dict)
    module: nn.Module | None = None

    def lookup(self, value: Any) -> str | None:
        """An expression in this scope that evaluates to ``value`` (non-literal values only).

        Args:
            value: a config, module or other object passed to a constructor.

        Returns:
            A parameter name, ``param.attribute``, ``self.child``, or ``None`` when nothing in scope fits.
        """
        for name, candidate in self.values.items():
            if candidate is value:
                return name
        for name, candidate in self.values.items():
            if is_plain(candidate) or not hasattr(candidate, "__dict__"):
                continue
            for attribute, inner in vars(candidate).items():
                if inner is value and attribute.isidentifier() and not attribute.startswith("_"):
                    return f"{name}.{attribute}"
        if self.module is not None and isinstance(value, nn.Module):
            for name, child in self.module.named_children():
                if child is value and name.isidentifier():
                    return f"self.{name}"
        for name, candidate in self.values.items():
            if type(candidate) is type(value) and not isinstance(value, nn.Module) and same_value(candidate, value):
                return name
        return None


def render_value(
    value: Any,
    scope: Scope,
    imports: Imports,
    what: str,
    render_module: Callable[[nn.Module, str], str] | None = None,
) -> str:
    """Source text that evaluates to ``value`` inside ``scope``.

    Args:
        value: the value to write.
        scope: the names available where the expression is written.
        imports: the module's imports; extended with whatever the expression needs.
        what: a description of the value for error messages (``"argument 'dim' of Cool at 'encoder.cool'"``).
        render_module: writes a constructor expression for a module value not found in scope.

    Returns:
        A Python expression.

    Raises:
        DeclarationError: the value cannot be written as code (a tensor, a lambda, an object of a class that
            cannot be imported, a config that is not in scope...).
    """
    if not is_plain(value) and not isinstance(value, (list, dict, set, frozenset)):
        found = scope.lookup(value)
        if found is not None:
            return found
    if isinstance(value, str):
        return string_literal(value)
    if value is None or isinstance(value, (bool, bytes)) or type(value) is int:
        return repr(value)
    if type(value) is float:
        return repr(value) if math.isfinite(value) else f'float("{value}")'
    if isinstance(value, torch.dtype):
        return f"{imports.module('torch')}.{str(value).removeprefix('torch.')}"
    if isinstance(value, torch.Size):
        value = tuple(value)
    if type(value) in (tuple, list, set, frozenset):
        items = [render_value(v, scope, imports, what, render_module) for v in value]
        if type(value) is tuple:
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if type(value) is list:
            return f"[{', '.join(items)}]"
        items = sorted(items)
        return f"{{{', '.join(items)}}}" if type(value) is set and items else f"{type(value).__name__}({items})"
    if type(value) is dict:
        pairs = [
            f"{render_value(k, scope, imports, what)}: {render_value(v, scope, imports, what, render_module)}"
            for k, v in value.items()
        ]
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, enum.Enum):
        return f"{imports.name_for(type(value), what)}.{value.name}"
    if isinstance(value, torch.device):
        return f"{imports.module('torch')}.device({str(value)!r})"
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        return imports.name_for(value, what)
    if isinstance(value, nn.Module) and render_module is not None:
        return render_module(value, what)
    if isinstance(value, torch.Tensor):
        raise DeclarationError(
            f"The {what} is a tensor, which generated code cannot rebuild. Pass its shape or a config instead, "
            "or register the tensor as a parameter or persistent buffer of the module."
        )
    raise DeclarationError(
        f"The {what} is a {type(value).__module__}.{type(value).__qualname__} that is not available in the "
        "constructor that builds it (it is neither one of that constructor's arguments, nor an attribute of one, "
        "nor a literal). Pass it through the enclosing module's config or arguments."
    )


def render_call(
    callee: str,
    arguments: InitArguments,
    scope: Scope,
    imports: Imports,
    what: str,
    render_module: Callable[[nn.Module, str], str] | None = None,
) -> str:
    """Write ``callee(...)`` so that it passes ``arguments`` again.

    Required parameters are passed positionally and optional ones by keyword, only when they differ from
    their default; an argument equal to a same-named value in scope is written as that name.

    Args:
        callee: the expression naming the class (``nn.Linear``, ``RobertaLayerModified``).
        arguments: the recorded or recovered constructor arguments.
        scope: the names available where the call is written.
        imports: extended with whatever the arguments need.
        what: the module the call builds, for error messages.
        render_module: writes module-valued arguments that are not in scope.

    Returns:
        The call expression.

    Raises:
        DeclarationError: an argument cannot be written as code, or a required argument is unknown.
    """
    parameters = list(arguments.signature.parameters.values())
    values = arguments.values
    has_varargs = any(p.kind is p.VAR_POSITIONAL and values.get(p.name) for p in parameters)
    positional: list[str] = []
    keywords: list[str] = []

    def text(name: str, value: Any) -> str:
        if name in scope.values and same_value(scope.values[name], value) and is_plain(value):
            return name
        return render_value(value, scope, imports, f"argument {name!r} of {what}", render_module)

    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            positional.extend(text(f"{p.name}[{i}]", v) for i, v in enumerate(values.get(p.name, ())))
            continue
        if p.kind is p.VAR_KEYWORD:
            for key, value in values.get(p.name, {}).items():
                if not key.isidentifier():
                    raise DeclarationError(f"The keyword argument {key!r} of {what} is not a valid Python name.")
                keywords.append(f"{key}={text(key, value)}")
            continue
        if p.name not in values:
            if p.default is p.empty:
                raise DeclarationError(f"The argument {p.name!r} of {what} is required but unknown.")
            continue
        value = values[p.name]
        if p.kind is p.POSITIONAL_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and (has_varargs or p.default is p.empty)):
            positional.append(text(p.name, value))
        elif p.default is p.empty or not same_value(value, p.default):
            keywords.append(f"{p.name}={text(p.name, value)}")
    return f"{callee}({', '.join(positional + keywords)})"


@dataclass(frozen=True)
class Target:
    """Where a submodule, parameter or attribute lives, relative to the ``self`` of a generated ``__init__``."""

    parent: str
    name: str
    style: str  # "attribute", "index", "key" or "dynamic"

    @classmethod
    def of(cls, parent: str, owner: nn.Module, name: str) -> Target:
        if type(owner) is nn.ModuleDict:
            return cls(parent, name, "key")
        if type(owner) in (nn.ModuleList, nn.Sequential) and name.isdigit():
            return cls(parent, name, "index")
        if name.isidentifier() and not keyword.iskeyword(name):
            return cls(parent, name, "attribute")
        return cls(parent, name, "dynamic")

    def read(self) -> str:
        return {
            "attribute": f"{self.parent}.{self.name}",
            "index": f"{self.parent}[{self.name}]",
            "key": f"{self.parent}[{string_literal(self.name)}]",
            "dynamic": f"getattr({self.parent}, {string_literal(self.name)})",
        }[self.style]

    def assign(self, expression: str) -> str:
        if self.style == "dynamic":
            return f"setattr({self.parent}, {string_literal(self.name)}, {expression})"
        return f"{self.read()} = {expression}"

    def delete(self) -> str:
        if self.style == "dynamic":
            return f"delattr({self.parent}, {string_literal(self.name)})"
        return f"del {self.read()}"
