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

What ``import archit.modeling`` adds to ``transformers_models`` is measured inside each process (CPU time of
``import archit.modeling`` once transformers' modeling core is loaded), not as a difference of the two medians:
importing the core takes seconds and varies by more than the goal from process to process.

The processes cache bytecode, as an installed package does (pip compiles it at install time): with
``PYTHONDONTWRITEBYTECODE=1`` and an editable install, every process would compile archit's sources again (about
0.1 s). A first round, not counted, writes the caches.

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
MODELING_OVER_CORE = [
    sys.executable,
    "-c",
    "import time; from transformers import PreTrainedModel, AutoConfig; start = time.process_time(); "
    "import archit.modeling; print(time.process_time() - start)",
]
"""Prints the CPU seconds of ``import archit.modeling`` after transformers' modeling core."""
MODELING_GOAL_S = 0.3
ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONWARNINGS": "ignore",
}
"""The processes' environment: bytecode cached (see the module docstring), warnings quiet."""
HELP_GOAL_S = 1.0


def run_once(command: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one run of ``command`` in a fresh process, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, check=True, capture_output=True, text=True, env=ENVIRONMENT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


def measure(rounds: int) -> tuple[dict[str, dict[str, float]], float]:
    """Median wall and CPU seconds of each command over ``rounds`` interleaved rounds, and the median CPU
    seconds ``import archit.modeling`` adds to transformers' modeling core."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    over_core = []
    run_once(MODELING_OVER_CORE)  # writes the bytecode caches; not counted
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            wall, cpu, _ = run_once(command)
            samples[name].append((wall, cpu))
        over_core.append(float(run_once(MODELING_OVER_CORE)[2]))
    medians = {
        name: {
            "wall": statistics.median(wall for wall, _ in runs),
            "cpu": statistics.median(cpu for _, cpu in runs),
        }
        for name, runs in samples.items()
    }
    return medians, statistics.median(over_core)


def report(medians: dict[str, dict[str, float]], modeling_over_core: float) -> dict[str, float | bool]:
    """The JSON line: each command's median seconds, the overheads, and whether the goals are met."""
    line: dict[str, float | bool] = {}
    for name, values in medians.items():
        line[f"{name}_wall_s"] = round(values["wall"], 3)
        line[f"{name}_cpu_s"] = round(values["cpu"], 3)
    line["archit_modeling_over_transformers_models_cpu_s"] = round(modeling_over_core, 3)
    line["archit_over_python_cpu_s"] = round(medians["archit"]["cpu"] - medians["python"]["cpu"], 3)
    line["modeling_goal_met"] = modeling_over_core <= MODELING_GOAL_S
    line["help_goal_met"] = medians["archit_help"]["wall"] < HELP_GOAL_S
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh processes per command; the median is kept")
    parser.add_argument("--quick", action="store_true", help="one round (a smoke test, not a measurement)")
    args = parser.parse_args(argv)
    print(json.dumps(report(*measure(1 if args.quick else args.rounds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
