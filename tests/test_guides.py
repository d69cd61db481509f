"""Every guide and the README run as written: their ```python blocks are executed, top to bottom."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "guides").glob("*.md")])


def python_blocks(path: Path) -> str:
    """The document's ```python blocks joined in order (other languages, e.g. bash, are left out)."""
    return "\n".join(re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M))


def test_every_guide_is_collected() -> None:
    names = {path.name for path in DOCUMENTS}
    assert {"README.md", "adding_a_model.md", "heads_and_tasks.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_document_runs(document: Path, tmp_path: Path) -> None:
    code = python_blocks(document)
    if not code:
        pytest.skip(f"{document.name} has no python blocks")
    script = tmp_path / f"{document.stem}.py"
    script.write_text(code, encoding="utf-8")
    # A fresh interpreter per document: archit's registries can be restored, but the guides also register their
    # families with transformers' Auto classes, which have no public way to unregister.
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{document.name} failed:\n{result.stderr[-4000:]}"
