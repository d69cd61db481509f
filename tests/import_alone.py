"""Import each named module alone, each in its own child process, and print which ones failed.

Usage: ``python tests/import_alone.py --preload torch,transformers MODULE [MODULE ...]``

Importing torch and transformers costs seconds, once per interpreter. This process imports the ``--preload``
packages once, checks that no module of the tested packages came with them, then forks one child per module,
a few at a time: each child starts with none of the tested packages imported, so their own import order (where
circular imports live) is that of a fresh interpreter. Prints one JSON object mapping each failed module to
the last line of its error; ``{}`` when all imported. Needs ``os.fork`` (Linux, macOS).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback

MAX_ERROR_CHARS = 4000  # well under a pipe's buffer, so a child never blocks writing before it exits


def import_in_child(module: str) -> tuple[int, int]:
    """Fork a child that imports ``module`` and writes its error, if any, to a pipe.

    Returns:
        The child's process id and the read end of its pipe.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    os.close(read_end)
    os.dup2(2, 1)  # whatever the module prints goes to stderr, keeping stdout for the JSON result
    code = 0
    try:
        importlib.import_module(module)
    except BaseException as error:  # a SystemExit at import is a failure too
        message = traceback.format_exception_only(type(error), error)[-1].strip()
        os.write(write_end, message[:MAX_ERROR_CHARS].encode())
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def import_each(modules: list[str], jobs: int) -> dict[str, str]:
    """Import every module in its own forked child, ``jobs`` at a time.

    Returns:
        The modules that failed, each with the last line of its error.
    """
    failures: dict[str, str] = {}
    running: dict[int, tuple[str, int]] = {}
    pending = list(reversed(modules))
    while pending or running:
        while pending and len(running) < jobs:
            module = pending.pop()
            pid, read_end = import_in_child(module)
            running[pid] = (module, read_end)
        pid, status = os.wait()
        module, read_end = running.pop(pid)
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            failures[module] = message or f"the child exited with status {os.waitstatus_to_exitcode(status)}"
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="+", help="dotted names of the modules to import")
    parser.add_argument("--preload", default="", help="comma-separated packages to import once, before forking")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="children running at once")
    args = parser.parse_args()
    for package in filter(None, args.preload.split(",")):
        importlib.import_module(package)
    tested_roots = {module.split(".")[0] for module in args.modules}
    already = sorted(name for name in sys.modules if name.split(".")[0] in tested_roots)
    if already:
        parser.error(f"preloading {args.preload!r} imported {', '.join(already)}, which the children must import alone")
    print(json.dumps(import_each(args.modules, args.jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
