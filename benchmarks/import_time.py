"""What importing archit costs, in fresh processes, against importing transformers; one JSON line last.

Each round starts one fresh interpreter per command, in turn (so that machine load hits every command alike),
and records its wall time and its CPU time (user + system, which load on a shared machine disturbs far less).
The median over the rounds is reported for:

- ``python``: an interpreter doing nothing (the floor of every other figure);
- ``transformers``: ``import transformers`` (lazy: it loads neither torch nor any model code);
- ``transformers_models``: ``from transformers import PreTrainedModel, AutoConfig``, what any code that builds
  a model must load (torch and transformers' modeling core);
- ``archit``: ``import archit`` (the command line starts from here: no torch, no transformers);
- ``archit_modeling``: ``import archit.modeling`` (every family, head and task registered);
- ``archit_help``: ``archit --help``.

Goals: ``import archit.modeling`` at most 0.3 s of CPU over ``transformers_models``, and ``archit --help``
under 1 s of wall time.

    python benchmarks/import_time.py [--rounds 7] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python": [sys.executable, "-c", "pass"],
    "transformers": [sys.executable, "-c", "import transformers"],
    "transformers_models": [sys.executable, "-c", "from transformers import PreTrainedModel, AutoConfig"],
    "archit": [sys.executable, "-c", "import archit"],
    "archit_modeling": [sys.executable, "-c", "import archit.modeling"],
    "archit_help": [sys.executable, "-m", "archit.simple.cli", "--help"],
}
MODELING_GOAL_S = 0.3
HELP_GOAL_S = 1.0


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(rounds: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of each command over ``rounds`` interleaved rounds."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            samples[name].append(run_once(command))
    return {
        name: {
            "wall": statistics.median(wall for wall, _ in runs),
            "cpu": statistics.median(cpu for _, cpu in runs),
        }
        for name, runs in samples.items()
    }


def report(medians: dict[str, dict[str, float]]) -> dict[str, float | bool]:
    """The JSON line: each command's median seconds, the overheads, and whether the goals are met."""
    line: dict[str, float | bool] = {}
    for name, values in medians.items():
        line[f"{name}_wall_s"] = round(values["wall"], 3)
        line[f"{name}_cpu_s"] = round(values["cpu"], 3)
    modeling_over = medians["archit_modeling"]["cpu"] - medians["transformers_models"]["cpu"]
    line["archit_modeling_over_transformers_models_cpu_s"] = round(modeling_over, 3)
    line["archit_over_python_cpu_s"] = round(medians["archit"]["cpu"] - medians["python"]["cpu"], 3)
    line["modeling_goal_met"] = modeling_over <= MODELING_GOAL_S
    line["help_goal_met"] = medians["archit_help"]["wall"] < HELP_GOAL_S
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh processes per command; the median is kept")
    parser.add_argument("--quick", action="store_true", help="one round (a smoke test, not a measurement)")
    args = parser.parse_args(argv)
    print(json.dumps(report(measure(1 if args.quick else args.rounds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
