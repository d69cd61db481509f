"""archit's overhead against transformers' own ``RobertaFor...`` classes, measured side by side in one run.

Prints one JSON line of archit/HF ratios (lower is better; 1.0 is parity) for a roberta-base-size model,
batch 8 x 128: train step and eval forward of token classification, sequence classification and masked
LM (target <= 1.02), and ``from_pretrained`` time (warm, in process) and peak RSS (fresh processes) from a
local checkpoint against
``AutoModelForTokenClassification`` (targets <= 1.10 and <= 1.05). Each measurement alternates archit and HF
and takes the median, so that load on this shared machine hits both alike.

    python benchmarks/overhead.py [--repeats 5] [--layers 12]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import torch
import transformers

from archit.modeling import ArchitFactory

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


def timed(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def compare(archit_step: Callable[[], None], hf_step: Callable[[], None], repeats: int) -> float:
    """Median time ratio archit/HF, alternating the two after one warm-up each."""
    archit_step(), hf_step()
    archit_times, hf_times = [], []
    for _ in range(repeats):
        archit_times.append(timed(archit_step))
        hf_times.append(timed(hf_step))
    return statistics.median(archit_times) / statistics.median(hf_times)


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


def task_ratios(task: str, layers: int, repeats: int, directory: str) -> dict[str, float]:
    torch.manual_seed(0)
    hf = HF_CLASSES[task](roberta_base_config(layers))
    hf.save_pretrained(directory)
    archit_model = ArchitFactory.from_pretrained(directory, task=task)
    batch = batch_for(task, torch.Generator().manual_seed(0))
    optimizers = [torch.optim.SGD(model.parameters(), lr=1e-5) for model in (archit_model, hf)]
    return {
        f"{task}_train_step": compare(
            train_step(archit_model, optimizers[0], batch), train_step(hf, optimizers[1], batch), repeats
        ),
        f"{task}_eval_forward": compare(eval_step(archit_model, batch), eval_step(hf, batch), repeats),
    }


def load_ratios(layers: int, repeats: int, directory: str) -> dict[str, float]:
    """``from_pretrained`` time (in this process, warm, alternating) and peak RSS (a fresh process each)."""
    transformers.RobertaForTokenClassification(roberta_base_config(layers)).save_pretrained(directory)
    time_ratio = compare(
        lambda: ArchitFactory.from_pretrained(directory, task="token_classification"),
        lambda: transformers.AutoModelForTokenClassification.from_pretrained(directory),
        repeats,
    )
    peaks: dict[str, list[float]] = {"archit": [], "hf": []}
    for _ in range(repeats):
        for loader in peaks:
            result = subprocess.run(
                [sys.executable, "-c", _LOAD_SCRIPT, loader, directory], capture_output=True, text=True, check=True
            )
            peaks[loader].append(float(result.stdout.split()[-1]))
    return {
        "from_pretrained_time": time_ratio,
        "from_pretrained_peak_rss": statistics.median(peaks["archit"]) / statistics.median(peaks["hf"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median taken)")
    parser.add_argument("--layers", type=int, default=12, help="encoder layers (12 is roberta-base)")
    parser.add_argument("--load-only", action="store_true", help="measure only from_pretrained time and memory")
    args = parser.parse_args()
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        for task in () if args.load_only else HF_CLASSES:
            ratios.update(task_ratios(task, args.layers, args.repeats, directory))
        ratios.update(load_ratios(args.layers, args.repeats, directory))
    print(json.dumps({name: round(value, 3) for name, value in ratios.items()}))


if __name__ == "__main__":
    main()
