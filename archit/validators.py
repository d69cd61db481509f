"""The attrs validators of every option class in archit: head configs, run configurations, the demo's and the
pretraining experiment's options. Each raises the :class:`~archit.errors.ArchitError` subclass it is given (a head
config's :class:`~archit.errors.HeadConfigError`, a run's :class:`~archit.errors.RunConfigurationError`), with
the field's name and the valid values in the message. :func:`build_known` builds such a class from a mapping.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from archit.errors import ArchitError, RunConfigurationError

__all__ = ["Validator", "at_least", "build_known", "one_of", "share", "whole_number"]

Validator = Callable[[Any, attrs.Attribute, Any], None]
AttrsClass = TypeVar("AttrsClass", bound=attrs.AttrsInstance)


def one_of(
    choices: Callable[[], tuple[str, ...]] | tuple[str, ...], error: type[ArchitError] = RunConfigurationError
) -> Validator:
    """A validator accepting the given names (or those a function returns when called), suggesting the closest.

    Raises:
        ArchitError: (``error``) the value is not one of them.
    """

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        valid = choices() if callable(choices) else choices
        if value not in valid:
            close = difflib.get_close_matches(str(value), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise error(f"{attribute.name} must be one of {', '.join(valid)}; got {value!r}.{hint}")

    return check


def at_least(minimum: float, error: type[ArchitError] = RunConfigurationError) -> Validator:
    """A validator accepting ``None`` and numbers from ``minimum`` up.

    Raises:
        ArchitError: (``error``) the value is below ``minimum``.
    """

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and value < minimum:
            raise error(f"{attribute.name} must be at least {minimum}; got {value!r}.")

    return check


def whole_number(minimum: int, error: type[ArchitError] = RunConfigurationError) -> Validator:
    """A validator accepting whole numbers (not ``bool``) from ``minimum`` up, for classes without
    :func:`typed_fields`.

    Raises:
        ArchitError: (``error``) the value is not a whole number or is below ``minimum``.
    """
    above = at_least(minimum, error)

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise error(f"{attribute.name} must be a whole number; got {value!r}.")
        above(instance, attribute, value)

    return check


def share(error: type[ArchitError] = RunConfigurationError) -> Validator:
    """A validator accepting numbers in ``[0, 1)`` (dropout, masking probability).

    Raises:
        ArchitError: (``error``) the value is outside ``[0, 1)``.
    """

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
            raise error(f"{attribute.name} must be in [0, 1); got {value!r}.")

    return check


def build_known(
    cls: type[AttrsClass], values: Mapping[str, Any], error: type[ArchitError], name: str | None = None
) -> AttrsClass:
    """The attrs class ``cls`` built from ``values``, its fields' names to values.

    Args:
        cls: an attrs class whose fields are keyword arguments.
        values: the field values.
        error: the exception to raise for unknown keys.
        name: what the class is called in the message; its class name when ``None``.

    Raises:
        ArchitError: (``error``) keys that are no field of ``cls``, naming them and its fields; any error of
            ``cls`` itself.
    """
    known = {field.name for field in attrs.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise error(
            f"{name or cls.__name__} has no field(s) {', '.join(unknown)}; its fields are {', '.join(sorted(known))}."
        )
    return cls(**values)
