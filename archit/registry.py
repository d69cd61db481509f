"""``Registry``: the one registry type behind every name archit looks up (families, wrappers, tasks, head
configs, head factories, task data readers, pretraining architectures).

In the manner of timm's model registry: ``register`` refuses a taken name unless ``exist_ok=True`` (and works as
a decorator), ``get`` fails with an error that lists the registered names and says how to add one, ``list``
filters with ``fnmatch`` patterns and sorts naturally (``T5`` before ``T11``), ``restoring()`` undoes every
change made inside it, for tests, and ``on_change`` lets what derives from the entries (the Auto classes a task
is registered with) follow every change.
"""

from __future__ import annotations

import builtins
import contextlib
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar, overload

from archit.errors import ArchitError, RegistrationError

__all__ = ["Registry", "natural_key"]

T = TypeVar("T")


def natural_key(text: str) -> list[int | str]:
    """Sort key that compares runs of digits as numbers (``"T5" < "T11"``)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


class Registry(Generic[T]):
    """Named entries of one kind.

    Args:
        kind: what an entry is, for messages (``"task"``, ``"head config"``).
        missing_error: the :class:`~archit.errors.ArchitError` subclass ``get`` raises for an unknown name.
        how_to_register: the end of that message, saying how to add an entry (``"Register one with ..."``).
        normalise: maps a name to its registered spelling (families: upper case, ``-`` as ``_``).
    """

    def __init__(
        self,
        kind: str,
        missing_error: type[ArchitError],
        how_to_register: str,
        normalise: Callable[[str], str] = str,
    ) -> None:
        self.kind = kind
        self.missing_error = missing_error
        self.how_to_register = how_to_register
        self.normalise = normalise
        self._entries: dict[str, T] = {}
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every registration, removal and restoration; return it. A listener that raises
        on a registration undoes it (the error reaches the caller of :meth:`register`)."""
        self._listeners.append(listener)
        return listener

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    @overload
    def register(self, entry: T, name: str | None = None, *, exist_ok: bool = False) -> T: ...

    @overload
    def register(self, entry: None = None, name: str | None = None, *, exist_ok: bool = False) -> Callable[[T], T]: ...

    def register(self, entry: T | None = None, name: str | None = None, *, exist_ok: bool = False) -> Any:
        """Add ``entry`` under ``name`` (its ``__name__`` or ``name`` attribute when not given) and return it;
        without an entry, return a decorator that registers what it decorates.

        Raises:
            RegistrationError: no name can be found, or the name is taken and ``exist_ok`` is false.
            Exception: whatever an :meth:`on_change` listener raises; the registration is then undone.
        """
        if entry is None:
            return lambda decorated: self.register(decorated, name, exist_ok=exist_ok)
        key = self.normalise(name if name is not None else self._name_of(entry))
        if key in self._entries and not exist_ok:
            raise RegistrationError(
                f"A {self.kind} named {key!r} is already registered ({self._describe(self._entries[key])}); "
                "pass exist_ok=True to replace it."
            )
        saved = dict(self._entries)
        self._entries[key] = entry
        try:
            self._changed()
        except BaseException:
            self._entries = saved
            self._changed()
            raise
        return entry

    def unregister(self, name: str) -> T:
        """Remove the entry of that name and return it.

        Raises:
            ArchitError: (this registry's ``missing_error``) no entry has that name.
        """
        key = self.normalise(name)
        entry = self.get(key)
        del self._entries[key]
        self._changed()
        return entry

    def get(self, name: str) -> T:
        """The entry registered as ``name``.

        Raises:
            ArchitError: (this registry's ``missing_error``) no entry has that name; the message lists them.
        """
        try:
            return self._entries[self.normalise(name)]
        except KeyError:
            known = ", ".join(self.list()) or "none yet"
            raise self.missing_error(
                f"Unknown {self.kind} {name!r}. Registered: {known}. {self.how_to_register}"
            ) from None

    def list(self, filter: str = "*", exclude_filters: Iterable[str] = ()) -> list[str]:
        """Registered names matching the ``fnmatch`` pattern ``filter`` (case-insensitive) and none of
        ``exclude_filters``, in natural order."""
        exclude = list(exclude_filters)
        names = [
            name
            for name in self._entries
            if fnmatch.fnmatch(name.lower(), filter.lower())
            and not any(fnmatch.fnmatch(name.lower(), pattern.lower()) for pattern in exclude)
        ]
        return sorted(names, key=natural_key)

    def items(self) -> builtins.list[tuple[str, T]]:
        """``(name, entry)`` pairs in natural order of the names."""
        return [(name, self._entries[name]) for name in self.list()]

    @contextlib.contextmanager
    def restoring(self) -> Iterator[Registry[T]]:
        """Context manager that undoes every registration and removal made inside it (for tests)."""
        saved = dict(self._entries)
        try:
            yield self
        finally:
            if self._entries != saved:
                self._entries = saved
                self._changed()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.normalise(name) in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter([self._entries[name] for name in self.list()])

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, {len(self)} entries)"

    @staticmethod
    def _name_of(entry: Any) -> str:
        name = getattr(entry, "name", None)
        name = name if isinstance(name, str) else getattr(entry, "__name__", None)
        if not isinstance(name, str):
            raise RegistrationError(f"Cannot tell the name of {entry!r}; pass name=.")
        return name

    @staticmethod
    def _describe(entry: Any) -> str:
        return getattr(entry, "__qualname__", None) or repr(entry)
