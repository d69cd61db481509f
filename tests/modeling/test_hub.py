"""Hub ids load like local directories, through every modeling entry point, from a hub cache built offline.

The cache (tests/hub_cache.py) has huggingface_hub's own layout; the suite runs with ``HF_HUB_OFFLINE=1``
(tests/conftest.py), so every id resolves from it or fails with the not-cached error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
import torch
import transformers
from huggingface_hub import constants

from archit.errors import CheckpointError
from archit.instantiation.basemodels import DebertaV2BaseModel
from archit.instantiation.heads import DependencyParsingHeadConfig
from archit.instantiation.tasks import (
    ForDependencyParsing,
    ForMaskedLM,
    ForSequenceRegression,
    ForSingleLabelTokenClassification,
)
from archit.modeling import ArchitFactory, BaseModel
from archit.resolution import ModelArchitectures, resolve
from archit.resolution.checkpoints import checkpoint_file, locate_checkpoint
from tests.hub_cache import cache_repository, repository_folder
from tests.tiny_configs import tiny_config

DESIGN_ID = "microsoft/deberta-v2-xlarge"
WEIGHT_NAMES = "model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json"


@pytest.fixture(autouse=True)
def _offline() -> None:
    assert constants.HF_HUB_OFFLINE, "tests/conftest.py sets HF_HUB_OFFLINE=1 before huggingface_hub is imported"


def _saved(model: torch.nn.Module, directory: Path, **save_options) -> Path:
    model.save_pretrained(directory, **save_options)
    return directory


def _state_equal(first: torch.nn.Module, second: torch.nn.Module, prefix: str = "") -> bool:
    first_state, second_state = first.state_dict(), second.state_dict()
    return all(torch.equal(first_state[name], second_state[prefix + name]) for name in first_state)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A hub cache with tiny models under hub ids, and the models they were saved from."""
    root = tmp_path_factory.mktemp("hub")
    cache = root / "cache"
    torch.manual_seed(0)
    deberta = transformers.DebertaV2Model(tiny_config("DEBERTA_V2")).eval()
    cache_repository(cache, DESIGN_ID, _saved(deberta, root / "deberta"))
    bert_main = transformers.BertForMaskedLM(tiny_config("BERT")).eval()
    bert_v2 = transformers.BertForMaskedLM(tiny_config("BERT")).eval()
    main_commit = cache_repository(cache, "my-org/tiny-bert", _saved(bert_main, root / "bert-main"))
    v2_commit = cache_repository(cache, "my-org/tiny-bert", _saved(bert_v2, root / "bert-v2"), revision="v2")
    regressor = ArchitFactory.from_config(tiny_config("ROBERTA"), task="regression").eval()
    cache_repository(cache, "my-org/regressor", _saved(regressor, root / "regressor"))
    tagger = ArchitFactory.from_config(tiny_config("GPT2"), task="token_classification", num_labels=3).eval()
    cache_repository(cache, "my-org/tagger", _saved(tagger, root / "tagger"))
    cache_repository(cache, "my-org/sharded", _saved(bert_main, root / "sharded", max_shard_size="20KB"))
    cache_repository(cache, "my-org/nested", _saved(deberta, root / "nested"), subfolder="encoder")
    tiny_config("BERT").save_pretrained(root / "config-only")
    cache_repository(cache, "my-org/config-only", root / "config-only")
    return SimpleNamespace(
        cache=str(cache),
        deberta=deberta,
        bert_main=bert_main,
        bert_v2=bert_v2,
        main_commit=main_commit,
        v2_commit=v2_commit,
        regressor=regressor,
        tagger=tagger,
    )


def test_the_test_cache_is_what_huggingface_hub_and_transformers_read(hub) -> None:
    scan = huggingface_hub.scan_cache_dir(hub.cache)
    assert scan.warnings == []
    revisions = {repo.repo_id: repo.revisions for repo in scan.repos}
    assert {frozenset(revision.refs) for revision in revisions["my-org/tiny-bert"]} == {
        frozenset({"main"}),
        frozenset({"v2"}),
    }
    config_file = huggingface_hub.try_to_load_from_cache(DESIGN_ID, "config.json", cache_dir=hub.cache)
    assert os.path.islink(config_file) and "/snapshots/" in config_file
    assert (repository_folder(hub.cache, "my-org/tiny-bert") / "refs" / "main").read_text() == hub.main_commit
    control = transformers.AutoModel.from_pretrained(DESIGN_ID, cache_dir=hub.cache)
    assert _state_equal(hub.deberta, control)


def test_the_design_call_loads_a_cached_deberta_v2(hub) -> None:
    parser = ArchitFactory.from_pretrained(DESIGN_ID, task="dep_parsing", cache_dir=hub.cache)
    assert isinstance(parser, ForDependencyParsing)
    assert _state_equal(hub.deberta, parser, prefix="deberta.")
    report = parser.loading_report
    assert report.checkpoint == DESIGN_ID
    assert report.new and all(name.startswith("head.") for name in report.new)
    assert set(report.loaded) == {"deberta." + name for name in hub.deberta.state_dict()}


def test_the_design_call_needs_only_the_environment(hub, tmp_path) -> None:
    script = textwrap.dedent(
        """
        from archit import ArchitFactory
        from archit.errors import CheckpointError

        parser = ArchitFactory.from_pretrained("microsoft/deberta-v2-xlarge", task="dep_parsing")
        print(type(parser).__name__, parser.loading_report.checkpoint, len(parser.loading_report.loaded))
        try:
            ArchitFactory.from_pretrained("my-org/absent", task="dep_parsing")
        except CheckpointError as error:
            print(error)
        """
    )
    environment = {**os.environ, "HF_HUB_CACHE": hub.cache, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first, error = result.stdout.splitlines()[:2]
    assert first == f"ForDependencyParsing {DESIGN_ID} {len(hub.deberta.state_dict())}"
    assert f"Hugging Face Hub model 'my-org/absent' is not in the cache at {hub.cache}" in error
    assert "HF_HUB_OFFLINE is set, so nothing was downloaded" in error
    assert "`hf download my-org/absent`" in error and "unset HF_HUB_OFFLINE" in error


def test_every_modeling_entry_point_takes_a_hub_id(hub) -> None:
    options = {"cache_dir": hub.cache}
    parser = ForDependencyParsing.from_pretrained(
        DESIGN_ID, DebertaV2BaseModel, DependencyParsingHeadConfig(), **options
    )
    assert _state_equal(hub.deberta, parser, prefix="deberta.")
    for base_model_class in (DebertaV2BaseModel, BaseModel):
        backbone = base_model_class.from_pretrained(DESIGN_ID, **options)
        assert isinstance(backbone, transformers.DebertaV2Model) and _state_equal(hub.deberta, backbone)
    assert resolve(DESIGN_ID, **options) is ModelArchitectures.get("DEBERTA_V2")
    tagger = ArchitFactory.from_pretrained(DESIGN_ID, task="token_classification", num_labels=5, **options)
    assert tagger.head.classifier.out_features == 5


def test_auto_classes_load_archit_checkpoints_by_hub_id(hub) -> None:
    options = {"cache_dir": hub.cache}
    ids = torch.randint(3, 99, (3, 7), generator=torch.Generator().manual_seed(0))
    regressor = transformers.AutoModelForSequenceClassification.from_pretrained("my-org/regressor", **options)
    assert isinstance(regressor, ForSequenceRegression) and _state_equal(hub.regressor, regressor)
    backbone = transformers.AutoModel.from_pretrained("my-org/regressor", **options)
    assert isinstance(backbone, transformers.RobertaModel)
    assert _state_equal(backbone, hub.regressor, prefix="roberta.")
    tagger = transformers.AutoModelForTokenClassification.from_pretrained("my-org/tagger", **options).eval()
    assert isinstance(tagger, ForSingleLabelTokenClassification)
    with torch.no_grad():
        assert torch.equal(tagger(input_ids=ids).logits, hub.tagger(input_ids=ids).logits)


def test_a_revision_loads_its_own_weights(hub) -> None:
    options = {"cache_dir": hub.cache}
    main = ForMaskedLM.from_pretrained("my-org/tiny-bert", **options)
    assert _state_equal(hub.bert_main.bert, main, "bert.") and not _state_equal(hub.bert_v2.bert, main, "bert.")
    for revision in ("v2", hub.v2_commit):
        loaded = ForMaskedLM.from_pretrained("my-org/tiny-bert", revision=revision, **options)
        assert _state_equal(hub.bert_v2.bert, loaded, "bert.")
        assert loaded.loading_report.new == []  # BERT's pretrained MLM head is reused


def test_a_revision_that_is_not_cached_says_which_are(hub) -> None:
    with pytest.raises(CheckpointError) as error:
        ArchitFactory.from_pretrained("my-org/tiny-bert", task="masked_lm", revision="v3", cache_dir=hub.cache)
    message = str(error.value)
    assert f"Revision 'v3' of Hugging Face Hub model 'my-org/tiny-bert' is not in the cache at {hub.cache}" in message
    assert f"(cached revisions: main, {hub.main_commit}; v2, {hub.v2_commit})" in message
    assert f"`hf download my-org/tiny-bert --revision v3 --cache-dir {hub.cache}`" in message


def test_local_files_only_is_named_as_the_reason(hub, monkeypatch) -> None:
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    options = {"cache_dir": hub.cache, "local_files_only": True}
    model = ArchitFactory.from_pretrained("my-org/tiny-bert", task="masked_lm", **options)
    assert _state_equal(hub.bert_main.bert, model, "bert.")
    with pytest.raises(CheckpointError, match="local_files_only=True, so nothing was downloaded") as error:
        BaseModel.from_pretrained("my-org/absent", **options)
    assert "or leave out local_files_only=True to download it" in str(error.value)


def test_a_cached_config_without_its_weights(hub) -> None:
    assert resolve("my-org/config-only", cache_dir=hub.cache) is ModelArchitectures.get("BERT")
    with pytest.raises(CheckpointError) as error:
        ForMaskedLM.from_pretrained("my-org/config-only", cache_dir=hub.cache)
    assert (
        f"Hugging Face Hub model 'my-org/config-only' (revision 'main') is in the cache at {hub.cache}, but without "
        f"{WEIGHT_NAMES}, and HF_HUB_OFFLINE is set"
    ) in str(error.value)


def test_sharded_checkpoints_and_subfolders(hub) -> None:
    checkpoint = locate_checkpoint("my-org/sharded", cache_dir=hub.cache)
    assert len(checkpoint.weight_files) > 1 and all("/snapshots/" in path for path in checkpoint.weight_files)
    shapes, state = checkpoint.weight_shapes(), hub.bert_main.state_dict()
    assert {"bert.embeddings.word_embeddings.weight", "cls.predictions.transform.dense.weight"} <= set(shapes)
    assert all(tuple(state[name].shape) == shape for name, shape in shapes.items())
    assert _state_equal(hub.bert_main.bert, ForMaskedLM.from_pretrained("my-org/sharded", cache_dir=hub.cache), "bert.")
    nested = BaseModel.from_pretrained("my-org/nested", subfolder="encoder", cache_dir=hub.cache)
    assert _state_equal(hub.deberta, nested)
    with pytest.raises(CheckpointError, match="is in the cache at .*, but without config.json"):
        BaseModel.from_pretrained("my-org/nested", cache_dir=hub.cache)


def test_checkpoint_file_finds_one_file_or_none(hub) -> None:
    found = checkpoint_file("my-org/tiny-bert", "config.json", revision="v2", cache_dir=hub.cache)
    assert found is not None and hub.v2_commit in found
    assert checkpoint_file("my-org/tiny-bert", "archit_run.yaml", cache_dir=hub.cache) is None
    with pytest.raises(CheckpointError, match="'my-org/absent' is not in the cache"):
        checkpoint_file("my-org/absent", "archit_run.yaml", cache_dir=hub.cache)


def test_a_truncated_blob_in_the_cache_is_caught(tmp_path) -> None:
    cache = tmp_path / "cache"
    cache_repository(cache, "my-org/broken", _saved(transformers.BertModel(tiny_config("BERT")), tmp_path / "model"))
    (blob,) = [
        path for path in (repository_folder(cache, "my-org/broken") / "blobs").iterdir() if path.stat().st_size > 10_000
    ]
    blob.write_bytes(blob.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="model.safetensors is truncated"):
        ForMaskedLM.from_pretrained("my-org/broken", cache_dir=cache)


@pytest.mark.parametrize("name", ["./missing", "../missing", "a/b/missing", "missing/", "~/no-such-archit-dir"])
def test_a_path_that_does_not_exist_is_a_missing_directory(name, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match=f"Checkpoint directory '{name}' does not exist"):
        ArchitFactory.from_pretrained(name, task="masked_lm")
    with pytest.raises(CheckpointError, match="does not exist"):
        BaseModel.from_pretrained(tmp_path / "missing")
    with pytest.raises(CheckpointError, match=f"does not exist \\(resolved to {tmp_path}"):
        resolve(str(tmp_path / "missing"))


def test_a_malformed_name_is_neither_directory_nor_hub_id() -> None:
    with pytest.raises(CheckpointError, match="'my org/model!' is neither an existing directory nor a valid"):
        ForMaskedLM.from_pretrained("my org/model!")


def test_a_local_directory_wins_over_the_hub_id_it_spells(hub, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    local = transformers.BertForMaskedLM(tiny_config("BERT")).eval()
    local.save_pretrained(tmp_path / "my-org" / "tiny-bert")
    loaded = ForMaskedLM.from_pretrained("my-org/tiny-bert", cache_dir=hub.cache)
    assert _state_equal(local.bert, loaded, "bert.") and not _state_equal(hub.bert_main.bert, loaded, "bert.")


def test_local_directories_without_config_or_weights(tmp_path) -> None:
    tiny_config("BERT").save_pretrained(tmp_path / "no-weights")
    with pytest.raises(CheckpointError, match=f"holds a config but no weights \\({WEIGHT_NAMES}\\)"):
        ArchitFactory.from_pretrained(tmp_path / "no-weights", task="masked_lm")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="has no config.json"):
        ForMaskedLM.from_pretrained(tmp_path / "empty")
    (tmp_path / "file").write_text("")
    with pytest.raises(CheckpointError, match="is a file"):
        ForMaskedLM.from_pretrained(tmp_path / "file")
    sharded = _saved(transformers.BertModel(tiny_config("BERT")), tmp_path / "sharded", max_shard_size="20KB")
    shard = sorted(sharded.glob("*-of-*.safetensors"))[-1]
    shard.unlink()
    with pytest.raises(CheckpointError, match=f"names weight files that are not in .*: {shard.name}"):
        BaseModel.from_pretrained(sharded)


def test_a_weight_variant_is_looked_for_by_its_name(tmp_path) -> None:
    backbone = transformers.BertModel(tiny_config("BERT")).eval()
    backbone.save_pretrained(tmp_path, variant="v1")
    assert _state_equal(backbone, BaseModel.from_pretrained(tmp_path, variant="v1"))
    with pytest.raises(CheckpointError, match="holds a config but no weights"):
        BaseModel.from_pretrained(tmp_path)
