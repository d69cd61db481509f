"""Run ``archit train`` in this process and kill it with SIGKILL at a chosen point, as a pre-empted job dies.

    python interrupted_run.py --kill-after-step N -- <archit train options>
    python interrupted_run.py --kill-before-replacing NAME -- <archit train options>

``--kill-after-step N`` dies when training step N ends (before that step's checkpoint, if any, is written);
``--kill-before-replacing NAME`` dies when a complete output is about to be renamed onto ``NAME`` (a file or
directory name such as ``metrics.json`` or ``model``). Without either, the run ends normally.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from transformers import TrainerCallback

import archit.simple.run
from archit.simple.cli import main


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _KillAfterStep(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == self.step:
            _die()


def _kill_after_step(step: int) -> None:
    trainer_class = archit.simple.run.ArchitTrainer

    class KillingTrainer(trainer_class):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.add_callback(_KillAfterStep(step))

    archit.simple.run.ArchitTrainer = KillingTrainer


def _kill_before_replacing(name: str) -> None:
    replace = os.replace

    def replace_or_die(source: Any, destination: Any, **kwargs: Any) -> None:
        if os.path.basename(os.fspath(destination)) == name:
            _die()
        replace(source, destination, **kwargs)

    os.replace = replace_or_die


def run(argv: list[str]) -> int:
    """Arm the kill that ``argv`` asks for, then run ``archit train`` with the options after ``--``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-after-step", type=int)
    parser.add_argument("--kill-before-replacing")
    separator = argv.index("--")
    options = parser.parse_args(argv[:separator])
    if options.kill_after_step is not None:
        _kill_after_step(options.kill_after_step)
    if options.kill_before_replacing is not None:
        _kill_before_replacing(options.kill_before_replacing)
    return main(["train", *argv[separator + 1 :]])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
