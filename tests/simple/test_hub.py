"""Hub ids in the runscripts: ``load_tokenizer``, ``archit train --model-name-or-path ID --revision REV``, and
``archit predict`` / ``evaluate`` on the hub id of a model saved by a run, from a hub cache built offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import transformers
import yaml
from huggingface_hub import constants

from archit.errors import CheckpointError
from archit.resolution import ModelArchitectures
from archit.simple.cli import main
from archit.simple.data import encode_words, load_tokenizer
from archit.simple.data.tokenization import family_of
from tests.hub_cache import cache_repository
from tests.simple.tasks import NER, write_task_data


def _archit(*argv: str, cache: Path, cwd: Path) -> subprocess.CompletedProcess:
    """The ``archit`` command in a fresh interpreter that knows the cache only through the environment."""
    environment = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "archit.simple.cli", *argv],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_load_tokenizer_from_a_hub_id(checkpoints, tmp_path) -> None:
    cache = tmp_path / "cache"
    cache_repository(cache, "my-org/tiny-roberta", checkpoints["roberta"])
    assert family_of("my-org/tiny-roberta", cache_dir=cache) is ModelArchitectures.get("ROBERTA")
    tokenizer = load_tokenizer("my-org/tiny-roberta", cache_dir=cache)
    local = load_tokenizer(checkpoints["roberta"])
    words = ["the", "cat", "sat", "in", "Paris"]
    assert encode_words(tokenizer, words, 16) == encode_words(local, words, 16)
    with pytest.raises(CheckpointError, match="Hugging Face Hub model 'my-org/absent' is not in the cache"):
        load_tokenizer("my-org/absent", cache_dir=cache)


@pytest.mark.skipif(
    int(transformers.__version__.split(".")[0]) < 5,
    reason="transformers 4 fails inside the slow tokenizer (an ImportError about protobuf) without vocabulary files",
)
def test_a_hub_model_without_tokenizer_files_says_how_to_get_them(checkpoints, tmp_path) -> None:
    cache = tmp_path / "cache"
    model_only = tmp_path / "model-only"
    model_only.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(Path(checkpoints["bert"]) / name, model_only / name)
    cache_repository(cache, "my-org/model-only", model_only)
    with pytest.raises(CheckpointError, match="'my-org/model-only' holds no tokenizer vocabulary") as error:
        load_tokenizer("my-org/model-only", cache_dir=cache)
    assert f"`hf download my-org/model-only --cache-dir {cache}`" in str(error.value)


def test_train_predict_evaluate_with_hub_ids(checkpoints, tmp_path) -> None:
    cache = tmp_path / "cache"
    cache_repository(cache, "my-org/tiny-bert", checkpoints["bert"], revision="v1")  # no main: v1 must be passed
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    output_dir = tmp_path / "run"
    train = _archit(
        "train",
        "--task",
        "token_classification",
        "--model-name-or-path",
        "my-org/tiny-bert",
        "--revision",
        "v1",
        "--train-file",
        data_file,
        "--max-steps",
        "2",
        "--eval-strategy",
        "no",
        "--output-dir",
        str(output_dir),
        "--no-progress-bars",
        cache=cache,
        cwd=tmp_path,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    saved = yaml.safe_load((output_dir / "model" / "archit_run.yaml").read_text(encoding="utf-8"))
    assert saved["model_name_or_path"] == "my-org/tiny-bert" and saved["revision"] == "v1"
    # The trained model on the hub: its model/ directory as one repository, the whole run as another.
    cache_repository(cache, "my-org/tagger", output_dir / "model")
    cache_repository(cache, "my-org/tagger-run", output_dir, revision="v1")
    predictions = tmp_path / "p.jsonl"
    predict = _archit(
        "predict", "my-org/tagger", "--data", data_file, "--output", str(predictions), cache=cache, cwd=tmp_path
    )
    assert predict.returncode == 0, predict.stderr[-3000:]
    assert len(predictions.read_text(encoding="utf-8").splitlines()) == 2
    evaluate = _archit(
        "evaluate", "my-org/tagger-run", "--revision", "v1", "--data", data_file, cache=cache, cwd=tmp_path
    )
    assert evaluate.returncode == 0, evaluate.stderr[-3000:]
    assert {"f1", "accuracy"} <= set(json.loads(evaluate.stdout))
    assert not (tmp_path / "my-org").exists()  # evaluating writes no output directory named after the id


def test_a_revision_that_is_not_cached_stops_a_run(checkpoints, tmp_path, monkeypatch, capsys) -> None:
    cache = tmp_path / "cache"
    cache_repository(cache, "my-org/tiny-bert", checkpoints["bert"])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    data_file = write_task_data(tmp_path, "ner.txt", NER)
    argv = ["train", "--task", "token_classification", "--model-name-or-path", "my-org/tiny-bert"]
    assert main([*argv, "--revision", "v9", "--train-file", data_file]) == 1
    error = capsys.readouterr().err
    assert "Revision 'v9' of Hugging Face Hub model 'my-org/tiny-bert' is not in the cache" in error
    assert "`hf download my-org/tiny-bert --revision v9`" in error


def test_predict_on_an_id_that_holds_no_run(checkpoints, tmp_path, monkeypatch, capsys) -> None:
    cache = tmp_path / "cache"
    cache_repository(cache, "my-org/tiny-bert", checkpoints["bert"])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    assert main(["predict", "my-org/tiny-bert", "--data", "x.txt"]) == 1
    assert "my-org/tiny-bert holds no archit_run.yaml (nor does its model/)" in capsys.readouterr().err
