"""The ``archit`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from archit.errors import ArchitError

__all__ = ["main"]


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


def _families(args: argparse.Namespace) -> None:
    print(families_table(args.filter))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``archit`` command, one sub-command per job."""
    parser = argparse.ArgumentParser(prog="archit", description="Task heads on any language-model backbone.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    families = commands.add_parser("families", help="list the backbone families archit knows")
    families.add_argument("filter", nargs="?", default="*", help="fnmatch pattern on family names, e.g. '*bert*'")
    families.set_defaults(run=_families)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``archit`` command; returns the exit code (1 with a one-line error on bad input)."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except ArchitError as error:
        print(f"archit {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
