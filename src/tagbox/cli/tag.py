"""``tagbox tag``: what the pretrained taggers hear in audio files (top tags per file or segment).

Useful on its own, and to check before separating that a tagger recognises the source at all.
"""

from __future__ import annotations

import argparse
import json
import sys

from tagbox.batch import Job, expand_inputs, run_batch
from tagbox.batch.tasks import TagTask
from tagbox.cli import _threads
from tagbox.cli._taggers import check_taggers, pretrained, warn_untrained
from tagbox.device import resolve_device
from tagbox.errors import TagboxError
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.threads import use_threads

DEFAULT_TAGGER = "mtat-musicnn"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tag",
        help="show the top tags of audio files",
        description="Tag audio files with pretrained taggers: the audio is mixed to mono, resampled to "
        "16 kHz, and the tag probabilities averaged over the taggers' windows (the whole file, or each "
        "segment with --segments); audio shorter than a window is repeated to fill it, as when separating.",
    )
    parser.add_argument("files", nargs="+", metavar="INPUT", help="audio files, folders (searched recursively) or glob patterns")
    parser.add_argument(
        "--tagger", dest="taggers", action="append", metavar="ID",
        help=f"tagger to use, repeat for several side by side (default {DEFAULT_TAGGER}; one of {', '.join(pretrained())})",
    )
    parser.add_argument("--top", type=int, default=5, metavar="N", help="tags to show per tagger (default 5)")
    parser.add_argument("--segments", type=float, metavar="SECONDS", help="tag each SECONDS-long segment separately")
    parser.add_argument("--json", action="store_true", help="print JSON: per file and tagger, tags sorted by probability")
    parser.add_argument("-d", "--device", default="cpu", help="torch device: cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _threads.add_argument(parser)
    parser.set_defaults(func=run)


def format_table(taggers: dict[str, list[dict]]) -> list[str]:
    """Taggers side by side: one column of "tag probability" per tagger, one row per rank."""
    columns = [[tagger_id] + [f"{t['tag']} {t['probability']:.2f}" for t in ranked] for tagger_id, ranked in taggers.items()]
    widths = [max(map(len, column)) for column in columns]
    rows = max(map(len, columns))
    return [
        "  ".join((column[row] if row < len(column) else "").ljust(width) for column, width in zip(columns, widths)).rstrip()
        for row in range(rows)
    ]


def format_file(result: dict, segmented: bool) -> str:
    """A file's tables, headed by what they hold: every number is the probability its column's tagger gives a tag."""
    lines = [f"{result['path']} ({result['duration']:.1f} s): each tagger's most probable tags"]
    for segment in result["segments"]:
        if segmented:
            lines.append(f"  {segment['start']:.1f}-{segment['end']:.1f} s")
        indent = "    " if segmented else "  "
        lines += [indent + line for line in format_table(segment["taggers"])]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    use_threads(args.threads)
    if args.top < 1:
        raise TagboxError(f"--top must be at least 1, got {args.top}")
    if args.segments is not None and not args.segments > 0:
        raise TagboxError(f"--segments must be a positive number of seconds, got {args.segments}")
    tagger_ids = list(dict.fromkeys(args.taggers or [DEFAULT_TAGGER]))
    check_taggers(tagger_ids)  # a typo fails before any weights or audio are loaded
    device = resolve_device(args.device)
    jobs = [Job(item.path) for item in expand_inputs(args.files)]
    warn_untrained(tagger_ids)
    ensemble = TaggerEnsemble.load(tagger_ids, device=device)
    segmented = args.segments is not None
    results = []

    def show(job: Job, result: dict, write) -> None:
        if result["status"] != "done":
            return
        if args.json:
            results.append(as_json(result["tags"], segmented))
        else:
            write(format_file(result["tags"], segmented))

    summary = run_batch(jobs, TagTask(ensemble, args.top, args.segments), progress=not args.quiet and len(jobs) > 1,
                        on_result=show)
    if args.json:
        print(json.dumps(results, indent=2))
    if summary.failed and len(jobs) > 1 and not args.quiet:
        print(f"tagbox: {summary.line()}", file=sys.stderr)
    return 1 if summary.failed else 0


def as_json(result: dict, segmented: bool) -> dict:
    """Without --segments a file is one segment: give its tags directly."""
    if segmented:
        return result
    return {"path": result["path"], "duration": result["duration"], "taggers": result["segments"][0]["taggers"]}
