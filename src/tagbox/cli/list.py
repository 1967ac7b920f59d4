"""``tagbox list``: the models tagbox can load (licence, size, where their weights are), or the
sources it knows and which taggers can name each."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tagbox import weights
from tagbox.cli._taggers import default_taggers, pretrained
from tagbox.config import DEFAULT_TAGGERS
from tagbox.errors import TagboxError
from tagbox.sources import SOURCE_NAMES, source_tags
from tagbox.taggers.registry import TAGGERS
from tagbox.vocabularies import VOCABULARIES

HEADER = ("ID", "KIND", "SIZE", "STATUS", "LICENCE")
SOURCES_HEADER = ("SOURCE", "DEFAULT TAGGERS", "VOCABULARIES THAT NAME IT (TAGS)")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list known models and whether their weights are here, or the sources and their taggers",
        description="'tagbox list' (or 'list models'): one line per registered model: id, kind, download size, "
        "where its weights are (bundled, cached, mirror = $TAGBOX_WEIGHTS_MIRROR, or missing) and its licence. "
        "Status reports presence; checksums are verified when a file is used. 'tagbox list sources': one line "
        "per source name: the taggers the default ensemble steers it with, and the tagger vocabularies that "
        "have tags for it (a source none has cannot be separated).",
    )
    parser.add_argument("what", nargs="?", choices=("models", "sources"), default="models",
                        help="what to list (default: models)")
    parser.add_argument("--kind", choices=sorted({m.kind for m in weights.registry().values()}),
                        help="only models of this kind")
    parser.set_defaults(func=run)


def human_size(size: int | None) -> str:
    if size is None:
        return "unknown"
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell but the last, the only long one, which goes unpadded."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])


def source_row(source: str) -> tuple[str, str, str]:
    """A source, the taggers the default steers it with ("added": beside the default ones, for it), its tags."""
    steering = default_taggers(source)
    added = " (added)" if steering and not set(steering) <= set(DEFAULT_TAGGERS) else ""
    named = [f"{vocabulary} ({', '.join(tags)})" for vocabulary in VOCABULARIES if (tags := source_tags(source, vocabulary))]
    return source, ", ".join(steering) + added or "none", "; ".join(named) or "none"


def list_sources() -> None:
    print_table([SOURCES_HEADER, *map(source_row, SOURCE_NAMES)])
    by_vocabulary = "; ".join(f"{vocabulary}: {', '.join(t for t in pretrained() if TAGGERS[t].vocabulary == vocabulary)}"
                              for vocabulary in VOCABULARIES)
    print(f"\nTaggers by vocabulary: {by_vocabulary}.\nThe default steers with {' and '.join(DEFAULT_TAGGERS)}, "
          "adding the pair of another vocabulary for a source they cannot name ('added'); --tagger ID chooses "
          "others, which can separate the sources their vocabulary names. A vocabulary's raw tags are accepted as "
          "sources too.")


def run(args: argparse.Namespace) -> int:
    if args.what == "sources":
        if args.kind:
            raise TagboxError("--kind chooses among models; 'tagbox list sources' takes no --kind")
        list_sources()
        return 0
    models = [m for m in weights.registry().values() if args.kind in (None, m.kind)]
    print_table([HEADER] + [(m.id, m.kind, human_size(m.size), weights.status(m.id), m.license) for m in models])
    return 0
