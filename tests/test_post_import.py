"""``archit._post_import.when_imported``: the hook behind ``import archit`` registering its pipelines."""

from __future__ import annotations

import sys

import pytest

from archit._post_import import _ImportWatcher, when_imported


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    (tmp_path / "watched_module.py").write_text("VALUE = 41\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("watched_module", None)
    sys.meta_path[:] = [f for f in sys.meta_path if not (isinstance(f, _ImportWatcher) and f.name == "watched_module")]


def test_callback_runs_after_the_first_import_then_the_watcher_leaves(module_dir) -> None:
    seen = []
    when_imported("watched_module", lambda module: seen.append(module.VALUE + 1))
    assert seen == [] and "watched_module" not in sys.modules
    import watched_module

    assert seen == [42] and watched_module.VALUE == 41
    assert not any(getattr(finder, "name", None) == "watched_module" for finder in sys.meta_path)


def test_callback_runs_at_once_for_an_imported_module(module_dir) -> None:
    import watched_module

    seen = []
    when_imported("watched_module", lambda module: seen.append(module is watched_module))
    assert seen == [True]


def test_a_failing_callback_warns_and_the_import_succeeds(module_dir) -> None:
    def broken(module) -> None:
        raise RuntimeError("no registry")

    when_imported("watched_module", broken)
    with pytest.warns(UserWarning, match=r"could not register with watched_module \(RuntimeError: no registry\)"):
        import watched_module
    assert watched_module.VALUE == 41
