"""The ``archit`` command: ``train``, ``evaluate``, ``predict``, ``families``, ``tasks``, ``demo`` and ``env``.

Every option of every sub-command can also come from ``--config FILE.yaml`` (keys spelled like the
options, with underscores); an option given on the command line wins over the file. ``train``'s options are
the fields of :class:`~archit.simple.config.RunConfiguration`, so YAML files written by a run
(``config.yaml``) are valid ``--config`` files. Bad input ends with one line on stderr and exit code 1 (2 for
a malformed command line).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from archit.errors import ArchitError, CommandError

__all__ = ["build_parser", "families_table", "main", "tasks_table"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``archit train: error: ... (see --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip() for line in lines
    )


def families_table(pattern: str = "*") -> str:
    """The family table ``archit families`` prints: member, model types, tokenizer, wrapper, status."""
    from archit.modeling.wrappers import get_wrapper_class
    from archit.resolution import ModelArchitectures

    rows = [
        (
            family.name,
            ", ".join(family.model_types) or "(any model returning hidden states)",
            family.tokenizer_class or "(the checkpoint's own)",
            get_wrapper_class(family).__name__,
            family.status,
        )
        for family in map(ModelArchitectures.get, ModelArchitectures.list(pattern))
    ]
    return _format_table(("family", "model types", "tokenizer", "wrapper", "status"), rows)


def tasks_table() -> str:
    """The task table ``archit tasks`` prints: task, input files, metrics, predictions file."""
    from archit.simple.config import known_tasks
    from archit.simple.data import registered_tasks

    readers = registered_tasks()
    rows = []
    for task in sorted({*known_tasks(), *readers}):
        reader = readers.get(task)
        if reader is None:
            rows.append((task, "(no data reader: use it from Python)", "", ""))
        else:
            rows.append((task, reader.formats, reader.metrics.get(task, ""), reader.predictions))
    return _format_table(("task", "data files", "metrics", "predictions"), rows)


# --- options ------------------------------------------------------------------------------------------------
def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE.yaml", help="read options from a YAML file (command-line options win)"
    )


def _add_field_options(parser: argparse.ArgumentParser, options_class: type) -> None:
    """One ``--option`` per field of an attrs option class (:class:`RunConfiguration`, :class:`DemoOptions`),
    its help the field's ``metadata["help"]``."""
    import attrs

    for field in attrs.fields(options_class):
        flag = "--" + field.name.replace("_", "-")
        default = "" if field.default is attrs.NOTHING else f" (default: {_shown(field.default)})"
        text = field.metadata.get("help", "") + default
        if field.name in _KEY_VALUE_OPTIONS:
            parser.add_argument(
                _KEY_VALUE_OPTIONS[field.name],
                dest=field.name,
                action="append",
                metavar="KEY=VALUE",
                help=text,
                default=argparse.SUPPRESS,
            )
        elif field.type in (bool, "bool"):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=text, default=argparse.SUPPRESS)
        else:
            parser.add_argument(flag, metavar=field.name.upper(), help=text, default=argparse.SUPPRESS)


def _shown(default: Any) -> str:
    import attrs

    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # a class at run time; attrs' stubs declare a function
        return "{}"
    return repr(default) if isinstance(default, str) else str(default)


_KEY_VALUE_OPTIONS = {"head_options": "--head-option", "peft_options": "--peft-option"}
"""The mapping fields of a run and their option, given once per KEY=VALUE pair."""


def _parse_key_values(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """``["num_labels=3", "dropout=0.1"]`` as ``{"num_labels": 3, "dropout": 0.1}`` (values read as YAML)."""
    import yaml

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{option} takes KEY=VALUE, got {pair!r}.")
        options[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return options


def _given(args: argparse.Namespace, exclude: Sequence[str] = ("command", "run", "config")) -> dict[str, Any]:
    """The options given on the command line (unset options are absent, their defaults being suppressed)."""
    return {key: value for key, value in vars(args).items() if key not in exclude}


def _merged(args: argparse.Namespace, allowed: Sequence[str] | None = None) -> dict[str, Any]:
    """The options of ``--config`` updated with those given on the command line.

    Raises:
        RunConfigurationError: the YAML file cannot be read; CommandError: it holds a key no option has.
    """
    from archit.simple.config import RunConfiguration

    values: dict[str, Any] = RunConfiguration.read_yaml(args.config) if args.config else {}
    if allowed is not None:
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise CommandError(f"{args.config}: unknown option {unknown[0]!r}; valid: {', '.join(allowed)}.")
    given = _given(args)
    for name, option in _KEY_VALUE_OPTIONS.items():
        if name in given:
            given[name] = {**(values.get(name) or {}), **_parse_key_values(given[name], option)}
    return {**values, **given}


def _require(values: dict[str, Any], command: str, *names: str) -> None:
    missing = [name for name in names if values.get(name) in (None, "")]
    if missing:
        name = missing[0]
        wanted = (
            "the MODEL argument (a run's output directory or hub id)"
            if name == "model"
            else "--" + name.replace("_", "-")
        )
        raise CommandError(f"{command} needs {wanted} (or '{name}:' in the --config file).")


# --- commands ---------------------------------------------------------------------------------------------
def _train(args: argparse.Namespace) -> None:
    from archit.simple.config import RunConfiguration
    from archit.simple.run import run_simple

    values = _merged(args)
    if "tasks" in values:  # a multi-task run configuration
        _train_tasks(values, args.config)
        return
    config = RunConfiguration.from_dict(values, origin=args.config or "archit train")
    result = run_simple(config)
    if not _is_main_process():
        return
    for split in ("validation", "test"):
        if split in result.metrics:
            print(f"{split}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics[split].items()))
    print(f"outputs in {result.output_dir} (model in {result.model_dir})")


def _train_tasks(values: dict[str, Any], origin: str) -> None:
    from archit.simple.multitask import MultiTaskRunConfiguration, run_multitask

    result = run_multitask(MultiTaskRunConfiguration.from_dict(values, origin=origin))
    if not _is_main_process():
        return
    for name, splits in result.metrics["tasks"].items():
        for split, scores in splits.items():
            print(f"{name} {split}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    print(f"outputs in {result.output_dir} (model in {result.model_dir})")


def _is_main_process() -> bool:
    """Whether this is the process that reports (rank 0 under ``torchrun`` or ``accelerate launch``)."""
    import os

    return int(os.environ.get("RANK", "0")) == 0


_INFERENCE_OPTIONS = ("model", "data", "output", "batch_size", "revision", "encoding", "delimiter", "task")


def _inference_values(args: argparse.Namespace, command: str) -> dict[str, Any]:
    values = _merged(args, allowed=_INFERENCE_OPTIONS)
    _require(values, command, "model", "data")
    if values.get("batch_size") is not None:
        values["batch_size"] = _positive_int(values["batch_size"], "--batch-size")
    return values


def _file_options(values: dict[str, Any]) -> dict[str, Any]:
    """The data file's ``encoding`` and ``delimiter``, where given."""
    return {key: values[key] for key in ("encoding", "delimiter") if values.get(key) is not None}


def _positive_int(value: Any, option: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CommandError(f"{option} takes a positive whole number, got {value!r}.") from None
    if number < 1:
        raise CommandError(f"{option} takes a positive whole number, got {value!r}.")
    return number


def _evaluate(args: argparse.Namespace) -> None:
    from archit.simple.inference import evaluate

    values = _inference_values(args, "archit evaluate")
    if values.get("task"):
        from archit.simple.multitask import evaluate_task

        metrics = evaluate_task(
            values["model"], values["task"], values["data"], values.get("batch_size"), **_file_options(values)
        )
    else:
        metrics = evaluate(
            values["model"],
            values["data"],
            batch_size=values.get("batch_size"),
            revision=values.get("revision"),
            **_file_options(values),
        )
    if not _is_main_process():
        return
    text = json.dumps(metrics, indent=2)
    if values.get("output"):
        from archit.simple.outputs import replacing

        with replacing(values["output"]) as temporary, open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    print(text)


def _predict(args: argparse.Namespace) -> None:
    from archit.simple.inference import predict

    values = _inference_values(args, "archit predict")
    if values.get("task"):
        from archit.simple.multitask import predict_task

        path, metrics = predict_task(
            values["model"],
            values["task"],
            values["data"],
            values.get("output"),
            values.get("batch_size"),
            **_file_options(values),
        )
    else:
        path, metrics = predict(
            values["model"],
            values["data"],
            values.get("output"),
            values.get("batch_size"),
            values.get("revision"),
            **_file_options(values),
        )
    if not _is_main_process():
        return
    print(f"predictions written to {path}")
    if metrics:
        print("scores against the file's labels: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))


def _demo(args: argparse.Namespace) -> None:
    import attrs

    from archit.simple.demo import DemoOptions, run_demo

    names = [field.name for field in attrs.fields(DemoOptions)]
    run_demo(DemoOptions.from_dict(_merged(args, allowed=names), origin=args.config or "archit demo"))


def _families(args: argparse.Namespace) -> None:
    print(families_table(_merged(args, allowed=("filter",)).get("filter", "*")))


def _tasks(args: argparse.Namespace) -> None:
    _merged(args, allowed=())
    print(tasks_table())


def _env(args: argparse.Namespace) -> None:
    from archit.simple.environment import environment_report

    _merged(args, allowed=())
    print(environment_report())


def _add_inference_options(parser: argparse.ArgumentParser, output_help: str) -> None:
    parser.add_argument(
        "model",
        nargs="?",
        default=argparse.SUPPRESS,
        help="a run's output directory or its model/, or the Hugging Face Hub id of a model saved by a run",
    )
    parser.add_argument("--data", default=argparse.SUPPRESS, help="data file in the task's input format")
    parser.add_argument(
        "--task", default=argparse.SUPPRESS, help="the task to use, for a model trained on several (multi-task)"
    )
    parser.add_argument("--output", default=argparse.SUPPRESS, help=output_help)
    parser.add_argument("--batch-size", default=argparse.SUPPRESS, help="examples per forward pass")
    parser.add_argument(
        "--revision", default=argparse.SUPPRESS, help="branch, tag or commit of a hub MODEL (default: main)"
    )
    parser.add_argument(
        "--encoding",
        default=argparse.SUPPRESS,
        help="text encoding of the data file (default: utf-8, with or without a byte-order mark)",
    )
    parser.add_argument(
        "--delimiter",
        default=argparse.SUPPRESS,
        help="field delimiter of a CSV/TSV data file, e.g. ';' or tab (default: by extension)",
    )
    _add_config_option(parser)


def _add_demo_options(parser: argparse.ArgumentParser) -> None:
    from archit.simple.demo import DemoOptions

    _add_field_options(parser, DemoOptions)
    _add_config_option(parser)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``archit`` command, one sub-command per job."""
    parser = _Parser(prog="archit", description="Task heads on any language-model backbone.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    jobs: list[tuple[str, str, Callable[[argparse.Namespace], None], Callable[[argparse.ArgumentParser], None]]] = [
        ("train", "fine-tune a model on a task and write model, metrics, predictions and plot", _train, _train_opts),
        ("evaluate", "score a trained model on a labelled data file", _evaluate, _evaluate_opts),
        ("predict", "write a trained model's predictions for a data file", _predict, _predict_opts),
        ("families", "list the backbone families archit knows", _families, _families_opts),
        ("tasks", "list the tasks, their data files, metrics and predictions", _tasks, _add_config_option),
        ("demo", "fine-tune MiniLM as a Turkish dependency parser, a few minutes on CPU", _demo, _add_demo_options),
        ("env", "print versions, platform and devices, to paste into a bug report", _env, _add_config_option),
    ]
    for name, text, run, add_options in jobs:
        command = commands.add_parser(name, help=text, description=text)
        add_options(command)
        command.set_defaults(run=run)
    return parser


def _train_opts(parser: argparse.ArgumentParser) -> None:
    from archit.simple.config import RunConfiguration

    _add_config_option(parser)
    _add_field_options(parser, RunConfiguration)


def _evaluate_opts(parser: argparse.ArgumentParser) -> None:
    _add_inference_options(parser, "also write the metrics to this JSON file")


def _predict_opts(parser: argparse.ArgumentParser) -> None:
    _add_inference_options(parser, "predictions file (default: DATA.predictions.jsonl or .conllu)")


def _families_opts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "filter", nargs="?", default=argparse.SUPPRESS, help="fnmatch pattern on family names, e.g. '*bert*'"
    )
    _add_config_option(parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``archit`` command; returns the exit code (1 with a one-line error on bad input)."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ArchitError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"archit {args.command}: error: {message}", file=sys.stderr)
        return 1
    finally:
        _end_distributed_run()
    return 0


def _end_distributed_run() -> None:
    """Tear down the process group a launcher (torchrun, accelerate) set up: a process that exits with gloo's
    threads still running is aborted ("terminate called without an active exception")."""
    if "torch" not in sys.modules:
        return
    import torch.distributed

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
