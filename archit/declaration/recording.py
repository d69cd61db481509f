"""Remember the arguments modules were constructed with.

The declaration compiler must write ``CoolEmbeddings(50265, 768, scale=2.0)`` for a module the user built,
and it cannot read those arguments back from an arbitrary object. Modules built inside
:func:`record_init_args` remember them::

    with record_init_args():
        model.roberta.embeddings.word_embeddings = CoolEmbeddings(50265, 768, scale=2.0)

The recorder watches calls of ``__init__`` methods (``sys.setprofile``, this thread only) and keeps, for every
``nn.Module`` whose construction starts inside the block, the arguments of its outermost ``__init__`` call as
they were at the moment of the call. Nothing is stored on the modules themselves: the record lives in a weak
mapping and disappears with the module (and does not survive ``copy.deepcopy`` or pickling).
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from torch import nn

__all__ = ["InitArguments", "record_init_args", "recorded_init_args"]


@dataclass(frozen=True)
class InitArguments:
    """The arguments one module's ``__init__`` was called with.

    Args:
        signature: the signature of the ``__init__`` that ran (``self`` removed).
        values: the value of every parameter, by name; a ``*args`` parameter maps to a tuple and a
            ``**kwargs`` parameter to a dict.
    """

    signature: inspect.Signature
    values: dict[str, Any]


_RECORDED: weakref.WeakKeyDictionary[nn.Module, InitArguments] = weakref.WeakKeyDictionary()


def recorded_init_args(module: nn.Module) -> InitArguments | None:
    """The arguments ``module`` was built with, if it was built inside :func:`record_init_args`.

    Args:
        module: any module.

    Returns:
        The recorded :class:`InitArguments`, or ``None`` when its construction was not recorded.
    """
    return _RECORDED.get(module)


@contextlib.contextmanager
def record_init_args(into: dict[int, tuple[nn.Module, InitArguments]] | None = None) -> Iterator[None]:
    """Make modules constructed in this block (in this thread) remember their constructor arguments.

    Args:
        into: where to keep the records, keyed by ``id(module)``; the module is kept alive beside its record.
            By default they go to the process-wide weak mapping read by :func:`recorded_init_args`.

    Yields:
        Nothing; use it as ``with record_init_args(): ...``.
    """
    previous = sys.getprofile()
    # A Python profile function is chained; a C profiler (cProfile) cannot be, and is paused inside the block.
    chained: Callable[..., object] | None = previous if callable(previous) else None

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_name == "__init__":
            _record(frame, into)
        if chained is not None:
            chained(frame, event, arg)

    sys.setprofile(profile)
    try:
        yield
    finally:
        if previous is None or callable(previous):
            sys.setprofile(previous)
        else:
            sys.setprofile(None)
            previous.enable()  # cProfile.Profile re-installs itself


def _record(frame: FrameType, into: dict[int, tuple[nn.Module, InitArguments]] | None) -> None:
    """Record the arguments of an ``__init__`` call if it is the first one on a module."""
    code = frame.f_code
    if code.co_argcount == 0:
        return
    module = frame.f_locals.get(code.co_varnames[0])
    if not isinstance(module, nn.Module):
        return
    if into is not None:
        if id(module) in into:
            return
    elif module in _RECORDED:
        return
    # The first __init__ entered for an object is the one its construction called: type(module).__init__.
    try:
        signature = _init_signature(type(module))
    except (TypeError, ValueError):  # a C-implemented __init__: nothing to record
        return
    info = inspect.getargvalues(frame)
    values = {name: info.locals[name] for name in info.args[1:] if name in info.locals}
    if info.varargs is not None:
        values[info.varargs] = tuple(info.locals.get(info.varargs, ()))
    if info.keywords is not None:
        values[info.keywords] = dict(info.locals.get(info.keywords, {}))
    record = InitArguments(signature, values)
    if into is not None:
        into[id(module)] = (module, record)
    else:
        _RECORDED[module] = record


def _init_signature(cls: type[nn.Module]) -> inspect.Signature:
    """The signature of ``cls.__init__`` without ``self``."""
    signature = inspect.signature(cls.__init__)
    parameters = [p.replace(annotation=p.empty) for p in list(signature.parameters.values())[1:]]
    return inspect.Signature(parameters)
