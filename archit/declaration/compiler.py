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

This module builds the reference, runs the steps and checks their result: the generated module must build
on the meta device with the instance's state-dict keys and shapes, and it is given the instance's sharing of
parameters (``ties.py``). The steps live beside it: ``comparison.py`` walks the two trees (what changed),
``planning.py`` plans the classes to emit, ``assembly.py`` writes the module text, ``tensors.py`` the code
of parameters and buffers, and ``rendering.py`` values, calls and imports.
"""

from __future__ import annotations

import copy
import inspect
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from archit.declaration.arguments import build, effective_class, recover_init_args
from archit.declaration.assembly import empty_module, module_text
from archit.declaration.comparison import Comparison
from archit.declaration.frame import Statement, describe
from archit.declaration.planning import ClassPlan, Planner
from archit.declaration.recording import InitArguments, record_init_args
from archit.declaration.rendering import Imports
from archit.declaration.tensors import TensorText
from archit.declaration.ties import tie_statements
from archit.errors import DeclarationError

__all__ = ["generate_difference", "printDifference", "print_difference", "write_difference"]

DEFAULT_SUFFIX = "Modified"


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
    return _compile(instance, klass, suffix)


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


def _compile(instance: nn.Module, klass: type[nn.Module], suffix: str) -> str:
    """Declare ``instance``: compare it with a reference, plan and assemble the classes, check them, tie."""
    base = _declared_class(instance, klass)
    imports = Imports()
    tensors = TensorText(imports, next((p.dtype for p in instance.parameters() if p.is_floating_point()), None))
    planner = Planner(imports, suffix)
    records: dict[int, tuple[nn.Module, InitArguments]] = {}
    comparison = Comparison(imports, planner, tensors, records)
    reference, arguments = _reference(instance, base, records)
    top_name = f"{base.__name__}{suffix}"
    imports.reserve(top_name)

    def assemble(top: ClassPlan) -> str:
        return module_text(base, top, planner.plans, imports, comparison.leaf_changes)

    plan = comparison.declare(instance, reference, arguments, "", top_name=top_name)
    text = assemble(plan) if plan is not None else None
    generated = _build_generated(text, instance, base, arguments) if text is not None else reference
    ties, changes = tie_statements(instance, generated, tensors.parameter)
    if ties:
        if plan is None:
            plan = planner.empty_top(base, top_name)
        plan.statements.extend(Statement(code) for code in ties)
        plan.changes.extend(changes)
        comparison.leaf_changes.extend(changes)
        text = assemble(plan)
        _build_generated(text, instance, base, arguments)
    return text if text is not None else empty_module(base)


def _declared_class(instance: nn.Module, klass: type[nn.Module]) -> type[nn.Module]:
    """The class the top class subclasses: ``klass`` seen through archit's swapped classes.

    Raises:
        DeclarationError: ``klass`` is not a module class, or ``instance`` is not one of its instances.
    """
    if not (isinstance(klass, type) and issubclass(klass, nn.Module)):
        raise DeclarationError(f"klass must be a torch.nn.Module class such as RobertaForMaskedLM; got {klass!r}.")
    base = effective_class(klass)
    found = effective_class(type(instance))
    if not issubclass(found, base):
        raise DeclarationError(
            f"The instance is a {found.__qualname__}, not a {base.__qualname__}: pass the class the model "
            f"was built as, e.g. generate_difference(model, {found.__name__})."
        )
    return base


def _reference(
    instance: nn.Module, base: type[nn.Module], records: dict[int, tuple[nn.Module, InitArguments]]
) -> tuple[nn.Module, InitArguments]:
    """Build ``base`` on the meta device, from the instance's config when it has one, recording its modules."""
    config = getattr(instance, "config", None)
    call: Callable[[], nn.Module]
    if config is not None and hasattr(base, "config_class"):
        arguments = InitArguments(inspect.Signature(), {})
        call = lambda: base(copy.deepcopy(config))  # noqa: E731
    else:
        arguments = recover_init_args(instance, base, describe(instance, ""))
        call = lambda: build(base, arguments)  # noqa: E731
    try:
        with torch.device("meta"), record_init_args(records):
            reference = call()
    except DeclarationError:
        raise
    except Exception as error:
        raise DeclarationError(
            f"Building the reference {base.__name__} on the meta device failed ({type(error).__name__}: "
            f"{error}). The compiler compares the instance with a fresh {base.__name__} built from its config."
        ) from error
    if id(reference) in records:
        arguments = records[id(reference)][1]
    return reference, arguments


def _build_generated(text: str, instance: nn.Module, base: type[nn.Module], arguments: InitArguments) -> nn.Module:
    """Execute the generated module and build its top class on the meta device, as a check and for ties."""
    namespace: dict[str, Any] = {"__name__": "archit_declaration_check"}
    try:
        exec(compile(text, "<archit.declaration generated module>", "exec"), namespace)  # noqa: S102
        top = namespace["__all__"][-1]
        with torch.device("meta"):
            if getattr(instance, "config", None) is not None and hasattr(base, "config_class"):
                generated: nn.Module = namespace[top](copy.deepcopy(instance.config))
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
