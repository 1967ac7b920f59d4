"""``tagbox separate``: demucs-style query-by-tag separation of audio files."""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from tagbox.audio import save_blocks
from tagbox.cli import _threads
from tagbox.config import PRESETS, SeparatorConfig
from tagbox.device import resolve_device
from tagbox.errors import TagboxError
from tagbox.inputs import check_file
from tagbox.latents import latent_settings, takers
from tagbox.separator import Separator
from tagbox.sources import canonical_name
from tagbox.stems import StemStream
from tagbox.threads import use_threads


def flagged_settings() -> list[dataclasses.Field]:
    """The settings offered as flags: SeparatorConfig's, then every latent's."""
    settings = [*dataclasses.fields(SeparatorConfig), *latent_settings().values()]
    return [setting for setting in settings if "flag" in setting.metadata]


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting that declares one; unset flags keep the preset's value. A latent's
    setting says which latents take it (the others refuse it)."""
    for setting in flagged_settings():
        options = dict(setting.metadata)
        owners = takers(setting.name)
        if owners:
            options["help"] += f" ({', '.join(owners)} latent{'s' if len(owners) > 1 else ''})"
        parser.add_argument(options.pop("flag"), dest=setting.name, default=None, **options)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "separate",
        help="separate a source named by tags from music files",
        description="Separate each SOURCE from each FILE by steering a latent space with pretrained taggers. "
        "Writes <out>/<model>/<track>/<source>.wav and no_<source>.wav.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("-s", "--source", action="append", required=True, dest="sources",
                        help="source name or raw tag to separate (repeatable)")
    parser.add_argument("--joint", action="store_true",
                        help="estimate all sources in one optimisation, plus 'rest'; stems sum to the mix")
    parser.add_argument("-o", "--out", type=Path, default=Path("separated"), help="output folder")
    parser.add_argument("--filename", default="{track}/{stem}.{ext}",
                        help="output name under <out>/<model>/; fields {track}, {stem}, {source}, {ext}")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="'faithful' reproduces the reference TagBox settings")
    add_config_flags(parser)
    parser.add_argument("--flac", action="store_true", help="write FLAC instead of WAV")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--int24", dest="encoding", action="store_const", const="int24")
    depth.add_argument("--float32", dest="encoding", action="store_const", const="float32")
    parser.add_argument("--clip-mode", choices=["rescale", "clamp", "none"], default="rescale")
    parser.add_argument("-d", "--device", default="cpu", help="torch device: cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    _threads.add_argument(parser)
    parser.set_defaults(func=run, encoding="int16")


def separator_options(args: argparse.Namespace) -> dict:
    """Separator keyword arguments: the settings the user set (others keep the preset's), and the device."""
    settings = {f.name: getattr(args, f.name) for f in flagged_settings()}
    return {"device": args.device, **{name: value for name, value in settings.items() if value is not None}}


def output_paths(args: argparse.Namespace, model: str, track: Path, stems: Sequence[str]) -> dict[str, Path]:
    ext = "flac" if args.flac else "wav"
    return {
        stem: args.out / model / args.filename.format(track=track.stem, stem=stem, source=stem, ext=ext)
        for stem in stems
    }


def planned_stems(args: argparse.Namespace) -> list[list[str]]:
    """Groups of stems written together: each source and its residual, or the joint set."""
    if args.joint:
        return [[*args.sources, "rest"]]
    return [[source, f"no_{source}"] for source in args.sources]


StemMaker = Callable[[np.ndarray, np.ndarray], np.ndarray]


def stem_makers(args: argparse.Namespace, group: list[str]) -> dict[str, StemMaker]:
    """Each stem of ``group``: the sources' estimates, and the residual or the rest of the mixture."""
    if args.joint:
        *sources, rest = group
        makers: dict[str, StemMaker] = {name: (lambda mix, est, i=i: est[i]) for i, name in enumerate(sources)}
        makers[rest] = lambda mix, est: mix - est.sum(0)
        return makers
    source, residual = group
    return {source: lambda mix, est: est[0], residual: lambda mix, est: mix - est[0]}


def _save_group(
    args: argparse.Namespace, paths: dict[str, Path], makers: dict[str, StemMaker],
    blocks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]], sample_rate: int, channels: int,
) -> None:
    """Write stems that belong together, block by block; an interruption part-way removes those written."""
    written = []
    try:
        for stem, make in makers.items():
            save_blocks(paths[stem], lambda make=make: (make(*block) for block in blocks()), sample_rate, channels,
                        encoding=args.encoding, clip=args.clip_mode, force=args.force)
            written.append(paths[stem])
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    use_threads(args.threads)
    if len(set(args.sources)) != len(args.sources):
        raise TagboxError("a source was requested twice")
    clash = set(args.sources) & set(args.exclude or [])
    if clash:
        raise TagboxError(f"'{sorted(clash)[0]}' is both a --source and a --not")
    for name in [*args.sources, *(args.exclude or [])]:
        canonical_name(name)  # an unknown name fails before any weights are loaded
    missing = [path for path in args.files if not path.is_file()]
    if missing:
        raise TagboxError(f"no such file: {missing[0]}")
    resolve_device(args.device)  # the cheapest check first: before reading any file
    # silent, non-finite or too short: said before any model loads
    formats = {track: check_file(track) for track in args.files}
    separator = Separator.from_preset(args.preset, **separator_options(args))
    plans = {
        (track, group[0]): output_paths(args, separator.name, track, group)
        for track in args.files for group in planned_stems(args)
    }
    if not args.force:
        existing = [path for paths in plans.values() for path in paths.values() if path.exists()]
        if existing:
            raise TagboxError(f"{existing[0]} exists; use --force to overwrite")
    for track in args.files:
        sample_rate, channels = formats[track]
        for group in planned_stems(args):
            start = time.perf_counter()
            sources = group[:-1] if args.joint else group[:1]
            # The estimates wait on disk until the whole track is known: memory stays flat in its length.
            with tempfile.TemporaryDirectory(prefix="tagbox-") as scratch:
                stream = StemStream(scratch, len(sources), channels, sample_rate)
                try:
                    results = separator.stream_file(track, sources=sources, sink=stream.write)
                finally:
                    stream.close()
                silent = [result.absent for result in results]
                paths = plans[(track, group[0])]
                _save_group(args, paths, stem_makers(args, group), lambda: stream.blocks(track, silent),
                            sample_rate, channels)
            for result in results:
                note = " (source absent: target is silence)" if result.absent else ""
                print(f"{track.name}: {result.source} p {result.probability_before:.2f} -> "
                      f"{result.probability_after:.2f}{note}")
            print(f"{track.name}: {time.perf_counter() - start:.1f} s; wrote {', '.join(str(p) for p in paths.values())}")
    return 0
