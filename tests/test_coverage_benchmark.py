"""``benchmarks/coverage.py`` on a handful of model types: its verdicts, its worker pool and its JSON line; the
configs it synthesizes (``tests/tiny_configs.py``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import pytest

from benchmarks import coverage
from benchmarks.pool import run_jobs
from tests import tiny_configs

REGISTERED = {"bert": "BERT", "gpt2": "GPT2", "llama": "LLAMA"}
UNREGISTERED_TEXT = "megatron-bert"  # no archit family: served by the generic wrapper
NOT_TEXT = "whisper"  # mapped to a causal LM, but its bare model reads audio features, not token ids
TYPES = [*REGISTERED, UNREGISTERED_TEXT, NOT_TEXT]


@pytest.fixture(scope="module")
def results() -> dict[str, coverage.TypeResult]:
    return {result.model_type: result for result in coverage.run(TYPES, jobs=0)}


def test_the_types_are_transformers_text_lm_types() -> None:
    types = coverage.model_types()
    assert types == sorted(set(types))
    assert set(TYPES) <= set(types)
    assert "vit" not in types


def test_registered_and_generic_text_types_are_wrapped(results: dict[str, coverage.TypeResult]) -> None:
    for model_type, family in REGISTERED.items():
        assert (results[model_type].status, results[model_type].family) == ("wrapped", family), results[model_type]
        assert results[model_type].runnable
    generic = results[UNREGISTERED_TEXT]
    assert (generic.status, generic.family, generic.runnable) == ("wrapped", "GENERIC", True), generic


def test_a_type_plain_transformers_cannot_run_does_not_count(results: dict[str, coverage.TypeResult]) -> None:
    assert results[NOT_TEXT].status == "not_runnable" and not results[NOT_TEXT].runnable
    assert results[NOT_TEXT].reason
    summary = coverage.summarize(results.values())
    assert summary == {"runnable": 4, "wrapped": 4, "failed": {}}


def test_the_json_line_comes_last_and_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert coverage.main(["--types", "bert", NOT_TEXT, "--jobs", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) == {"runnable", "wrapped", "failed"}
    assert isinstance(summary["runnable"], int) and isinstance(summary["wrapped"], int)
    assert isinstance(summary["failed"], dict)
    assert (summary["runnable"], summary["wrapped"]) == (1, 1)
    assert any(line.startswith("bert ") and "wrapped" in line for line in lines)
    assert any(line.startswith(NOT_TEXT) and "not_runnable" in line for line in lines)


def test_a_failing_wrapper_is_reported_with_its_reason() -> None:
    failed = coverage.TypeResult("x", "GENERIC", "failed", "ValueError: no", runnable=True)
    assert coverage.summarize([failed]) == {"runnable": 1, "wrapped": 0, "failed": {"x": "ValueError: no"}}


def test_tiny_configs_are_tiny_and_keep_their_relations() -> None:
    config = tiny_configs.synthesized_config("llama")
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (64, 2, 4)
    assert config.head_dim * config.num_attention_heads == config.hidden_size
    assert config.vocab_size <= tiny_configs.VOCAB and 0 <= config.bos_token_id < config.vocab_size
    assert coverage.parameter_bytes(config) < 2e6
    gpt2 = tiny_configs.synthesized_config("gpt2")  # sizes under other names (n_embd, n_layer) are found too
    assert (gpt2.n_embd, gpt2.n_layer, gpt2.eos_token_id < gpt2.vocab_size) == (64, 2, True)


def test_worker_processes_give_the_same_verdicts(results: dict[str, coverage.TypeResult]) -> None:
    pooled = {r.model_type: r for r in coverage.run(["bert", "no-such-type"], jobs=1, timeout=120)}
    assert pooled["bert"].status == results["bert"].status == "wrapped"
    assert pooled["bert"].family == "BERT" and pooled["bert"].runnable
    assert pooled["no-such-type"].status == "not_runnable" and "no-such-type" in pooled["no-such-type"].reason


def sleeping_check(job: dict, progress: Callable[[dict], None]) -> dict:
    """A :mod:`benchmarks.pool` check that sleeps, or exits the interpreter, as the job says."""
    progress({"started": job["seconds"]})
    if job.get("exit"):
        sys.exit(3)
    time.sleep(job["seconds"])
    return {"slept": job["seconds"]}


def test_the_pool_reports_jobs_that_overrun_or_kill_their_worker_and_goes_on() -> None:
    jobs = [{"seconds": 0}, {"seconds": 60}, {"seconds": 0, "exit": True}, {"seconds": 0.1}]

    def interrupted(job: dict, progress: dict, status: str, reason: str) -> dict:
        return {"status": status, "progress": progress, "reason": reason}

    results = run_jobs(jobs, "tests.test_coverage_benchmark:sleeping_check", interrupted, workers=1, timeout=2)
    assert results[0] == {"slept": 0} and results[3] == {"slept": 0.1}
    assert results[1] == {"status": "timeout", "progress": {"started": 60}, "reason": "took more than 2 s"}
    assert results[2] == {"status": "died", "progress": {"started": 0}, "reason": "SystemExit: 3"}
