"""``archit.registry.Registry``: duplicate checks, lookups that list what exists, patterns, restoring."""

from __future__ import annotations

import pytest

from archit.errors import HeadConfigError, RegistrationError
from archit.registry import Registry, natural_key


def _registry() -> Registry[object]:
    return Registry("widget", HeadConfigError, "Register one with widgets.register(...).", normalise=str.lower)


def test_register_get_and_the_decorator_form() -> None:
    widgets = _registry()

    @widgets.register()
    def Spanner() -> None:  # noqa: N802 (a name like a class's)
        """A widget registered under its __name__."""

    widgets.register(42, "Answer")
    assert widgets.get("spanner") is Spanner and widgets.get("ANSWER") == 42
    assert "answer" in widgets and "nothing" not in widgets and 42 not in widgets
    assert len(widgets) == 2 and list(widgets) == [42, Spanner]


def test_a_taken_name_raises_unless_exist_ok() -> None:
    widgets = _registry()
    widgets.register(1, "one")
    with pytest.raises(RegistrationError, match="widget named 'one' is already registered .*exist_ok=True"):
        widgets.register(2, "One")
    widgets.register(2, "one", exist_ok=True)
    assert widgets.get("one") == 2


def test_an_unknown_name_lists_what_exists_and_how_to_add_one() -> None:
    widgets = _registry()
    widgets.register(1, "b2")
    widgets.register(1, "b11")
    with pytest.raises(HeadConfigError, match=r"Unknown widget 'c'\. Registered: b2, b11\. Register one with"):
        widgets.get("c")
    with pytest.raises(HeadConfigError, match="Registered: none yet"):
        _registry().get("c")


def test_list_filters_with_patterns_in_natural_order() -> None:
    widgets = _registry()
    for name in ("t11", "t5", "bert", "roberta", "distilbert"):
        widgets.register(name, name)
    assert widgets.list() == ["bert", "distilbert", "roberta", "t5", "t11"]
    assert widgets.list("*bert*", exclude_filters=["distil*"]) == ["bert", "roberta"]
    assert [name for name, _ in widgets.items()][:2] == ["bert", "distilbert"]
    assert natural_key("T5") < natural_key("T11")


def test_restoring_undoes_registrations_and_removals() -> None:
    widgets = _registry()
    widgets.register(1, "kept")
    with widgets.restoring():
        widgets.register(2, "added")
        widgets.unregister("kept")
        assert widgets.list() == ["added"]
    assert widgets.list() == ["kept"]


def test_an_entry_without_a_name_needs_one() -> None:
    with pytest.raises(RegistrationError, match="pass name="):
        _registry().register(3)


def test_listeners_follow_every_change_and_a_refusing_listener_undoes_the_registration() -> None:
    widgets = _registry()
    seen: list[list[str]] = []
    widgets.on_change(lambda: seen.append(widgets.list()))
    widgets.register(1, "one")
    with widgets.restoring():
        widgets.register(2, "two")
    widgets.unregister("one")
    assert seen == [["one"], ["one", "two"], ["one"], []]

    def refuse_threes() -> None:
        if "three" in widgets:
            raise RegistrationError("no threes")

    widgets.on_change(refuse_threes)
    with pytest.raises(RegistrationError, match="no threes"):
        widgets.register(3, "three")
    assert widgets.list() == []
