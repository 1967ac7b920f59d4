"""``tagbox report``: an HTML page to listen to and look at a batch's separations."""

from __future__ import annotations

import argparse
from pathlib import Path

from tagbox.report import AUDIO_FORMATS, find_manifest, write_report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report of a separation batch",
        description="Write a self-contained HTML report (page, pictures, audio) of the batch recorded in a "
        "manifest: players for mixture, estimate and rest, spectrograms, the target tag's probability and "
        "the loss over the steps, settings, times and warnings. The report folder is rewritten.",
    )
    parser.add_argument("manifest", type=Path, metavar="MANIFEST",
                        help="manifest.json, or the output folder that holds it (e.g. separated/)")
    parser.add_argument("-o", "--out", type=Path, help="report folder (default: report/ beside the manifest)")
    parser.add_argument("--audio-format", choices=AUDIO_FORMATS, default="ogg",
                        help="format of the audio the page plays (default: ogg, Ogg Vorbis, about a tenth of FLAC; "
                        "mp3 plays in every browser, Safari's included, at sample rates up to 48 kHz; flac and wav "
                        "are lossless)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = find_manifest(args.manifest)
    page = write_report(manifest, args.out or manifest.parent / "report", audio_format=args.audio_format)
    print(f"report {page}")
    return 0
