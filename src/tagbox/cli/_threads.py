"""The ``--threads`` option shared by the commands that run torch."""

from __future__ import annotations

import argparse


def add_argument(parser: argparse.ArgumentParser, per: str = "process") -> None:
    parser.add_argument(
        "--threads", type=int, metavar="N",
        help=f"torch CPU threads per {per} (default: OMP_NUM_THREADS, else the cores not already busy"
        + (", shared among the workers)" if per == "worker" else ")"),
    )
