"""How many of transformers' text model types archit's wrapper serves, measured on tiny random models.

For every model type that transformers' Auto classes map to a causal LM, masked LM or token-classification
model, this script builds a tiny config from the config class's defaults, builds the bare model the way archit
does, and runs a forward pass on token ids with an attention mask in plain transformers. A type whose plain
forward pass gives hidden states is *runnable*. The same object is then wrapped with ``archit.modeling.wrap``
and ``encode()`` must return the plain hidden states (same shape, same values in eval mode), one vector per
token, as wide as the wrapper's ``hidden_size``. Such a type is *wrapped*.

Each type runs in a worker process with a time limit, so one hanging or huge model cannot stall the run::

    python benchmarks/coverage.py --jobs 2
    python benchmarks/coverage.py --types bert gpt2 llama --json-only

The table comes first; the last line is one JSON object ``{"runnable": N, "wrapped": M, "failed": {type:
reason}}`` where ``failed`` lists the runnable types that the wrapper does not serve.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

if __name__ == "__main__":  # run as a script: the repository's root holds the benchmarks and tests packages
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.pool import pool_parser, print_report, run_results, short
from tests.tiny_configs import BATCH_SIZE, SEQ_LEN, input_id_range, synthesized_config

__all__ = [
    "TypeResult",
    "auto_model_class",
    "build_backbone",
    "check_type",
    "format_table",
    "main",
    "model_types",
    "run",
    "summarize",
]


@dataclass
class TypeResult:
    """The outcome for one model type.

    Args:
        model_type: the ``config.model_type``.
        family: the archit family it resolves to (``""`` when it resolves to none).
        status: ``"wrapped"``, ``"failed"`` (runnable, but the wrapper does not serve it), ``"not_runnable"``
            (plain transformers fails with the tiny config), ``"skipped"`` (too large) or ``"timeout"``.
        reason: one line on why, for every status but ``"wrapped"``.
        runnable: plain transformers builds the model and returns hidden states.
        seconds: wall time spent on the type.
    """

    model_type: str
    family: str = ""
    status: str = "not_runnable"
    reason: str = ""
    runnable: bool = False
    seconds: float = 0.0


# --- the types ---------------------------------------------------------------------------------------


def model_types() -> list[str]:
    """Every model type transformers maps to a causal LM, masked LM or token-classification model, sorted."""
    from transformers.models.auto import modeling_auto

    mappings = (
        modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES,
    )
    return sorted({model_type for mapping in mappings for model_type in mapping})


# --- one type ----------------------------------------------------------------------------------------


def build_backbone(config: Any) -> tuple[Any, str, str]:
    """Build the bare model for ``config`` the way archit does; returns ``(model, family name, problem)``.

    The class is ``backbone_class(resolve(config), config)``. When archit resolves no family, the model is
    built from the class ``AutoModel`` maps the config to and the family name is ``""``. When archit resolves a
    family but cannot give its backbone class, the model is built the same way, and ``problem`` says why archit
    failed.
    """
    from archit.errors import UnknownArchitectureError
    from archit.modeling.base_models import backbone_class
    from archit.resolution import resolve

    try:
        family = resolve(config)
    except UnknownArchitectureError:
        return auto_model_class(config)(config), "", ""
    try:
        klass = backbone_class(family, config)
        if not isinstance(klass, type):
            names = ", ".join(getattr(k, "__name__", repr(k)) for k in klass)
            raise TypeError(f"backbone_class() returned a tuple ({names}), not a class")
    except Exception as error:
        return auto_model_class(config)(config), family.name, short(error)
    return klass(config), family.name, ""


def auto_model_class(config: Any) -> type:
    """The bare model class ``AutoModel`` maps ``config`` to; the first one where it maps to several (Funnel).

    Raises:
        LookupError: ``AutoModel`` maps no class to the config.
    """
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    try:
        klass = MODEL_MAPPING[type(config)]
    except KeyError:
        raise LookupError(f"AutoModel maps no bare model class to {type(config).__name__}") from None
    return klass[0] if isinstance(klass, (tuple, list)) else klass


def parameter_bytes(config: Any) -> int | None:
    """Bytes the parameters and buffers of the bare model would take, counted on the meta device.

    Returns:
        The byte count; ``None`` when the model cannot be built on the meta device.
    """
    import itertools

    import torch

    try:
        with torch.device("meta"):
            model = build_backbone(config)[0]
    except Exception:
        return None
    return sum(t.numel() * t.element_size() for t in itertools.chain(model.parameters(), model.buffers()))


def make_inputs(config: Any, generator_seed: int = 0) -> dict[str, Any]:
    """Token ids and an attention mask with two padded positions at the end of the first row."""
    import torch

    low, high = input_id_range(config)
    generator = torch.Generator().manual_seed(generator_seed)
    input_ids = torch.randint(low, high, (BATCH_SIZE, SEQ_LEN), generator=generator)
    attention_mask = torch.ones(BATCH_SIZE, SEQ_LEN, dtype=torch.long)
    attention_mask[0, SEQ_LEN - 2 :] = 0
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def _accepted(module: Any) -> frozenset[str] | None:
    import inspect

    parameters = inspect.signature(type(module).forward).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return frozenset(parameters)


def plain_hidden_states(model: Any, inputs: dict[str, Any]) -> Any:
    """Hidden states of the last layer from the model's own ``forward`` (its encoder's, for encoder-decoders).

    Raises:
        RuntimeError: the forward pass takes no ``input_ids`` or returns no ``(batch, seq, width)`` tensor.
    """
    import torch

    module = model
    if getattr(model.config, "is_encoder_decoder", False) and hasattr(model, "get_encoder"):
        module = model.get_encoder()
    accepted = _accepted(module)
    if accepted is not None and "input_ids" not in accepted:
        raise RuntimeError(f"{type(module).__name__}.forward takes no input_ids")
    candidates = {**inputs, "output_hidden_states": True, "return_dict": True, "use_cache": False}
    # a forward that takes **kwargs gets use_cache only where it names it: the kwargs may reach modules that don't
    kwargs = {k: v for k, v in candidates.items() if (k in accepted if accepted is not None else k != "use_cache")}
    with torch.no_grad():
        outputs = module(**kwargs)
    hidden = getattr(outputs, "last_hidden_state", None)
    if hidden is None and getattr(outputs, "hidden_states", None):
        hidden = outputs.hidden_states[-1]
    if hidden is None and isinstance(outputs, tuple) and outputs:
        hidden = outputs[0]
    if not (isinstance(hidden, torch.Tensor) and hidden.ndim == 3 and hidden.shape[0] == BATCH_SIZE):
        raise RuntimeError(f"{type(outputs).__name__} holds no (batch, seq, width) hidden states")
    return hidden


def wrapped_problem(model: Any, inputs: dict[str, Any], reference: Any) -> str:
    """Wrap ``model``, run ``encode`` and compare with ``reference``; ``""`` when everything agrees."""
    import torch

    from archit.modeling import wrap

    wrapped = wrap(model)
    with torch.no_grad():
        hidden = wrapped.encode(inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    if hidden is None:
        return "encode() returned no last_hidden_state"
    if hidden.shape != reference.shape:
        return f"encode() shape {tuple(hidden.shape)} != plain {tuple(reference.shape)}"
    if hidden.shape[1] != SEQ_LEN:
        return f"{hidden.shape[1]} hidden states for {SEQ_LEN} tokens (not one per token)"
    if wrapped.hidden_size != hidden.shape[-1]:
        return f"hidden_size fact {wrapped.hidden_size} != width {hidden.shape[-1]} of the hidden states"
    if not torch.allclose(hidden, reference, atol=1e-5, rtol=1e-4):
        return f"encode() values differ from plain (max abs diff {(hidden - reference).abs().max().item():.2e})"
    return ""


def check_type(
    model_type: str, max_bytes: float = 1e9, progress: Callable[[str, str], None] | None = None
) -> TypeResult:
    """Build, run plain, wrap and encode one model type.

    Args:
        model_type: a ``config.model_type`` transformers knows.
        max_bytes: skip the type when the tiny model's parameters would take more than this.
        progress: called with ``(phase, family)`` when the plain run succeeded (``phase == "runnable"``), so a
            supervisor that times the type out knows whether plain transformers got through.

    Returns:
        The :class:`TypeResult`; nothing is raised for a failing model.
    """
    import torch

    start = time.perf_counter()
    result = TypeResult(model_type)
    try:
        config = synthesized_config(model_type)
        size = parameter_bytes(config)
        if size is not None and size > max_bytes:
            result.status, result.reason = "skipped", f"tiny config still has {size / 1e6:.0f} MB of weights"
            return _timed(result, start)
        torch.manual_seed(0)
        model, result.family, problem = build_backbone(config)
        model.eval()
        inputs = make_inputs(config)
        reference = plain_hidden_states(model, inputs)
    except Exception as error:
        result.reason = short(error)
        return _timed(result, start)
    result.runnable = True
    if progress is not None:
        progress("runnable", result.family)
    try:
        problem = problem or wrapped_problem(model, inputs, reference)
    except Exception as error:
        problem = short(error)
    result.status, result.reason = ("failed", problem) if problem else ("wrapped", "")
    return _timed(result, start)


def _timed(result: TypeResult, start: float) -> TypeResult:
    result.seconds = round(time.perf_counter() - start, 2)
    return result


def check_job(job: dict[str, Any], progress: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """:func:`check_type` as a :mod:`benchmarks.pool` check: ``{"model_type", "max_bytes"}`` in, a result out."""

    def runnable(phase: str, family: str) -> None:
        progress({"runnable": phase == "runnable", "family": family})

    return asdict(check_type(job["model_type"], job["max_bytes"], runnable))


def _interrupted(job: dict[str, Any], progress: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
    """A type whose worker died or overran: failed if plain transformers had run it, else not runnable."""
    runnable = progress.get("runnable", False)
    status = "failed" if runnable else ("timeout" if status == "timeout" else "not_runnable")
    return asdict(TypeResult(job["model_type"], progress.get("family", ""), status, reason, runnable))


def run(
    types: Iterable[str],
    jobs: int = 2,
    timeout: float = 30.0,
    max_bytes: float = 1e9,
    max_memory: float = 3e9,
    on_result: Callable[[TypeResult], None] | None = None,
) -> list[TypeResult]:
    """Check every type in ``jobs`` worker processes, each type with its own time limit.

    Args:
        types: model types to check.
        jobs: worker processes (``0``: check in this process, without time limit; for tests).
        timeout, max_memory, on_result: as :func:`benchmarks.pool.run_jobs` takes them (per type).
        max_bytes: skip types whose tiny model's parameters take more bytes than this.

    Returns:
        One :class:`TypeResult` per type, in the order of ``types``.
    """
    work = [{"model_type": model_type, "max_bytes": max_bytes} for model_type in types]
    options = {"workers": jobs, "timeout": timeout, "max_memory": max_memory}
    return run_results(TypeResult, work, "benchmarks.coverage:check_job", _interrupted, options, on_result)


# --- report ------------------------------------------------------------------------------------------


def summarize(results: Iterable[TypeResult]) -> dict[str, Any]:
    """``{"runnable": N, "wrapped": M, "failed": {type: reason}}`` over runnable types only."""
    results = list(results)
    runnable = [r for r in results if r.runnable]
    return {
        "runnable": len(runnable),
        "wrapped": sum(r.status == "wrapped" for r in runnable),
        "failed": {r.model_type: r.reason for r in runnable if r.status != "wrapped"},
    }


def format_table(results: Iterable[TypeResult]) -> str:
    """A fixed-width table: model type, family, status, seconds and a short reason; then the totals."""
    results = list(results)
    rows = [("model type", "family", "status", "s", "reason")]
    rows += [(r.model_type, r.family or "-", r.status, f"{r.seconds:.1f}", r.reason[:100]) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)) for row in rows]
    summary = summarize(results)
    counts = {status: sum(r.status == status for r in results) for status in ("not_runnable", "skipped", "timeout")}
    ratio = summary["wrapped"] / summary["runnable"] if summary["runnable"] else 0.0
    lines.append(
        f"{len(results)} types: {summary['runnable']} runnable, {summary['wrapped']} wrapped "
        f"(wrapped/runnable = {ratio:.3f}); " + ", ".join(f"{count} {status}" for status, count in counts.items())
    )
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints the table and, last, the JSON line."""
    parser = pool_parser(__doc__.split("\n\n")[0], "type", timeout=30.0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    show = None if args.json_only else lambda r: print(f"{r.model_type}: {r.status} {r.reason}"[:150], file=sys.stderr)
    results = run(args.types or model_types(), args.jobs, args.timeout, args.max_bytes, args.max_memory, show)
    print_report(lambda: format_table(results), summarize(results), args, start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
