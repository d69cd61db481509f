"""Ratios that hold on a noisy machine: two steps timed in interleaved pairs, the median ratio and its spread.

Every ratio benchmark of archit times its two contenders alternately (ABBA order: A B, then B A, so that a
machine slowly getting busier or quieter hits both alike), takes one ratio per pair, and reports the median
ratio with the interquartile range (IQR) of the per-pair ratios. It keeps adding pairs until the IQR is below
the spread it was asked for (or the pair budget is spent), so a reported ratio says how far it can be trusted.

Memory is measured per process: :func:`peak_rss_of` runs a command in a child and reads that child's peak
resident memory.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

__all__ = ["Ratio", "paired_ratio", "peak_rss_of", "timed"]


def timed(step: Callable[[], object]) -> float:
    """Wall-clock seconds one call of ``step`` takes."""
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def peak_rss_of(command: Sequence[str], log: IO[str] | None = None, env: dict[str, str] | None = None) -> float:
    """Run ``command`` in a child process; its peak resident memory in MiB (``ru_maxrss`` of the child alone,
    read with ``os.wait4``).

    Raises:
        subprocess.CalledProcessError: the command failed (its output went to ``log``).
    """
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT if log else None, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: the Popen object must not wait again
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, list(command))
    return usage.ru_maxrss / 1024  # kilobytes on Linux


@dataclass(frozen=True)
class Ratio:
    """The median of per-pair time ratios ``first / second``, their IQR, and how many pairs were timed."""

    median: float
    iqr: float
    pairs: int

    def report(self, name: str) -> dict[str, float | int]:
        """``{name: median, name_iqr: iqr, name_pairs: pairs}``, rounded for a JSON line."""
        return {name: round(self.median, 3), f"{name}_iqr": round(self.iqr, 3), f"{name}_pairs": self.pairs}


def interquartile_range(values: list[float]) -> float:
    """Third quartile minus first quartile (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    first, _, third = statistics.quantiles(values, n=4, method="inclusive")
    return third - first


def paired_ratio(
    first: Callable[[], object],
    second: Callable[[], object],
    *,
    spread: float = 0.02,
    min_pairs: int = 5,
    max_pairs: int = 40,
    warmup: int = 1,
) -> Ratio:
    """Time ``first`` and ``second`` in alternating pairs until the per-pair ratios' IQR is below ``spread``.

    Args:
        first, second: the two steps; each call is one timed repetition.
        spread: stop once the IQR of the per-pair ratios ``first / second`` is below this.
        min_pairs: pairs timed at least, whatever the spread.
        max_pairs: pairs timed at most; the reported IQR then says how noisy the machine was.
        warmup: untimed calls of each step before the first pair (caches, lazy initialisation).

    Returns:
        :class:`Ratio` of ``first`` over ``second``.
    """
    for _ in range(warmup):
        first()
        second()
    ratios: list[float] = []
    while len(ratios) < max_pairs:
        if len(ratios) % 2 == 0:
            first_time = timed(first)
            second_time = timed(second)
        else:
            second_time = timed(second)
            first_time = timed(first)
        ratios.append(first_time / second_time)
        if len(ratios) >= min_pairs and interquartile_range(ratios) < spread:
            break
    return Ratio(statistics.median(ratios), interquartile_range(ratios), len(ratios))
