"""Shared fixtures: tiny models of every tested family, built once per test session."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

# The suite never reaches the Hugging Face Hub: hub ids resolve from caches the tests build (tests/hub_cache.py).
# Set before huggingface_hub is imported, which reads it once; subprocesses inherit it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from tests.tiny_configs import BATCH_SIZE, SEQ_LEN, VOCAB_SIZE  # noqa: E402

# Tiny models gain nothing from intra-op threads, and the suite runs one xdist worker per core: more threads
# per worker only oversubscribe the machine (a parsing step measured 17x slower with 2 threads under load).
torch.set_num_threads(1)


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    """Token ids and an attention mask with padding in the first row (distinct batch and sequence sizes)."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(3, VOCAB_SIZE, (BATCH_SIZE, SEQ_LEN), generator=generator)
    attention_mask = torch.ones(BATCH_SIZE, SEQ_LEN, dtype=torch.long)
    attention_mask[0, SEQ_LEN - 2 :] = 0
    return {"input_ids": input_ids, "attention_mask": attention_mask}


class TransformersLog(logging.Handler):
    """Keeps the messages of the loggers it is added to."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def transformers_log() -> Iterator[TransformersLog]:
    """What transformers logs (its loggers do not propagate to pytest's caplog)."""
    handler, library = TransformersLog(), logging.getLogger("transformers")
    library.addHandler(handler)
    yield handler
    library.removeHandler(handler)
