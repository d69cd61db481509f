"""Ratios that hold on a noisy machine: two steps timed in interleaved pairs, the median ratio and its spread.

Every ratio benchmark of archit times its two contenders alternately (ABBA order: A B, then B A, so that a
machine slowly getting busier or quieter hits both alike), takes one ratio per pair, and reports the median
ratio with two spreads: the interquartile range (IQR) of the per-pair ratios, how much one pair varies on this
machine, and the 95% confidence interval of the median, how far the reported ratio can be trusted. The IQR does
not shrink with more pairs; the interval does (as one over the square root of the pairs), so pairs are added
until the interval's half-width is below the spread asked for (or the pair budget is spent).

Memory is measured per process: :func:`peak_rss_of` runs a command in a child and reads that child's peak
resident memory.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

__all__ = ["Ratio", "median_interval", "paired_ratio", "peak_rss_of", "timed"]


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
    """The median of per-pair time ratios ``first / second``, their IQR, the median's 95% confidence interval
    (``None`` for fewer than 6 pairs, too few for one), and how many pairs were timed."""

    median: float
    iqr: float
    interval: tuple[float, float] | None
    pairs: int

    def report(self, name: str) -> dict[str, Any]:
        """``{name: median, name_iqr: iqr, name_ci: [low, high] or None, name_pairs: pairs}``, rounded for a JSON
        line."""
        interval = None if self.interval is None else [round(bound, 3) for bound in self.interval]
        return {
            name: round(self.median, 3),
            f"{name}_iqr": round(self.iqr, 3),
            f"{name}_ci": interval,
            f"{name}_pairs": self.pairs,
        }

    @classmethod
    def of(cls, ratios: list[float]) -> Ratio:
        """The summary of per-pair ratios."""
        return cls(statistics.median(ratios), interquartile_range(ratios), median_interval(ratios), len(ratios))


def interquartile_range(values: list[float]) -> float:
    """Third quartile minus first quartile (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    first, _, third = statistics.quantiles(values, n=4, method="inclusive")
    return third - first


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """The distribution-free confidence interval of the median: the order statistics ``k`` and ``n + 1 - k``
    (1-based) for the largest ``k`` whose binomial tail ``P(Binomial(n, 1/2) < k)`` is at most half of
    ``1 - confidence``; ``None`` when even the smallest and largest value do not reach that confidence (fewer
    than 6 values at 95%)."""
    n, tail = len(values), (1 - confidence) / 2
    below, k = 0.0, 0
    while k < n and below + math.comb(n, k) / 2**n <= tail:
        below += math.comb(n, k) / 2**n
        k += 1
    if k == 0:
        return None
    ordered = sorted(values)
    return ordered[k - 1], ordered[n - k]


def paired_ratio(
    first: Callable[[], object],
    second: Callable[[], object],
    *,
    spread: float = 0.02,
    min_pairs: int = 5,
    max_pairs: int = 40,
    warmup: int = 1,
) -> Ratio:
    """Time ``first`` and ``second`` in alternating pairs until the median ratio's 95% confidence interval reaches
    less than ``spread`` on either side of it.

    Args:
        first, second: the two steps; each call is one timed repetition.
        spread: stop once the median's confidence interval lies within this of it, on both sides.
        min_pairs: pairs timed at least, whatever the spread.
        max_pairs: pairs timed at most; the reported interval then says how far the median can be trusted.
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
        if len(ratios) >= min_pairs and _within(Ratio.of(ratios), spread):
            break
    return Ratio.of(ratios)


def _within(ratio: Ratio, spread: float) -> bool:
    """Whether ``ratio``'s confidence interval lies within ``spread`` of its median on both sides."""
    return (
        ratio.interval is not None and max(ratio.median - ratio.interval[0], ratio.interval[1] - ratio.median) < spread
    )
