"""Run the ``archit`` command in this process and record every file it opens for writing.

Used by the two-process test: each process writes the list to ``writes-<RANK>.txt`` in the directory named by
``ARCHIT_WRITE_LOG``, so the test can check that only rank 0 wrote the run's outputs. Files renamed into place
(outputs are written under a temporary name first) count as written under their final name too.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any

from archit.simple.cli import main


def run() -> int:
    """Run ``archit`` with this process's arguments, recording written paths; returns its exit code."""
    real_open, real_replace = builtins.open, os.replace
    written: list[str] = []

    def recording_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and any(flag in mode for flag in "wax+"):
            written.append(os.path.abspath(os.fspath(file)))
        return real_open(file, mode, *args, **kwargs)

    def recording_replace(source: Any, destination: Any, **kwargs: Any) -> None:
        real_replace(source, destination, **kwargs)
        written.append(os.path.abspath(os.fspath(destination)))

    builtins.open, os.replace = recording_open, recording_replace
    try:
        code = main(sys.argv[1:])
    finally:
        builtins.open, os.replace = real_open, real_replace
        log = os.path.join(os.environ["ARCHIT_WRITE_LOG"], f"writes-{os.environ.get('RANK', '0')}.txt")
        with open(log, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{path}\n" for path in written))
    return code


if __name__ == "__main__":
    sys.exit(run())
