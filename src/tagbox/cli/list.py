"""``tagbox list``: the models tagbox can load, their licence, size and where their weights are."""

from __future__ import annotations

import argparse

from tagbox import weights

HEADER = ("ID", "KIND", "SIZE", "STATUS", "LICENCE")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list known models and whether their weights are here",
        description="One line per registered model: id, kind, download size, where its weights are "
        "(bundled, cached, mirror = $TAGBOX_WEIGHTS_MIRROR, or missing) and its licence. "
        "Status reports presence; checksums are verified when a file is used.",
    )
    parser.add_argument("--kind", choices=sorted({m.kind for m in weights.registry().values()}), help="only this kind")
    parser.set_defaults(func=run)


def human_size(size: int | None) -> str:
    if size is None:
        return "unknown"
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def run(args: argparse.Namespace) -> int:
    models = [m for m in weights.registry().values() if args.kind in (None, m.kind)]
    rows = [HEADER] + [(m.id, m.kind, human_size(m.size), weights.status(m.id), m.license) for m in models]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER) - 1)]
    for row in rows:  # the licence goes last and unpadded: it is the only long column
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0
