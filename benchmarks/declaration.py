"""Time and peak memory to declare one change in a 24-layer roberta-large-size model; prints one JSON line.

The modified instance is built on the meta device (no weights to download or allocate); the compiler builds
its own reference on the meta device too, so declaring allocates no parameter memory. Run it with
``python benchmarks/declaration.py``; the target is under 1 s and a peak RSS increase far below the model's
parameter bytes.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
import tracemalloc

import torch
import transformers
from torch import nn
from transformers import RobertaConfig, RobertaForMaskedLM

from archit.declaration.compiler import generate_difference

TARGET_SECONDS = 1.0
REPEATS = 5


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Build the modified model on meta, declare it cold, traced and ``REPEATS`` times warm; print the figures."""
    transformers.logging.set_verbosity_error()
    config = RobertaConfig(
        vocab_size=50265,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        max_position_embeddings=514,
        type_vocab_size=1,
    )
    with torch.device("meta"):
        model = RobertaForMaskedLM(config)
        model.roberta.encoder.layer[11].attention.self.query = nn.Linear(1024, 1024, bias=False)
    parameters = sum(p.numel() for p in model.parameters())

    rss_before = _rss_mb()
    start = time.perf_counter()
    text = generate_difference(model, RobertaForMaskedLM)
    cold = time.perf_counter() - start
    tracemalloc.start()  # a separate run: tracing slows Python down several times
    generate_difference(model, RobertaForMaskedLM)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    warm = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        generate_difference(model, RobertaForMaskedLM)
        warm.append(time.perf_counter() - start)
    rss_increase = _rss_mb() - rss_before

    assert "self.query = nn.Linear(1024, 1024, bias=False)" in text
    record = {
        "benchmark": "declaration",
        "model": "RobertaForMaskedLM, roberta-large size (24 layers, hidden 1024, 16 heads, FFN 4096, vocab 50265)",
        "parameters": parameters,
        "parameter_mb_if_allocated": round(parameters * 4 / 2**20, 1),
        "cold_seconds": round(cold, 3),
        "warm_median_seconds": round(statistics.median(warm), 3),
        "target_seconds": TARGET_SECONDS,
        "meets_target": cold < TARGET_SECONDS,
        "peak_rss_increase_mb": round(rss_increase, 1),
        "python_heap_peak_mb": round(traced_peak / 2**20, 1),
        "generated_lines": text.count("\n"),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
