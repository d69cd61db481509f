"""The parts of the runscripts' option classes (attrs classes: ``RunConfiguration``, ``DemoOptions``, the
pretraining ``ExperimentConfig``) that every one of them shares: help text beside each field, validators, a type
check on every field, and the conversion of YAML and command-line strings to each field's type.

The validators live in :mod:`archit.validators` (re-exported here); they raise
:class:`~archit.errors.RunConfigurationError` unless given another ``error`` class.

A class declares ``@attrs.define(kw_only=True, field_transformer=typed_fields)`` and builds itself from plain
values with :func:`from_values`; the ``archit`` command turns its fields into options, each field's
``metadata["help"]`` the option's help line.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from archit.errors import RunConfigurationError
from archit.validators import at_least, one_of, share, whole_number

__all__ = ["at_least", "from_values", "help_text", "one_of", "share", "typed_fields", "whole_number"]

Options = TypeVar("Options", bound=attrs.AttrsInstance)


def help_text(text: str) -> dict[str, str]:
    """A field's ``metadata``: its one-line help (``--help`` of the ``archit`` command)."""
    return {"help": text}


def _typed(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """Check a value against its field's annotation (ints pass for floats, ``bool`` never passes for numbers)."""
    optional, base = _unpack(_field_types(type(instance))[attribute.name])  # type: ignore[arg-type]  # mypy sees no class as Hashable (python/mypy#11470)
    if value is None and optional:
        return
    accepted = (int, float) if base is float else (base,)
    if not isinstance(value, accepted) or (base is not bool and isinstance(value, bool)):
        raise RunConfigurationError(f"{attribute.name} must be {base.__name__}; got {value!r}.")


def typed_fields(cls: type, fields: list[attrs.Attribute]) -> list[attrs.Attribute]:
    """attrs field transformer: every field's validators run after a check against its annotation."""
    return [
        field.evolve(validator=attrs.validators.and_(_typed, field.validator) if field.validator else _typed)
        for field in fields
    ]


def from_values(cls: type[Options], values: Mapping[str, Any], origin: str) -> Options:
    """An option class built from plain values (YAML, command line), converting strings to each field's type.

    Args:
        cls: an attrs class whose fields are keyword arguments.
        values: field names to values.
        origin: where the values come from, to start error messages (a file name, a command).

    Raises:
        RunConfigurationError: an unknown key (with the closest valid one), a value of the wrong type, a
            missing required field, or an invalid value or pair.
    """
    names = [field.name for field in attrs.fields(cls)]
    unknown = [key for key in values if key not in names]
    if unknown:
        close = difflib.get_close_matches(unknown[0], names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else f" Valid keys: {', '.join(names)}."
        raise RunConfigurationError(f"{origin}: unknown key {unknown[0]!r}.{hint}")
    missing = [field.name for field in attrs.fields(cls) if field.default is attrs.NOTHING and field.name not in values]
    if missing:
        raise RunConfigurationError(f"{origin}: {', '.join(missing)} must be set.")
    hints = _field_types(cls)
    return cls(**{key: _convert(key, value, hints[key], origin) for key, value in values.items()})


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unpack(hint: Any) -> tuple[bool, type]:
    """``(accepts None, the plain class)`` of an annotation: ``int | None`` gives ``(True, int)``,
    ``dict[str, Any]`` gives ``(False, dict)``."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arguments = typing.get_args(hint)
        optional = type(None) in arguments
        hint = next(argument for argument in arguments if argument is not type(None))
    return optional, typing.get_origin(hint) or hint


def _convert(name: str, value: Any, hint: Any, origin: str) -> Any:
    """``value`` converted to the type ``hint`` (``X | None`` accepts ``None`` and ``"none"``/``"null"``)."""
    optional, base = _unpack(hint)
    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "null", "")):
        if optional:
            return None
        raise RunConfigurationError(f"{origin}: {name} cannot be empty.")
    try:
        if base is bool:
            return _to_bool(value)
        if base in (int, float):
            number = base(float(value)) if base is int and isinstance(value, str) and "e" in value.lower() else value
            if isinstance(number, bool):
                raise ValueError(value)
            converted = base(number)
            if base is int and float(number) != converted:
                raise ValueError(value)
            return converted
        if base is dict:
            if not isinstance(value, Mapping):
                raise ValueError(value)
            return dict(value)
        return str(value)
    except (TypeError, ValueError):
        raise RunConfigurationError(f"{origin}: {name} must be {base.__name__}; got {value!r}.") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(value)
