"""Every module under ``archit/`` imports on its own; ``import archit`` and ``archit --help`` load neither torch
nor transformers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import archit

IMPORT_ALONE = str(Path(__file__).with_name("import_alone.py"))
# The third-party packages that cost seconds per interpreter, imported once before the children fork.
PRELOAD = "torch,transformers.modeling_utils,transformers.trainer"
HEAVY = ("torch", "transformers")


def modules_under(package_dir: Path) -> list[str]:
    """The dotted name of every module and package in the tree of ``package_dir``, read from its files."""
    names = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def import_alone(modules: list[str], preload: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``import_alone.py`` on ``modules``, with ``pythonpath`` in front of the children's search path."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    command = [sys.executable, IMPORT_ALONE, "--preload", preload, *modules]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def failures_of(result: subprocess.CompletedProcess) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_archit_module_imports_alone() -> None:
    modules = modules_under(Path(archit.__file__).parent)
    assert {"archit", "archit.simple.metrics.tagging", "archit.simple.formats.conllu"} <= set(modules)
    failures = failures_of(import_alone(modules, PRELOAD))
    assert not failures, "\n".join(f"{module}: {error}" for module, error in failures.items())


def test_a_circular_import_is_reported(tmp_path: Path) -> None:
    # The cycle of issue 21: metrics.parsing imports data.conllu, whose package imports data.parsing, which
    # imports metrics.parsing again. Entered from metrics, it fails; entered from data, it does not.
    files = {
        "__init__.py": "",
        "data/__init__.py": "from cyclic.data.parsing import parse\n",
        "data/conllu.py": "class Sentence: ...\n",
        "data/parsing.py": "from cyclic.metrics.parsing import score\n\ndef parse(): ...\n",
        "metrics/__init__.py": "from cyclic.metrics.parsing import score\n",
        "metrics/parsing.py": "from cyclic.data.conllu import Sentence\n\ndef score(): ...\n",
    }
    for name, text in files.items():
        path = tmp_path / "cyclic" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    failures = failures_of(import_alone(modules_under(tmp_path / "cyclic"), "", pythonpath=tmp_path))
    assert sorted(failures) == ["cyclic.metrics", "cyclic.metrics.parsing"]
    assert all("circular import" in error for error in failures.values())


def test_a_preload_that_imports_a_tested_package_is_refused() -> None:
    result = import_alone(["json.decoder"], "json")
    assert result.returncode == 2
    assert "preloading 'json' imported json, json.decoder" in result.stderr


# Each entry point as the code that runs it, and a fragment of what it prints.
LIGHT_ENTRY_POINTS = {
    "import archit": ("import archit\nprint(archit.__version__)", archit.__version__),
    "archit --help": (
        "from archit.simple.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
        "usage: archit [-h] COMMAND",
    ),
    "python -m archit.simple.cli train --help": (
        "import runpy\nsys.argv = ['archit', 'train', '--help']\n"
        "try:\n    runpy.run_module('archit.simple.cli', run_name='__main__')\nexcept SystemExit:\n    pass",
        "usage: archit train [-h]",
    ),
}


@pytest.mark.parametrize("entry_point", list(LIGHT_ENTRY_POINTS))
def test_entry_point_loads_neither_torch_nor_transformers(entry_point: str) -> None:
    code, printed = LIGHT_ENTRY_POINTS[entry_point]
    probe = "\n".join(
        [
            "import sys",
            code,
            f"heavy = sorted(name for name in sys.modules if name.split('.')[0] in {HEAVY!r})",
            "print('\\nloaded:', heavy)",
        ]
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert printed in result.stdout
    assert result.stdout.splitlines()[-1] == "loaded: []"


def test_old_conllu_path_is_an_alias_of_its_home() -> None:
    from archit.simple.data import conllu as old_path
    from archit.simple.formats import conllu

    assert "read_conllu" in old_path.__all__
    assert all(getattr(old_path, name) is getattr(conllu, name) for name in old_path.__all__)
