"""Every runnable text model type with every archit task: train, save, load, predict and generate, on tiny models.

The model types are those of ``benchmarks/coverage.py``, each with the tiny config it synthesizes; a type counts
when plain transformers runs its bare model (*runnable*). For each runnable type and each task (all ten, on
encoders and decoders alike), a *cell* passes when every check holds:

1. ``train``: ``ArchitFactory.from_config`` builds the model with its head; a forward pass with labels in train
   mode gives a finite loss, and backward reaches every head parameter.
2. ``reload``: ``save_pretrained`` then the task class's ``from_pretrained`` gives ``loading_report.new == []``
   and the same outputs in eval mode (``tests.comparison.assert_same_outputs``: 1e-5).
3. ``auto``: the task's Auto class (``AutoModelForTokenClassification``...) loads the same directory as the task's
   class, with the same outputs (every task but ``dep_parsing``, which has no Auto class).
4. ``generate`` (``causal_lm`` on a causal type): greedy ``generate()`` with the KV cache gives the tokens it
   gives without.
5. ``hf`` (where transformers has ``XForY`` for the type and task): loading its checkpoint reuses its head and
   reproduces its logits (to 1e-4 of their scale, the bound archit's loader confirms a head with), or says in
   ``loading_report.notes`` why the head was not reused (then the head is new).

A language-model task on a type with no token embedding matrix (CANINE reads characters) is *n/a*: no head over
a vocabulary makes sense there. Each cell runs in a worker process with a time limit::

    python benchmarks/coverage_matrix.py --jobs 2
    python benchmarks/coverage_matrix.py --types bert gpt2 --tasks causal_lm masked_lm --json-only

The table (one row per type, one column per task, a reason listed for each failing cell) comes first; the last
line is one JSON object: ``{"cells": N, "passing": M, "by_task": {task: {"cells", "passing"}}, "failing":
{reason: [type/task, ...]}}``, counting the cells of runnable types that are not n/a.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

if __name__ == "__main__":  # run as a script: the repository's root holds the benchmarks and tests packages
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.coverage import build_backbone, make_inputs, model_types, parameter_bytes, plain_hidden_states
from benchmarks.pool import pool_parser, print_report, run_results, short
from tests.task_inputs import LANGUAGE_MODEL_TASKS, NUM_LABELS, head_fields, labelled_inputs
from tests.tiny_configs import synthesized_config

__all__ = ["CellResult", "check_cell", "format_table", "main", "run", "summarize", "tasks"]

NEW_TOKENS = 4
COUNTED = ("pass", "fail", "timeout")
"""The statuses of cells that count: those of runnable types, not n/a."""


@dataclass
class CellResult:
    """The outcome for one model type and one task.

    Args:
        model_type: the ``config.model_type``.
        task: the archit task name.
        family: the archit family the type resolves to (``""`` before that is known).
        status: ``"pass"``, ``"fail"``, ``"timeout"``, ``"n/a"`` (the task makes no sense for the type),
            ``"not_runnable"`` (plain transformers fails with the tiny config) or ``"skipped"`` (too large).
        reason: ``"<check>: <what went wrong>"`` for every status but ``"pass"``.
        checks: the checks that ran and held, in order (``train``, ``reload``, ``auto``, ``generate``, ``hf``;
            ``hf-new`` where the checkpoint's head was truthfully not reused).
        seconds: wall time spent on the cell.
    """

    model_type: str
    task: str
    family: str = ""
    status: str = "not_runnable"
    reason: str = ""
    checks: list[str] = field(default_factory=list)
    seconds: float = 0.0


class CheckError(Exception):
    """A check of a cell did not hold; the message says which and why."""


def tasks() -> list[str]:
    """archit's registered task names, in natural order."""
    from archit.modeling import ArchitFactory

    return ArchitFactory.tasks()


# --- one cell ----------------------------------------------------------------------------------------


def check_cell(
    model_type: str, task: str, max_bytes: float = 1e9, progress: Callable[[dict[str, Any]], None] | None = None
) -> CellResult:
    """Run the checks of the module docstring on one model type and task.

    Args:
        model_type: a ``config.model_type`` transformers knows.
        task: an archit task name.
        max_bytes: skip the type when the tiny bare model's parameters would take more than this.
        progress: called with ``{"family": ..., "runnable": True}`` once plain transformers ran the type, then
            ``{"check": name}`` as each check starts, so a supervisor that times the cell out can say where.

    Returns:
        The :class:`CellResult`; nothing is raised for a failing model.
    """

    tell = progress or (lambda _: None)
    start = time.perf_counter()
    result = CellResult(model_type, task)
    result.status, result.family, result.reason, has_vocabulary = _plain_run(model_type, max_bytes)
    if result.status != "runnable":
        return _timed(result, start)
    tell({"family": result.family, "runnable": True})
    if task in LANGUAGE_MODEL_TASKS and not has_vocabulary:
        result.status, result.reason = "n/a", "no token embedding matrix to predict tokens with"
        return _timed(result, start)
    config = synthesized_config(model_type)
    check = "build"
    with tempfile.TemporaryDirectory() as directory:
        cell = _Cell(model_type, task, config, result, directory)
        try:
            for check in _CHECKS:
                tell({"check": check})
                if _CHECKS[check](cell):
                    result.checks.append(check)
            result.status = "pass"
        except CheckError as failure:
            result.status, result.reason = "fail", f"{check}: {failure}"
        except Exception as error:
            result.status, result.reason = "fail", f"{check}: {short(error)}"
    return _timed(result, start)


@functools.cache
def _plain_run(model_type: str, max_bytes: float) -> tuple[str, str, str, bool]:
    """``(status, family, reason, has a token embedding matrix)`` of the type's bare model in plain transformers,
    with status ``"runnable"``, ``"not_runnable"`` or ``"skipped"``; once per type and worker process."""
    import torch

    try:
        config = synthesized_config(model_type)
        size = parameter_bytes(config)
        if size is not None and size > max_bytes:
            return "skipped", "", f"tiny config still has {size / 1e6:.0f} MB of weights", False
        torch.manual_seed(0)
        backbone, family, _ = build_backbone(config)
        plain_hidden_states(backbone.eval(), make_inputs(config))
    except Exception as error:
        return "not_runnable", "", short(error), False
    try:
        has_vocabulary = isinstance(backbone.get_input_embeddings(), torch.nn.Embedding)
    except NotImplementedError:  # transformers' default finds no embedding module
        has_vocabulary = False
    return "runnable", family, "", has_vocabulary


def _timed(result: CellResult, start: float) -> CellResult:
    result.seconds = round(time.perf_counter() - start, 2)
    return result


@dataclass
class _Cell:
    """What the checks of one cell share: the trained model in eval mode, its inputs and its eval outputs."""

    model_type: str
    task: str
    config: Any
    result: CellResult
    directory: str
    model: Any = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: list[Any] = field(default_factory=list)


def _outputs(model: Any, inputs: dict[str, Any]) -> list[Any]:
    import torch

    with torch.no_grad():
        output = model(**inputs)
    return [value for value in output.values() if isinstance(value, torch.Tensor)]


def _same_outputs(what: str, expected: list[Any], actual: list[Any]) -> None:
    from tests.comparison import assert_same_outputs

    if len(expected) != len(actual):
        raise CheckError(f"{what} gives {len(actual)} output tensors, not {len(expected)}")
    for number, (left, right) in enumerate(zip(expected, actual, strict=True)):
        try:
            assert_same_outputs(right, left)
        except AssertionError:
            difference = (right.float() - left.float()).abs().max().item() if right.shape == left.shape else "shape"
            raise CheckError(f"{what}: output {number} differs (max abs diff {difference})") from None


def _train(cell: _Cell) -> bool:
    import torch

    from archit.modeling import ArchitFactory

    torch.manual_seed(0)
    model = ArchitFactory.from_config(cell.config, task=cell.task, **head_fields(cell.task))
    inputs = labelled_inputs(cell.task, make_inputs(cell.config), torch.Generator().manual_seed(1))
    model.train()
    loss = model(**inputs).loss
    if loss is None or not torch.isfinite(loss):
        raise CheckError(f"loss {loss}")
    loss.backward()
    missing = [name for name, parameter in model.head.named_parameters() if parameter.grad is None]
    if missing:
        raise CheckError(f"no gradient reaches head.{missing[0]} ({len(missing)} head parameters)")
    cell.model, cell.inputs = model.eval(), inputs
    cell.outputs = _outputs(model, inputs)
    return True


def _reload(cell: _Cell) -> bool:
    cell.model.save_pretrained(cell.directory)
    loaded = type(cell.model).from_pretrained(cell.directory)
    if loaded.loading_report.new:
        new = loaded.loading_report.new
        raise CheckError(f"{len(new)} new weights on reload ({new[0]}...)")
    _same_outputs("the reloaded model", cell.outputs, _outputs(loaded.eval(), cell.inputs))
    return True


def _auto(cell: _Cell) -> bool:
    import transformers

    auto_name = _AUTO_CLASSES.get(cell.task, type(cell.model).hf_auto_class)
    if auto_name is None:
        return False
    loaded = getattr(transformers, auto_name).from_pretrained(cell.directory)
    if type(loaded) is not type(cell.model):
        raise CheckError(f"{auto_name} loads a {type(loaded).__name__}, not a {type(cell.model).__name__}")
    _same_outputs(auto_name, cell.outputs, _outputs(loaded.eval(), cell.inputs))
    return True


_AUTO_CLASSES = {"extractive_aqa": "AutoModelForQuestionAnswering"}
"""The Auto class of a task transformers has no ``XForY`` class for (``hf_auto_class`` is ``None``) but archit
registers with one."""


def _generate(cell: _Cell) -> bool:
    import torch

    model = cell.model
    if cell.task != "causal_lm" or not model.backbone.is_causal:
        return False
    prompt = cell.inputs["input_ids"][1:2]  # a row without padding
    options = {"max_new_tokens": NEW_TOKENS, "do_sample": False, "pad_token_id": 0}
    with torch.no_grad():
        cached = model.generate(prompt, use_cache=True, **options)
        uncached = model.generate(prompt, use_cache=False, **options)
    if not torch.equal(cached, uncached):
        raise CheckError(
            f"tokens with the cache {cached[0, -NEW_TOKENS:].tolist()} != without {uncached[0, -NEW_TOKENS:].tolist()}"
        )
    return True


def _hf_config(model_type: str, task: str) -> Any:
    config = synthesized_config(model_type)
    if task == "regression":
        config.num_labels, config.problem_type = 1, "regression"
    elif task in ("token_classification", "sequence_classification", "multi_label_classification"):
        config.id2label = {index: f"class-{index}" for index in range(NUM_LABELS)}
        config.label2id = {name: index for index, name in config.id2label.items()}
        config.problem_type = "multi_label_classification" if task == "multi_label_classification" else None
    return config


_LOGITS = ("logits", "start_logits", "end_logits")


def _hf(cell: _Cell) -> bool:
    import torch

    from archit._compat import hf_task_class
    from archit.modeling import ArchitFactory

    auto_name = type(cell.model).hf_auto_class
    hf_class = hf_task_class(auto_name, cell.model_type) if auto_name else None
    if hf_class is None:
        return False
    try:
        torch.manual_seed(0)
        hf_model = hf_class(_hf_config(cell.model_type, cell.task)).eval()
        inputs = {"input_ids": cell.inputs["input_ids"]}  # no padding: HF's pooling reads pad ids, archit the mask
        with torch.no_grad():
            expected = hf_model(**inputs)
    except Exception as error:  # transformers' own class does not run on the tiny config: nothing to compare
        cell.result.checks.append(f"hf-not-runnable ({short(error)[:60]})")
        return False
    with tempfile.TemporaryDirectory() as directory:
        hf_model.save_pretrained(directory)
        model = ArchitFactory.from_pretrained(directory, task=cell.task).eval()
    if any(hf_class.__name__ in note and "not reused" in note for note in model.loading_report.notes):
        cell.result.checks.append("hf-new")  # archit's head for the task computes something else, and says so
        return False
    with torch.no_grad():
        actual = model(**inputs)
    names = [name for name in _LOGITS if getattr(expected, name, None) is not None]
    for name in names:  # two code paths (HF's head, archit's): equal to 1e-4 of the logits' scale, as loading checks
        ours, theirs = getattr(actual, name).float(), getattr(expected, name).float()
        difference = (ours - theirs).abs().max().item() if ours.shape == theirs.shape else float("inf")
        if not difference <= 1e-4 * max(1.0, theirs.abs().max().item()):
            raise CheckError(f"{hf_class.__name__}'s checkpoint gives other {name} (max abs diff {difference:.3g})")
    return True


_CHECKS: dict[str, Callable[[_Cell], bool]] = {
    "train": _train,
    "reload": _reload,
    "auto": _auto,
    "generate": _generate,
    "hf": _hf,
}
"""Each check returns whether it applied, raises :class:`CheckError` when it did not hold."""


# --- many cells ----------------------------------------------------------------------------------


def check_job(job: dict[str, Any], progress: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """:func:`check_cell` as a :mod:`benchmarks.pool` check: ``{"model_type", "task", "max_bytes"}`` in."""
    return asdict(check_cell(job["model_type"], job["task"], job["max_bytes"], progress))


def _interrupted(job: dict[str, Any], progress: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
    """A cell whose worker died or overran: a failure of the check it was in, if plain transformers ran the type."""
    if not progress.get("runnable"):
        return asdict(CellResult(job["model_type"], job["task"], status="not_runnable", reason=reason))
    status = "timeout" if status == "timeout" else "fail"
    reason = f"{progress.get('check', 'build')}: {reason}"
    return asdict(CellResult(job["model_type"], job["task"], progress["family"], status, reason))


def run(
    types: Iterable[str],
    task_names: Sequence[str] | None = None,
    jobs: int = 2,
    timeout: float = 60.0,
    max_bytes: float = 1e9,
    max_memory: float = 3e9,
    on_result: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Check every type with every task, one cell per job in ``jobs`` worker processes.

    Args:
        types: model types to check.
        task_names: tasks to check (default: every registered task).
        jobs: worker processes (``0``: in this process, without time limit; for tests).
        timeout, max_memory, on_result: as :func:`benchmarks.pool.run_jobs` takes them (per cell).
        max_bytes: skip types whose tiny bare model's parameters take more bytes than this.

    Returns:
        One :class:`CellResult` per cell, type-major, in the order of ``types`` and ``task_names``.
    """
    task_names = list(task_names or tasks())
    work = [{"model_type": t, "task": task, "max_bytes": max_bytes} for t in types for task in task_names]
    options = {"workers": jobs, "timeout": timeout, "max_memory": max_memory}
    return run_results(CellResult, work, "benchmarks.coverage_matrix:check_job", _interrupted, options, on_result)


# --- report ------------------------------------------------------------------------------------------


def _reason_group(reason: str) -> str:
    """A failing reason without the numbers and names that differ from cell to cell."""
    reason = re.sub(r"\(max abs diff [^)]*\)", "(max abs diff ...)", reason)
    reason = re.sub(r"\[[^\]]*\]", "[...]", reason)
    return re.sub(r"\d+", "N", reason)[:120]


def summarize(results: Iterable[CellResult]) -> dict[str, Any]:
    """The JSON summary over counted cells (runnable types, tasks that make sense for them)."""
    counted = [r for r in results if r.status in COUNTED]
    by_task: dict[str, dict[str, int]] = {}
    failing: dict[str, list[str]] = defaultdict(list)
    for r in counted:
        entry = by_task.setdefault(r.task, {"cells": 0, "passing": 0})
        entry["cells"] += 1
        entry["passing"] += r.status == "pass"
        if r.status != "pass":
            failing[_reason_group(r.reason)].append(f"{r.model_type}/{r.task}")
    return {
        "cells": len(counted),
        "passing": sum(r.status == "pass" for r in counted),
        "types": len({r.model_type for r in counted}),
        "by_task": by_task,
        "failing": dict(sorted(failing.items(), key=lambda item: -len(item[1]))),
    }


_MARKS = {"pass": "ok", "fail": "FAIL", "timeout": "TIME", "n/a": "n/a"}


def format_table(results: Iterable[CellResult]) -> str:
    """Type by task: ``ok``, ``FAIL``, ``TIME`` or ``n/a`` per cell; the failing cells' reasons; the totals."""
    results = list(results)
    task_names = list(dict.fromkeys(r.task for r in results))
    by_type: dict[str, dict[str, CellResult]] = defaultdict(dict)
    for r in results:
        by_type[r.model_type][r.task] = r
    runnable = {t: cells for t, cells in by_type.items() if any(c.status in (*COUNTED, "n/a") for c in cells.values())}
    headers = ["model type", "family", *task_names]
    rows = [
        [
            t,
            next(iter(c.family for c in cells.values() if c.family), "-"),
            *(_MARKS.get(getattr(cells.get(k), "status", ""), "-") for k in task_names),
        ]
        for t, cells in runnable.items()
    ]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [headers, *rows]
    ]
    failing = [r for r in results if r.status in ("fail", "timeout")]
    lines += ["", f"{len(failing)} failing cells:"] + [f"  {r.model_type}/{r.task}: {r.reason}" for r in failing]
    summary = summarize(results)
    not_runnable = len(by_type) - len(runnable)
    lines.append(
        f"{len(runnable)} runnable types ({not_runnable} not runnable or skipped): {summary['passing']} of "
        f"{summary['cells']} cells pass ({summary['passing'] / max(1, summary['cells']):.1%})"
    )
    lines += [f"  {task}: {entry['passing']} / {entry['cells']}" for task, entry in summary["by_task"].items()]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints the table and, last, the JSON line."""
    parser = pool_parser(__doc__.split("\n\n")[0], "cell", timeout=60.0)
    parser.add_argument("--tasks", nargs="+", help="tasks to check (default: every registered task)")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    def show(r: CellResult) -> None:
        print(f"{r.model_type}/{r.task}: {r.status} {r.seconds:.1f}s {r.reason}"[:200], file=sys.stderr)

    results = run(
        args.types or model_types(),
        args.tasks,
        args.jobs,
        args.timeout,
        args.max_bytes,
        args.max_memory,
        on_result=None if args.json_only else show,
    )
    print_report(lambda: format_table(results), summarize(results), args, start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
