"""The benchmark scripts: the paired-ratio measurement they share, and each one's ``--quick`` smoke run, which
must end with one JSON line holding its figures."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import measure

ROOT = Path(__file__).resolve().parent.parent


def _last_json_line(script: str, *arguments: str) -> dict:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=600,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_paired_ratio_alternates_the_order_and_stops_once_the_spread_is_small(monkeypatch) -> None:
    calls: list[str] = []
    durations = {"first": 2.0, "second": 1.0}  # whatever the order, every pair's ratio is exactly 2

    def fake_timed(step) -> float:
        step()
        return durations[calls[-1]]

    monkeypatch.setattr(measure, "timed", fake_timed)
    ratio = measure.paired_ratio(lambda: calls.append("first"), lambda: calls.append("second"), min_pairs=4)
    # 6 pairs, the fewest with a 95% interval of the median
    assert (ratio.median, ratio.iqr, ratio.interval, ratio.pairs) == (2.0, 0.0, (2.0, 2.0), 6)
    # one warm-up of each, then A B, B A, A B, B A...
    assert calls[:10] == ["first", "second", "first", "second", "second", "first", "first", "second", "second", "first"]
    assert len(calls) == 2 + 2 * 6


def test_paired_ratio_reports_the_spread_when_the_budget_runs_out(monkeypatch) -> None:
    # pair ratios alternate 1, 2, 1, 2...: the interval never narrows to the spread asked for
    times = iter([1.0, 1.0, 1.0, 2.0] * 4)
    monkeypatch.setattr(measure, "timed", lambda step: next(times))
    ratio = measure.paired_ratio(lambda: None, lambda: None, warmup=0, min_pairs=2, max_pairs=8, spread=0.01)
    assert ratio.pairs == 8 and ratio.median == 1.5 and ratio.iqr == pytest.approx(1.0)
    assert ratio.report("x") == {"x": 1.5, "x_iqr": 1.0, "x_ci": [1.0, 2.0], "x_pairs": 8}


@pytest.mark.parametrize(
    ("n", "ranks"),
    [(5, None), (6, (1, 6)), (10, (2, 9)), (20, (6, 15)), (30, (10, 21)), (100, (40, 61))],
)
def test_the_median_interval_is_that_of_the_binomial_tables(n, ranks) -> None:
    # values 1..n: the interval's bounds are the order statistics themselves (tables of e.g. Conover, 1999)
    assert measure.median_interval([float(value) for value in range(n, 0, -1)]) == ranks


def test_the_median_interval_narrows_with_more_pairs() -> None:
    noise = [1.0 + 0.1 * ((7 * index) % 11 - 5) / 5 for index in range(200)]  # per-pair ratios 0.9 .. 1.1
    widths = [high - low for low, high in (measure.median_interval(noise[:n]) for n in (10, 50, 200))]
    assert widths[0] > widths[1] > widths[2]
    assert measure.interquartile_range(noise[:200]) > widths[2]


def test_import_time_quick() -> None:
    line = _last_json_line("import_time.py", "--quick")
    assert {"archit_modeling_over_transformers_models_cpu_s", "modeling_goal_met", "help_goal_met"} <= set(line)
    assert line["archit_cpu_s"] < line["transformers_cpu_s"]  # `import archit` loads neither torch nor transformers


def test_overhead_quick() -> None:
    line = _last_json_line("overhead.py", "--quick")
    for task in ("token_classification", "sequence_classification", "masked_lm"):
        assert line[f"{task}_train_step_pairs"] == 1 and line[f"{task}_train_step"] > 0
    assert line["from_pretrained_peak_rss"] > 0


def test_maintained_libraries_quick() -> None:
    line = _last_json_line("maintained_libraries.py", "--quick")
    for name in ("conllu_read", "conllu_write", "entity_scores", "squad_scores"):
        assert line[f"{name}_pairs"] == 1 and line[name] > 0
    assert line["conllu_round_trip_archit"] and line["entity_scores_equal"] and line["squad_scores_equal"]


@pytest.mark.skipif(importlib.util.find_spec("supar") is None, reason="SuPar (supar-bauwenst) is not installed")
def test_parser_vs_supar_quick() -> None:
    line = _last_json_line("parser_vs_supar.py", "--quick", "--length-pair")
    for system in ("supar", "archit", "archit_ungrouped"):
        assert line[f"{system}_train_sents_per_s"] > 0 and line[f"{system}_predict_sents_per_s"] > 0
        assert 0 <= line[f"{system}_dev_las"] <= line[f"{system}_dev_uas"] <= 100
        assert line[f"{system}_train_peak_rss_mib"] > 100
    assert line["steps"] > 0 and line["group_by_length_speedup"] > 0


def test_predict_quick() -> None:
    line = _last_json_line("predict.py", "--quick")
    for task in ("dep_parsing", "token_classification", "sequence_classification"):
        assert line[f"{task}_pairs"] == 1 and line[task] > 0
        assert line[f"{task}_sentences"] == 24 and line[f"{task}_sentences_per_s"] > 0
        assert line[f"{task}_model_share_pairs"] == line[f"{task}_pipeline_share_pairs"] == 1
        assert line[f"{task}_model_share"] > 0 and line[f"{task}_pipeline_share"] > 0
    # the parser predicted 100 and 400 sentences with the archit command, each process's peak memory measured
    assert line["memory_sentences"] == [100, 400] and min(line["memory_peak_rss_mib"]) > 100
    assert line["memory_ratio"] == pytest.approx(line["memory_peak_rss_mib"][1] / line["memory_peak_rss_mib"][0], 0.01)
