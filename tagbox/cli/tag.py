"""``tagbox tag``: what the pretrained taggers hear in audio files (top tags per file or segment).

Useful on its own, and to check before separating that a tagger recognises the source at all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from tqdm import tqdm

from tagbox.audio import check_audio, load_audio
from tagbox.cli import _threads
from tagbox.device import resolve_device
from tagbox.errors import TagboxError
from tagbox.resample import resample
from tagbox.taggers import TAGGERS
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.taggers.frontend import SAMPLE_RATE
from tagbox.taggers.registry import config
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
    parser.add_argument("files", nargs="+", metavar="FILE", type=Path, help="audio files (wav, flac, ...)")
    parser.add_argument(
        "--tagger", dest="taggers", action="append", metavar="ID",
        help=f"tagger to use, repeat for several side by side (default {DEFAULT_TAGGER}; one of {', '.join(TAGGERS)})",
    )
    parser.add_argument("--top", type=int, default=5, metavar="N", help="tags to show per tagger (default 5)")
    parser.add_argument("--segments", type=float, metavar="SECONDS", help="tag each SECONDS-long segment separately")
    parser.add_argument("--json", action="store_true", help="print JSON: per file and tagger, tags sorted by probability")
    parser.add_argument("-d", "--device", default="cpu", help="torch device: cpu, cuda or cuda:N (default cpu)")
    _threads.add_argument(parser)
    parser.set_defaults(func=run)


def top_tags(tags: list[str], probs: torch.Tensor, n: int) -> list[dict]:
    """The ``n`` most probable tags, highest first, as ``{"tag", "probability"}`` records."""
    values, indices = probs.topk(min(n, len(tags)))
    return [{"tag": tags[i], "probability": round(v, 4)} for v, i in zip(values.tolist(), indices.tolist())]


def tag_file(path: Path, ensemble: TaggerEnsemble, top: int, segment_seconds: float | None) -> dict:
    """Top tags of one file for each tagger, per segment (one segment covering it all by default)."""
    wav, sample_rate = load_audio(path)
    check_audio(wav, what=str(path))
    mono = resample(torch.from_numpy(wav).to(ensemble.device).mean(0), sample_rate, SAMPLE_RATE)
    duration = wav.shape[-1] / sample_rate
    segment = mono.shape[-1] if segment_seconds is None else max(1, round(segment_seconds * SAMPLE_RATE))
    heard = [ensemble.probabilities(piece, SAMPLE_RATE) for piece in mono.split(segment)]
    step = duration if segment_seconds is None else segment_seconds
    segments = [
        {"start": round(i * step, 3), "end": round(min((i + 1) * step, duration), 3),
         "taggers": {t.id: top_tags(t.tags, probabilities[t.id], top) for t in ensemble.taggers}}
        for i, probabilities in enumerate(heard)
    ]
    return {"path": str(path), "duration": round(duration, 3), "segments": segments}


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
    lines = [f"{result['path']} ({result['duration']:.1f} s)"]
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
    for tagger_id in tagger_ids:  # a typo fails before any weights or audio are loaded
        config(tagger_id)
    ensemble = TaggerEnsemble.load(tagger_ids, device=resolve_device(args.device))
    results = []
    for path in tqdm(args.files, desc="tagging", unit="file", disable=None if len(args.files) > 1 else True):
        result = tag_file(path, ensemble, args.top, args.segments)
        if args.json:
            results.append(result)
        else:
            print(format_file(result, segmented=args.segments is not None))
    if args.json:
        print(json.dumps([as_json(r, segmented=args.segments is not None) for r in results], indent=2))
    return 0


def as_json(result: dict, segmented: bool) -> dict:
    """Without --segments a file is one segment: give its tags directly."""
    if segmented:
        return result
    return {"path": result["path"], "duration": result["duration"], "taggers": result["segments"][0]["taggers"]}
