"""The ``archit`` command."""

from __future__ import annotations

import subprocess
import sys

from archit.resolution import ModelArchitectures
from archit.simple.cli import main


def test_families_prints_every_family_with_its_wrapper(capsys) -> None:
    assert main(["families"]) == 0
    table = capsys.readouterr().out
    header, rule, *rows = table.splitlines()
    assert header.split() == ["family", "model", "types", "tokenizer", "wrapper", "status"]
    assert len(rows) == len(ModelArchitectures) >= 20
    canine = next(row for row in rows if row.startswith("CANINE "))
    assert "CanineWrapper" in canine and "tested" in canine


def test_families_filter(capsys) -> None:
    assert main(["families", "*bert"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["ALBERT", "BERT", "DISTILBERT", "MODERNBERT"]


def test_console_script_module_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "archit.simple.cli", "families", "GPT*"], capture_output=True, text=True, check=True
    )
    assert "GPT2Tokenizer" in result.stdout


def test_env_reports_versions_against_the_tested_set(capsys) -> None:
    import importlib.metadata

    from archit.simple.environment import REPORTED_PACKAGES, tested_versions

    assert main(["env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    tested = tested_versions()
    for package in REPORTED_PACKAGES:
        line = next(line for line in lines if line.startswith(f"- {package}: "))
        installed = importlib.metadata.version(package)
        assert installed in line
        expected = tested[package]
        same = installed.split("+")[0] == expected
        assert ("the tested version" in line) == same and (f"tested: {expected}" in line) != same
    assert any(line.startswith("- devices torch sees: cpu") for line in lines)
    assert any(line.startswith("- torch threads: ") for line in lines)
