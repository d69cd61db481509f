"""Run checks in worker processes, each check with its own time limit, so one hanging or huge model cannot
stall a benchmark.

A check is a function ``check(job, progress) -> dict`` named as ``"module:function"``; a job and a result are
JSON objects. Each worker is a child interpreter that imports the function once and runs the jobs it is fed,
one at a time; ``progress(dict)`` sends what the supervisor should know if the job then dies or overruns its
time limit (how far it got). A worker that dies or overruns is killed and replaced, and the job gets the result
``interrupted(job, progress, status, reason)`` makes of it::

    results = run_jobs(jobs, "benchmarks.coverage:check_job", interrupted, workers=2, timeout=30)

:func:`run_results` does the same with dataclass results, and :func:`pool_parser` and :func:`print_report` are
the command line the benchmarks built on it share.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import selectors
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

__all__ = ["Interrupted", "pool_parser", "print_report", "run_jobs", "run_results", "short"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

Check = Callable[[dict[str, Any], Callable[[dict[str, Any]], None]], dict[str, Any]]
Interrupted = Callable[[dict[str, Any], dict[str, Any], str, str], dict[str, Any]]
"""``(job, progress so far, status, reason) -> result`` for a job whose check raised past ``Exception`` or whose
worker died (``"died"``), or that overran its time limit (``"timeout"``)."""
Result = TypeVar("Result")


def short(error: BaseException) -> str:
    """``"Type: message"`` on one line, cut to 160 characters."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= 160 else text[:157] + "..."


def _import_check(name: str) -> Check:
    module, function = name.split(":")
    return getattr(importlib.import_module(module), function)


class _Worker:
    """A child interpreter running :func:`_worker_loop`, one job at a time."""

    def __init__(self, check: str, max_memory: float) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "benchmarks.pool", check, f"{max_memory}"]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
        )
        self.buffer = b""
        self.index: int | None = None
        self.progress: dict[str, Any] = {}
        self.started = 0.0
        self.ready = False

    def send(self, index: int, job: dict[str, Any]) -> None:
        self.index, self.progress, self.started = index, {}, time.perf_counter()
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()

    def receive(self) -> list[dict[str, Any]] | None:
        """The complete JSON lines that have arrived; ``None`` once the worker has exited."""
        assert self.process.stdout is not None
        data = os.read(self.process.stdout.fileno(), 1 << 16)
        if not data:
            return None
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def run_jobs(
    jobs: Sequence[dict[str, Any]],
    check: str,
    interrupted: Interrupted,
    workers: int = 2,
    timeout: float = 30.0,
    max_memory: float = 3e9,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``check`` on every job in ``workers`` processes, each job with its own time limit.

    Args:
        jobs: the JSON objects to pass to ``check``, in the order they are fed to the workers.
        check: ``"module:function"`` of the check, importable from the repository's root.
        interrupted: makes the result of a job whose worker died or overran ``timeout``.
        workers: worker processes (``0``: run in this process, without time limit; for tests).
        timeout: seconds one job may take, once its worker is ready.
        max_memory: data-segment limit of each worker, in bytes (``RLIMIT_DATA``).
        on_result: called with each result as it arrives.

    Returns:
        One result per job, in the order of ``jobs``.

    Raises:
        RuntimeError: a worker exited before it was ready (the check cannot be imported).
    """
    results: dict[int, dict[str, Any]] = {}

    def finish(index: int, result: dict[str, Any]) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)

    if workers <= 0:
        function = _import_check(check)
        for index, job in enumerate(jobs):
            finish(index, function(job, lambda _: None))
    else:
        _supervise(list(jobs), check, interrupted, workers, timeout, max_memory, finish)
    return [results[index] for index in range(len(jobs))]


def run_results(
    result_class: type[Result],
    jobs: Sequence[dict[str, Any]],
    check: str,
    interrupted: Interrupted,
    options: dict[str, Any],
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """:func:`run_jobs` whose results are the fields of the dataclass ``result_class``: each result rebuilt as one.

    Args:
        result_class: the dataclass of a result.
        jobs, check, interrupted: as :func:`run_jobs` takes them.
        options: ``workers``, ``timeout`` and ``max_memory``, as :func:`run_jobs` takes them.
        on_result: called with each result as it arrives.
    """

    def show(result: dict[str, Any]) -> None:
        if on_result is not None:
            on_result(result_class(**result))

    return [result_class(**result) for result in run_jobs(jobs, check, interrupted, **options, on_result=show)]


def pool_parser(description: str | None, item: str, timeout: float) -> argparse.ArgumentParser:
    """The command line of a benchmark over model types run in the pool: ``--types``, ``--jobs``, ``--timeout``
    (the seconds one ``item`` may take, ``timeout`` by default), ``--max-bytes``, ``--max-memory``,
    ``--json-only``; the benchmark adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--types", nargs="+", help="model types to check (default: all text LM types)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes; 0 runs in this process")
    parser.add_argument("--timeout", type=float, default=timeout, help=f"seconds one {item} may take")
    parser.add_argument("--max-bytes", type=float, default=1e9, help="skip tiny models with more parameter bytes")
    parser.add_argument("--max-memory", type=float, default=3e9, help="memory limit of each worker, in bytes")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    return parser


def print_report(table: Callable[[], str], summary: dict[str, Any], args: argparse.Namespace, start: float) -> None:
    """Print the ``table`` (unless ``--json-only``) with the transformers version and time taken since ``start``
    (a ``time.perf_counter()``), then, last, the JSON ``summary``."""
    import transformers

    if not args.json_only:
        print(table())
        print(f"transformers {transformers.__version__}, {time.perf_counter() - start:.0f} s with {args.jobs} jobs")
    print(json.dumps(summary))


def _supervise(
    jobs: list[dict[str, Any]],
    check: str,
    interrupted: Interrupted,
    workers: int,
    timeout: float,
    max_memory: float,
    finish: Callable[[int, dict[str, Any]], None],
) -> None:
    """Feed ``jobs`` to workers, replacing any worker that dies or overruns ``timeout`` on a job."""
    pending = list(reversed(list(enumerate(jobs))))
    selector = selectors.DefaultSelector()
    running: list[_Worker] = []

    def start_worker() -> None:
        worker = _Worker(check, max_memory)
        running.append(worker)
        selector.register(worker.process.stdout, selectors.EVENT_READ, worker)

    def retire(worker: _Worker, status: str | None = None, reason: str = "") -> None:
        selector.unregister(worker.process.stdout)
        running.remove(worker)
        worker.kill()
        if worker.index is not None and status is not None:
            finish(worker.index, interrupted(jobs[worker.index], worker.progress, status, reason))
            if pending:
                start_worker()

    def handle(worker: _Worker, message: dict[str, Any]) -> None:
        if "progress" in message:
            worker.progress.update(message["progress"])
            return
        if "result" in message:
            finish(worker.index, message["result"])
            worker.index = None
        elif "crashed" in message:
            finish(worker.index, interrupted(jobs[worker.index], worker.progress, "died", message["crashed"]))
            worker.index = None
        worker.ready = True
        if pending:
            worker.send(*pending.pop())
        else:
            retire(worker)

    try:
        for _ in range(min(workers, len(pending))):
            start_worker()
        while running:
            for key, _ in selector.select(timeout=1.0):
                worker: _Worker = key.data
                messages = worker.receive()
                if messages is None and not worker.ready:
                    raise RuntimeError(
                        f"A benchmark worker exited before it was ready (exit code {worker.process.wait()}); run "
                        "the benchmark with --jobs 0 to see the error in this process."
                    )
                if messages is None:
                    retire(worker, "died", f"worker died (exit code {worker.process.wait()})")
                for message in messages or ():
                    handle(worker, message)
            now = time.perf_counter()
            for worker in list(running):
                if worker.index is not None and now - worker.started > timeout:
                    retire(worker, "timeout", f"took more than {timeout:.0f} s")
    finally:
        for worker in running:
            worker.kill()
        selector.close()


def _worker_loop(check: str, max_memory: float, channel: IO[str]) -> None:
    """Read jobs from stdin, one JSON object per line; write one JSON line per event to ``channel``."""
    import resource
    import warnings

    import torch
    from transformers.utils import logging

    if max_memory > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (int(max_memory), int(max_memory)))
    torch.set_num_threads(1)
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    warnings.filterwarnings("ignore")
    function = _import_check(check)

    def send(message: dict[str, Any]) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    send({"ready": True})
    for line in sys.stdin:
        job = json.loads(line)
        try:
            result = function(job, lambda progress: send({"progress": progress}))
        except BaseException as error:  # a model calling sys.exit() or the like must not end the loop
            traceback.print_exc()
            send({"crashed": short(error)})
            continue
        send({"result": result})


if __name__ == "__main__":
    # the models' own prints must not corrupt the channel: it is a copy of stdout, and stdout goes to stderr
    _channel = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _worker_loop(sys.argv[1], float(sys.argv[2]), _channel)
