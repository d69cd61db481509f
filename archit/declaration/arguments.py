"""Recover the constructor arguments of a module that exists, and build a module again from them.

Three sources, in order: the arguments recorded by :func:`~archit.declaration.recording.record_init_args`;
for torch's own modules, their attributes (``nn.Linear`` keeps ``in_features`` and ``out_features``, and
``bias=False`` shows as ``self.bias is None``); for any other class, introspection of ``__init__`` against
same-named attributes, which must find every parameter, since a default cannot be told from a value that
merely equals it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from archit.declaration.recording import InitArguments, recorded_init_args
from archit.errors import DeclarationError

__all__ = [
    "CONTAINERS",
    "build",
    "effective_class",
    "init_signature",
    "is_torch_builtin",
    "recover_init_args",
]

CONTAINERS: tuple[type[nn.Module], ...] = (nn.ModuleList, nn.ModuleDict, nn.Sequential)
"""The containers the compiler sees through: an entry that changed is overridden by index or key."""

# torch modules whose constructor arguments are not all kept under their own name.
_SPECIAL: dict[type[nn.Module], dict[str, Callable[[Any], Any]]] = {
    nn.MultiheadAttention: {
        "bias": lambda m: m.in_proj_bias is not None,
        "add_bias_kv": lambda m: m.bias_k is not None,
    },
}
_RNN_PARAMETERS: tuple[tuple[str, Any], ...] = (
    ("input_size", inspect.Parameter.empty),
    ("hidden_size", inspect.Parameter.empty),
    ("num_layers", 1),
    ("nonlinearity", "tanh"),
    ("bias", True),
    ("batch_first", False),
    ("dropout", 0.0),
    ("bidirectional", False),
    ("proj_size", 0),
)
# torch arguments that say where or how a module is stored, not what it is; the generated model gets them
# from how it is built and loaded (``from_pretrained(..., dtype=...)``, ``.to(device)``).
_PLACEMENT = frozenset({"device", "dtype"})


def effective_class(cls: type[nn.Module]) -> type[nn.Module]:
    """The class the compiler declares for ``cls``: archit's swapped and generated classes are seen through.

    Args:
        cls: the type of a module.

    Returns:
        ``cls._archit_unwrapped_class`` for a class swapped by ``ArchitWrapper``, ``cls._archit_task_class``
        for a task class specialised for its backbone, the base of a class the
        compiler generated, and ``cls`` itself otherwise.
    """
    for _ in range(32):
        original = getattr(cls, "_archit_unwrapped_class", None) or getattr(cls, "_archit_task_class", None)
        if isinstance(original, type) and issubclass(original, nn.Module) and original is not cls:
            cls = original
            continue
        declared = cls.__dict__.get("_archit_declared_base")
        if isinstance(declared, type) and issubclass(declared, nn.Module) and declared is not cls:
            cls = declared
            continue
        break
    return cls


def is_torch_builtin(cls: type) -> bool:
    """Whether ``cls`` is one of torch's own module classes (``torch.nn.Linear``...)."""
    return cls.__module__.startswith("torch.")


def init_signature(cls: type[nn.Module]) -> inspect.Signature:
    """The signature of ``cls.__init__`` without ``self``, annotations and return annotation.

    Args:
        cls: a module class.

    Returns:
        The signature the generated subclass repeats.
    """
    if issubclass(cls, nn.RNNBase) and cls in (nn.RNN, nn.LSTM, nn.GRU):
        return _rnn_signature(cls)
    signature = inspect.signature(cls.__init__)
    parameters = [p.replace(annotation=p.empty) for p in list(signature.parameters.values())[1:]]
    return inspect.Signature(parameters)


def _rnn_signature(cls: type) -> inspect.Signature:
    """``nn.LSTM(*args, **kwargs)`` hides its parameters; spell them out."""
    names = [(n, d) for n, d in _RNN_PARAMETERS if (n != "nonlinearity" or cls is nn.RNN)]
    names = [(n, d) for n, d in names if n != "proj_size" or cls is nn.LSTM]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(n, kind, default=d) for n, d in names])


def recover_init_args(module: nn.Module, cls: type[nn.Module], what: str) -> InitArguments:
    """The arguments that build ``module`` again as an instance of ``cls``.

    Args:
        module: the module to rebuild.
        cls: its effective class (see :func:`effective_class`).
        what: the module's description for error messages (``"Cool at 'roberta.embeddings.cool'"``).

    Returns:
        The arguments, by parameter name of ``cls.__init__``.

    Raises:
        DeclarationError: a parameter of ``cls.__init__`` is neither recorded nor kept as a same-named
            attribute, so its value cannot be known.
    """
    builtin = is_torch_builtin(cls)
    recorded = None if builtin else recorded_init_args(module)
    if recorded is not None:
        return recorded
    signature = init_signature(cls)
    special = _SPECIAL.get(cls, {})
    values: dict[str, Any] = {}
    missing: list[str] = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if builtin and p.name in special:
            values[p.name] = special[p.name](module)
        elif builtin and (p.name in _PLACEMENT or p.name.startswith("_")) and p.default is not p.empty:
            continue
        elif _has_member(module, cls, p.name):
            value = getattr(module, p.name)
            if isinstance(p.default, bool) and (value is None or isinstance(value, torch.Tensor)):
                value = value is not None  # ``bias=True`` kept as the bias tensor, ``bias=False`` as None
            values[p.name] = value
        else:
            missing.append(p.name)
    if missing:
        names = ", ".join(repr(n) for n in missing)
        raise DeclarationError(
            f"Cannot recover the constructor arguments of {what}: {cls.__name__}.__init__ takes {names}, which "
            "the module neither recorded nor keeps as same-named attributes. Build it inside "
            "`with archit.declaration.record_init_args():`, or store each argument as `self.<name> = <name>`."
        )
    return InitArguments(signature, values)


def _has_member(module: nn.Module, cls: type, name: str) -> bool:
    """Whether ``module`` keeps something under ``name``: an attribute, submodule, tensor or property."""
    if name in vars(module) or name in module._modules or name in module._parameters or name in module._buffers:
        return True
    return isinstance(inspect.getattr_static(cls, name, None), property)


def build(cls: type[nn.Module], arguments: InitArguments) -> nn.Module:
    """Call ``cls`` with ``arguments`` (missing optional parameters take their defaults)."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    parameters = arguments.signature.parameters.values()
    has_varargs = any(p.kind is p.VAR_POSITIONAL and arguments.values.get(p.name) for p in parameters)
    for p in parameters:
        if p.name not in arguments.values:
            continue
        value = arguments.values[p.name]
        if p.kind is p.VAR_POSITIONAL:
            positional.extend(value)
        elif p.kind is p.VAR_KEYWORD:
            keywords.update(value)
        elif p.kind is p.POSITIONAL_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and has_varargs):
            positional.append(value)
        else:
            keywords[p.name] = value
    return cls(*positional, **keywords)
