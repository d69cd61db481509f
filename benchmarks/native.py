"""Native backbones: generation with the recurrent cache, and the cost of going through archit; one JSON line.

1. **Generation.** An LSTM causal LM (archit's ``ForCausalLM``) generates 256 tokens greedily after a 16-token
   prompt, once with its cache (the recurrent state: one LSTM step per new token) and once without (each step
   re-runs the whole prefix). Target: the cache makes it at least 5x faster; both outputs must be equal.
2. **Training step.** One AdamW step of the same LSTM language model (embeddings, two LSTM layers, tied
   decoder) called through archit (``model(input_ids, attention_mask, labels=...)``) and through a plain
   PyTorch loop that calls the very same modules by hand, timed in interleaved pairs
   (:mod:`benchmarks.measure`): the median of the per-pair ratios, their IQR and the median's 95% confidence
   interval, pairs added until the interval lies within 0.02 of the median. Target: at most 1.05. For scale,
   the same LM written as the canonical ``nn.LSTM(num_layers=2)`` model is compared as well.

Run ``python benchmarks/native.py`` (``--threads N`` to use N intra-op threads; 1 by default, which measures
the code rather than the machine's thread scheduling).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable

import torch
import transformers
from torch import nn

if __package__ in (None, ""):  # run as a script (python benchmarks/native.py): make `benchmarks` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from archit.modeling import BaseModel
from archit.modeling.heads.language_modeling import CausalLMHeadConfig
from archit.modeling.native import LSTMConfig
from archit.modeling.tasks import ForCausalLM
from benchmarks.measure import paired_ratio

VOCAB = 1000
WIDTH = 256
LAYERS = 2
PROMPT = 16
NEW_TOKENS = 256
BATCH, SEQ_LEN = 16, 64
GENERATION_TARGET = 5.0
TRAINING_TARGET = 1.05


def _language_model(seed: int = 0) -> ForCausalLM:
    torch.manual_seed(seed)
    config = LSTMConfig(
        vocab_size=VOCAB,
        embedding_size=WIDTH,
        hidden_size=WIDTH,
        num_hidden_layers=LAYERS,
        hidden_dropout_prob=0.1,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=None,
    )
    return ForCausalLM.fromModelAndHeadConfig(BaseModel(config), CausalLMHeadConfig())


def _timed(function: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def generation(repeats: int = 3) -> dict[str, float | bool]:
    """Seconds to generate ``NEW_TOKENS`` tokens with and without the cache, and their ratio."""
    model = _language_model().eval()
    prompt = torch.randint(3, VOCAB, (1, PROMPT), generator=torch.Generator().manual_seed(0))
    options = {"max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS, "do_sample": False, "pad_token_id": 0}
    with torch.no_grad():
        model.generate(prompt, max_new_tokens=4, pad_token_id=0)  # warm-up
        cached, with_cache = _timed(lambda: model.generate(prompt, use_cache=True, **options), repeats)
        uncached, without_cache = _timed(lambda: model.generate(prompt, use_cache=False, **options), repeats)
    return {
        "generate_256_cached_s": round(cached, 4),
        "generate_256_uncached_s": round(uncached, 4),
        "cache_speedup": round(uncached / cached, 2),
        "cache_outputs_equal": bool(torch.equal(with_cache, without_cache)),
    }


class StackedLSTMLanguageModel(nn.Module):
    """The canonical PyTorch word-level LSTM LM (as in pytorch/examples), sized like the archit one."""

    def __init__(self) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(VOCAB, WIDTH)
        self.dropout = nn.Dropout(0.1)
        self.lstm = nn.LSTM(WIDTH, WIDTH, num_layers=LAYERS, dropout=0.1, batch_first=True)
        self.decoder = nn.Linear(WIDTH, VOCAB, bias=False)
        self.decoder.weight = self.embeddings.weight

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.lstm(self.dropout(self.embeddings(input_ids)))
        return self.decoder(hidden)


def _shifted_loss(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    # position t predicts token t + 1
    return nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), input_ids[:, 1:].flatten())


def _plain_forward(model: ForCausalLM) -> Callable[[torch.Tensor], torch.Tensor]:
    """The archit model's own modules, called by hand: what the model computes, minus archit's plumbing."""
    backbone, decoder = model.backbone, model.head.decoder

    def forward(input_ids: torch.Tensor) -> torch.Tensor:
        hidden = backbone.dropout(backbone.embeddings(input_ids))
        for index, layer in enumerate(backbone.layers):
            hidden, _ = layer(backbone.dropout(hidden) if index else hidden)
        return _shifted_loss(decoder(hidden), input_ids)

    return forward


def training(max_pairs: int) -> dict[str, float]:
    """archit's training step over the plain loop's on the same modules, and over a stacked LSTM's."""
    archit_model, plain_model, stacked = _language_model(), _language_model(), StackedLSTMLanguageModel()
    plain_loss = _plain_forward(plain_model)
    batch = torch.randint(3, VOCAB, (BATCH, SEQ_LEN), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(batch)
    losses: dict[str, Callable[[], torch.Tensor]] = {
        "archit": lambda: archit_model(input_ids=batch, attention_mask=mask, labels=batch).loss,
        "plain": lambda: plain_loss(batch),
        "stacked": lambda: _shifted_loss(stacked(batch), batch),
    }
    models = {"archit": archit_model, "plain": plain_model, "stacked": stacked}
    optimizers = {name: torch.optim.AdamW(model.parameters(), lr=1e-3) for name, model in models.items()}

    def step(name: str) -> Callable[[], None]:
        def run() -> None:
            models[name].train()
            losses[name]().backward()
            optimizers[name].step()
            optimizers[name].zero_grad()

        return run

    pairs = {"min_pairs": 10, "max_pairs": max_pairs, "warmup": 3}
    return {
        **paired_ratio(step("archit"), step("plain"), **pairs).report("train_step_ratio"),
        **paired_ratio(step("archit"), step("stacked"), **pairs).report("train_step_ratio_vs_stacked_lstm"),
    }


def main() -> None:
    """Run both measurements and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads for torch (default 1)")
    parser.add_argument("--max-pairs", type=int, default=200, help="timed archit/plain pairs at most")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    transformers.logging.set_verbosity_error()
    result = {"benchmark": "native", "threads": arguments.threads, **generation(), **training(arguments.max_pairs)}
    result["cache_speedup_target_met"] = result["cache_speedup"] >= GENERATION_TARGET
    result["train_step_ratio_target_met"] = result["train_step_ratio"] <= TRAINING_TARGET
    result["transformers"] = transformers.__version__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
