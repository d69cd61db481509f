"""Native tests run their tiny models on one thread: on a shared machine, torch's thread pool spinning for
cores other processes hold makes a tiny model's step many times slower than doing it on one core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
