"""archit's overhead against transformers' own ``RobertaFor...`` classes, measured side by side in one run.

Prints one JSON line of archit/HF ratios (lower is better; 1.0 is parity) for a roberta-base-size model,
batch 8 x 128: train step and eval forward of token classification, sequence classification and masked
LM (target <= 1.02), and ``from_pretrained`` time (warm, in process) and peak RSS (fresh processes) from a
local checkpoint against ``AutoModelForTokenClassification`` (targets <= 1.10 and <= 1.05).

Each time ratio comes from interleaved archit/HF pairs (``benchmarks/measure.py``): the median of the
per-pair ratios, with their interquartile range (``*_iqr``), the median's 95% confidence interval (``*_ci``)
and the number of pairs; pairs are added until the interval lies within ``--spread`` (0.02, the train-step
goal) of the median or ``--max-pairs`` ran.

    python benchmarks/overhead.py [--layers 12] [--spread 0.02] [--max-pairs 40] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable

import torch
import transformers

if __package__ in (None, ""):  # run as a script (python benchmarks/overhead.py): make `benchmarks` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from archit.modeling import ArchitFactory
from benchmarks.measure import paired_ratio

HF_CLASSES = {
    "token_classification": transformers.RobertaForTokenClassification,
    "sequence_classification": transformers.RobertaForSequenceClassification,
    "masked_lm": transformers.RobertaForMaskedLM,
}

_LOAD_SCRIPT = """
import resource, sys
import torch, transformers
import archit.modeling
if sys.argv[1] == "archit":
    model = archit.modeling.ArchitFactory.from_pretrained(sys.argv[2], task="token_classification")
else:
    model = transformers.AutoModelForTokenClassification.from_pretrained(sys.argv[2])
# peak RSS of the whole process: safetensors are memory-mapped, so the load adds little on top of the imports
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def roberta_base_config(layers: int) -> transformers.RobertaConfig:
    return transformers.RobertaConfig(
        vocab_size=50265,
        hidden_size=768,
        num_hidden_layers=layers,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=1,
    )


def batch_for(task: str, generator: torch.Generator) -> dict[str, torch.Tensor]:
    input_ids = torch.randint(3, 50265, (8, 128), generator=generator)
    batch = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
    if task == "token_classification":
        batch["labels"] = torch.randint(0, 2, (8, 128), generator=generator)
    elif task == "sequence_classification":
        batch["labels"] = torch.randint(0, 2, (8,), generator=generator)
    else:
        batch["labels"] = input_ids.clone()
    return batch


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: dict) -> Callable[[], None]:
    def step() -> None:
        model.train()
        optimizer.zero_grad()
        model(**batch).loss.backward()
        optimizer.step()

    return step


def eval_step(model: torch.nn.Module, batch: dict) -> Callable[[], None]:
    inputs = {key: value for key, value in batch.items() if key != "labels"}

    def step() -> None:
        model.eval()
        with torch.no_grad():
            model(**inputs)

    return step


def task_ratios(task: str, layers: int, pairs: dict[str, float], directory: str) -> dict[str, float]:
    torch.manual_seed(0)
    hf = HF_CLASSES[task](roberta_base_config(layers))
    hf.save_pretrained(directory)
    archit_model = ArchitFactory.from_pretrained(directory, task=task)
    batch = batch_for(task, torch.Generator().manual_seed(0))
    optimizers = [torch.optim.SGD(model.parameters(), lr=1e-5) for model in (archit_model, hf)]
    train = paired_ratio(train_step(archit_model, optimizers[0], batch), train_step(hf, optimizers[1], batch), **pairs)
    forward = paired_ratio(eval_step(archit_model, batch), eval_step(hf, batch), **pairs)
    return {**train.report(f"{task}_train_step"), **forward.report(f"{task}_eval_forward")}


def load_ratios(layers: int, pairs: dict[str, float], directory: str) -> dict[str, float]:
    """``from_pretrained`` time (in this process, warm, in interleaved pairs) and peak RSS (a fresh process
    each, the median of each side: memory does not drift with load as time does)."""
    transformers.RobertaForTokenClassification(roberta_base_config(layers)).save_pretrained(directory)
    load_time = paired_ratio(
        lambda: ArchitFactory.from_pretrained(directory, task="token_classification"),
        lambda: transformers.AutoModelForTokenClassification.from_pretrained(directory),
        **pairs,
    )
    peaks: dict[str, list[float]] = {"archit": [], "hf": []}
    for _ in range(int(pairs["min_pairs"])):
        for loader in peaks:
            result = subprocess.run(
                [sys.executable, "-c", _LOAD_SCRIPT, loader, directory], capture_output=True, text=True, check=True
            )
            peaks[loader].append(float(result.stdout.split()[-1]))
    return {
        **load_time.report("from_pretrained_time"),
        "from_pretrained_peak_rss": round(statistics.median(peaks["archit"]) / statistics.median(peaks["hf"]), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=12, help="encoder layers (12 is roberta-base)")
    parser.add_argument(
        "--spread",
        type=float,
        default=0.02,
        help="stop adding pairs once the median's 95%% interval lies within this of it",
    )
    parser.add_argument("--min-pairs", type=int, default=5, help="timed archit/HF pairs at least")
    parser.add_argument("--max-pairs", type=int, default=40, help="timed archit/HF pairs at most")
    parser.add_argument("--load-only", action="store_true", help="measure only from_pretrained time and memory")
    parser.add_argument("--quick", action="store_true", help="one layer, one pair: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    layers = 1 if args.quick else args.layers
    pairs = (
        {"spread": args.spread, "min_pairs": 1, "max_pairs": 1}
        if args.quick
        else {
            "spread": args.spread,
            "min_pairs": args.min_pairs,
            "max_pairs": args.max_pairs,
        }
    )
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        for task in () if args.load_only else HF_CLASSES:
            ratios.update(task_ratios(task, layers, pairs, directory))
        ratios.update(load_ratios(layers, pairs, directory))
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
