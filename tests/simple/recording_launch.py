"""Run the ``archit`` command in this process and record every file it opens for writing.

Used by the two-process test: each process writes the list to ``writes-<RANK>.txt`` in the directory named by
``ARCHIT_WRITE_LOG``, so the test can check that only rank 0 wrote the run's outputs.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any

from archit.simple.cli import main


def run() -> int:
    """Run ``archit`` with this process's arguments, recording written paths; returns its exit code."""
    real_open = builtins.open
    written: list[str] = []

    def recording_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and any(flag in mode for flag in "wax+"):
            written.append(os.path.abspath(os.fspath(file)))
        return real_open(file, mode, *args, **kwargs)

    builtins.open = recording_open
    try:
        code = main(sys.argv[1:])
    finally:
        builtins.open = real_open
        log = os.path.join(os.environ["ARCHIT_WRITE_LOG"], f"writes-{os.environ.get('RANK', '0')}.txt")
        with open(log, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{path}\n" for path in written))
    return code


if __name__ == "__main__":
    sys.exit(run())
