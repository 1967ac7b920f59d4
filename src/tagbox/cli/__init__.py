"""Command-line interface: a thin layer over the library.

Each sub-command lives in its own module of this package exposing ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable ``(args) -> int``. Modules whose name
starts with an underscore are shared helpers, not commands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from typing import Sequence

from tagbox.errors import TagboxError


def command_modules() -> list[str]:
    """Names of the sub-command modules, discovered so a new command needs no registration."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line as one line, like every other tagbox error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tagbox",
        description="Steer pretrained music models with pretrained music taggers.",
    )
    parser.add_argument("--verbose", action="store_true", help="show tracebacks and debug logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_modules():
        module = importlib.import_module(f"tagbox.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors a user can cause are one line and a non-zero exit code.

    An interrupt is one line and exit code 130 at any point, including while the command
    modules import torch (seconds on a cold start), which is why the parser is built in here.
    """
    verbose = "--verbose" in (sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            format="%(levelname)s: %(message)s" if args.verbose else "%(message)s",
        )
        return int(args.func(args) or 0)
    except (TagboxError, OSError) as error:  # OSError: the disk or the file system refused
        if verbose:
            raise
        print(f"tagbox: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tagbox: interrupted", file=sys.stderr)
        return 130
