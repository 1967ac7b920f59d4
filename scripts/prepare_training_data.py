#!/usr/bin/env python3
"""Prepare the training data of the ``compact`` generator from freely licensed Debian music packages.

Steps (each one is skipped when its output already exists, so the script is idempotent and
can be resumed after an interruption):

1. ``apt-get download`` the packages into ``WORK/debs`` and ``dpkg-deb -x`` them into ``WORK/raw``;
2. read each package's ``usr/share/doc/<pkg>/copyright`` and decide the licence of every music
   file: machine-readable (DEP-5) files are parsed (the last matching ``Files:`` stanza wins);
   the few free-form ones are summarised in :data:`FREEFORM_LICENCES`, checked against a phrase
   that must appear in the file. Only files whose licence is in :data:`FREE_LICENCES` are kept;
3. decode every kept piece (Ogg Vorbis / Opus, also inside ``.pk3`` zip archives), mix to mono,
   resample to ``--sample-rate`` and write ``OUT/<split>/<package>/<name>.flac``;
4. hold out whole pieces for validation: per package, the ``--valid-fraction`` of pieces whose
   name hashes lowest (deterministic, independent of file order);
5. write ``OUT/manifest.json``: one row per piece with package, source file, licence, copyright
   holder, split, duration and path, plus the list of excluded files and why.

Audio never goes into the repository: the defaults point outside it (``/work/train-data``).
Usage: ``python scripts/prepare_training_data.py [--work /work/train-data] [--sample-rate 44100]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
from tqdm import tqdm

PACKAGES = (
    "wesnoth-1.16-music",
    "warzone2100-music",
    "nexuiz-music",
    "ufoai-music",
    "hyperrogue-music",
    "singularity-music",
)
AUDIO_SUFFIXES = (".ogg", ".opus")
MUSIC_DIRS = re.compile(r"/(music|cdtracks)/")
FREE_LICENCES = re.compile(r"^(GPL-[23]\+?|LGPL-2\.1\+?|CC-BY(-SA)?-[34]\.0|CC0-1\.0|public-domain)$")
MIN_SECONDS = 20.0

# Copyright files that are not machine-readable, summarised after reading them in full.
# ``phrase`` must occur in the file, so a changed file is noticed instead of trusted.
FREEFORM_LICENCES = {
    "wesnoth-1.16-music": dict(
        licence="GPL-2+",
        holder="David White and the Battle for Wesnoth contributors",
        phrase="GNU General Public License version 2\n        or at your option any later version",
    ),
    "nexuiz-music": dict(
        licence="GPL-2+",
        holder="Alientrap, Lee Vermeulen",
        phrase="either version 2\nof the License, or (at your option) any later version",
    ),
    "singularity-music": dict(
        licence="CC-BY-SA-3.0",
        holder="Max McCracken",
        phrase="this License: Attribution, ShareAlike",
    ),
}


@dataclass
class Piece:
    package: str
    file: str
    licence: str
    copyright: str
    split: str = ""
    duration: float = 0.0
    path: str = ""


def run(cmd: list[str], cwd: Path | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch_packages(work: Path) -> dict[str, Path]:
    """Download and unpack each package once; return its unpacked root."""
    debs, raw = work / "debs", work / "raw"
    debs.mkdir(parents=True, exist_ok=True)
    roots = {}
    for package in PACKAGES:
        root = raw / package
        if not (root / "usr/share/doc" / package / "copyright").is_file():
            if not list(debs.glob(f"{package}_*.deb")):
                try:
                    run(["apt-get", "download", package], cwd=debs)
                except subprocess.CalledProcessError:
                    run(["apt-get", "update"])
                    run(["apt-get", "download", package], cwd=debs)
            deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
            root.mkdir(parents=True, exist_ok=True)
            run(["dpkg-deb", "-x", str(deb), str(root)])
        roots[package] = root
    return roots


def dep5_stanzas(text: str) -> list[tuple[list[str], str, str]]:
    """(file patterns, licence, copyright holder) of each ``Files:`` stanza, in file order."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif key and line.startswith((" ", "\t")):
                fields[key] += "\n" + line.strip()
        if "Files" in fields and "License" in fields:
            licence = fields["License"].splitlines()[0].strip()
            holder = " / ".join(s for s in fields.get("Copyright", "").splitlines() if s.strip())
            stanzas.append((fields["Files"].split(), licence, holder))
    return stanzas


def licence_of(package: str, copyright_text: str, virtual_path: str) -> tuple[str, str]:
    """(licence, holder) of one installed file according to its package's copyright file."""
    if copyright_text.startswith("Format:"):
        found = ("", "")
        for patterns, licence, holder in dep5_stanzas(copyright_text):
            if any(fnmatch.fnmatch(virtual_path, p) or fnmatch.fnmatch(virtual_path, "*/" + p)
                   for p in patterns):
                found = (licence, holder)
        return found
    rule = FREEFORM_LICENCES[package]
    if rule["phrase"] not in copyright_text:
        raise SystemExit(f"{package}: copyright file changed; re-read it and update FREEFORM_LICENCES")
    return rule["licence"], rule["holder"]


def music_files(root: Path) -> list[str]:
    """Installed music files (paths relative to the package root); pk3 members as ``dir/member``."""
    files = []
    for path in sorted(root.rglob("*")):
        rel = "/" + path.relative_to(root).as_posix()
        if path.suffix in AUDIO_SUFFIXES and MUSIC_DIRS.search(rel):
            files.append(rel[1:])
        elif path.suffix == ".pk3":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    virtual = f"{path.parent.relative_to(root).as_posix()}/{member}"
                    if member.endswith(AUDIO_SUFFIXES) and MUSIC_DIRS.search("/" + virtual):
                        files.append(f"{path.relative_to(root).as_posix()}!{member}")
    return files


def virtual_path(file: str) -> str:
    """Path as the copyright file names it: a pk3 member counts as lying beside the archive."""
    if "!" in file:
        archive, member = file.split("!", 1)
        return f"{archive.rsplit('/', 1)[0]}/{member}"
    return file


def read_source(root: Path, file: str) -> tuple[np.ndarray, int]:
    if "!" in file:
        archive, member = file.split("!", 1)
        with zipfile.ZipFile(root / archive) as zf:
            data = io.BytesIO(zf.read(member))
        wav, sr = sf.read(data, dtype="float32", always_2d=True)
    else:
        wav, sr = sf.read(root / file, dtype="float32", always_2d=True)
    return wav.mean(axis=1), sr


def split_pieces(pieces: list[Piece], valid_fraction: float) -> None:
    """Hold out whole pieces: per package, those whose name hashes lowest."""
    for package in PACKAGES:
        own = [p for p in pieces if p.package == package]
        own.sort(key=lambda p: hashlib.sha1(p.file.encode()).hexdigest())
        n_valid = max(1, round(valid_fraction * len(own))) if own else 0
        for i, piece in enumerate(own):
            piece.split = "valid" if i < n_valid else "train"


def out_name(piece: Piece) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(virtual_path(piece.file)).stem)
    return f"{piece.split}/{piece.package}/{stem}.flac"


def convert(job: tuple[Path, Piece, Path, int]) -> Piece:
    """Decode, downmix, resample and write one piece atomically (skipped if already written)."""
    root, piece, out, sample_rate = job
    target = out / out_name(piece)
    if target.is_file():
        piece.duration = sf.info(target).duration
    else:
        wav, sr = read_source(root, piece.file)
        if sr != sample_rate:
            wav = librosa.resample(wav, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
        peak = float(np.abs(wav).max()) if wav.size else 0.0
        if peak > 1.0:
            wav = wav / peak
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".flac.part")
        os.close(fd)
        sf.write(tmp, wav, sample_rate, format="FLAC", subtype="PCM_16")
        os.replace(tmp, target)
        piece.duration = len(wav) / sample_rate
    piece.path = out_name(piece)
    return piece


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/work/train-data"),
                        help="where packages are downloaded and unpacked (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: WORK/prepared)")
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--valid-fraction", type=float, default=0.1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    out = args.out or args.work / "prepared"

    roots = fetch_packages(args.work)
    pieces, excluded = [], []
    for package, root in roots.items():
        text = (root / "usr/share/doc" / package / "copyright").read_text(errors="replace")
        for file in music_files(root):
            licence, holder = licence_of(package, text, virtual_path(file))
            if FREE_LICENCES.match(licence):
                pieces.append(Piece(package, file, licence, holder))
            else:
                excluded.append({"package": package, "file": file, "reason": f"licence '{licence}'"})
    split_pieces(pieces, args.valid_fraction)

    jobs = [(roots[p.package], p, out, args.sample_rate) for p in pieces]
    done = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for piece in tqdm(pool.map(convert, jobs), total=len(jobs), desc="decoding", unit="piece"):
            done.append(piece)
    kept = []
    for piece in done:
        if piece.duration < MIN_SECONDS:
            (out / piece.path).unlink(missing_ok=True)
            excluded.append({"package": piece.package, "file": piece.file,
                             "reason": f"shorter than {MIN_SECONDS:g} s"})
        else:
            kept.append(piece)

    manifest = {
        "sample_rate": args.sample_rate,
        "valid_fraction": args.valid_fraction,
        "pieces": [asdict(p) for p in kept],
        "excluded": excluded,
    }
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".json.part")
    with os.fdopen(fd, "w") as handle:
        json.dump(manifest, handle, indent=1)
    os.replace(tmp, out / "manifest.json")

    hours: dict[tuple[str, str], float] = {}
    for p in kept:
        hours[(p.licence, p.split)] = hours.get((p.licence, p.split), 0.0) + p.duration / 3600
    for (licence, split), h in sorted(hours.items()):
        print(f"{licence:14s} {split:5s} {h:6.2f} h")
    print(f"{len(kept)} pieces kept, {len(excluded)} excluded; manifest: {out / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
