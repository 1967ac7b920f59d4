"""A self-contained HTML report of a batch: listen to and look at what each separation did.

:func:`write_report` reads a manifest (:mod:`tagbox.batch.manifest`) and writes one folder with
``index.html``, the pictures, the audio the page plays (copies, so that the folder can be moved,
zipped or served as it is: Ogg Vorbis by default, a tenth of 16-bit FLAC) and ``results.json``,
the numbers the page shows. The folder is derived output: writing a report again replaces it.

Files are handled one at a time and their audio in blocks (copies and spectrograms alike), so
the memory a report takes does not grow with the number or the length of the files.
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

import soundfile as sf

from tagbox.audio import audio_blocks, save_blocks
from tagbox.batch.manifest import atomic_write_text, load_manifest
from tagbox.batch.plan import check_writable
from tagbox.errors import TagboxError
from tagbox.report import figures
from tagbox.report.page import render, render_eval, track_section
from tagbox.report.steered import render_steer, steer_section

__all__ = ["AUDIO_FORMATS", "write_report", "write_eval_report", "find_manifest"]

# What the page's players can play, smallest first; each is written where libsndfile can write it.
AUDIO_FORMATS = tuple(name for name, container in (("ogg", "OGG"), ("mp3", "MP3"), ("flac", "FLAC"), ("wav", "WAV"))
                      if container in sf.available_formats())


def find_manifest(path: Path) -> Path:
    """``path`` itself, or the one manifest.json in a folder or its sub-folders (an output folder)."""
    path = Path(path)
    if not path.is_dir():
        return path
    found = sorted(path.glob("manifest.json")) or sorted(path.glob("*/manifest.json"))
    if len(found) != 1:
        what = "no manifest.json" if not found else f"{len(found)} manifests ({', '.join(map(str, found))})"
        raise TagboxError(f"{path} holds {what}; name the manifest to report on")
    return found[0]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "track"


def _stems(entry: dict, source: str) -> dict[str, str]:
    """The stored paths of a source's estimate, the rest, and the true stem when there is one."""
    outputs = entry["outputs"]
    stems = {"estimate": outputs[source], "rest": outputs.get(f"no_{source}", outputs.get("rest"))}
    true = entry.get("references", {}).get(source)
    if true:
        stems["true"] = true
    return {name: path for name, path in stems.items() if path}


def write_report(manifest_path: Path, folder: Path, title: str | None = None, audio_format: str = "ogg") -> Path:
    """Write the report of the batch recorded in ``manifest_path`` into ``folder``; return the page.

    The page plays copies in ``audio_format`` (one of :data:`AUDIO_FORMATS`)."""
    manifest_path = Path(manifest_path)
    results = load_manifest(manifest_path)
    if audio_format not in AUDIO_FORMATS:
        raise TagboxError(f"cannot write {audio_format} audio here; choose one of {', '.join(AUDIO_FORMATS)}")
    check_writable(folder)
    base = manifest_path.parent
    if results["command"] == "steer":
        return _write_steer_report(results, base, folder, audio_format, title)
    names, tracks = [], []
    for index, entry in enumerate(results["files"]):
        name = Path(entry["input"]).name
        names.append(name)
        media_dir = folder / "media" / f"{index:03d}-{_slug(Path(name).stem)}"
        if not entry.get("sources"):
            tracks.append(track_section(index, name, entry, None, {}))
            continue

        copy = partial(_listening_copy, folder, media_dir, audio_format)

        mixture = figures.spectrum(Path(entry["input"]))
        media = {}
        for source, info in entry["sources"].items():
            stems = {kind: base / path for kind, path in _stems(entry, source).items()}
            media[source] = {kind: copy(f"{_slug(source)}-{kind}", path) for kind, path in stems.items()}
            spectra = {"mixture": mixture, **{kind: figures.spectrum(path) for kind, path in stems.items()}}
            pictures = {"spectrograms": figures.spectrograms(media_dir / f"{_slug(source)}-spectrograms.png", spectra)}
            if len(info.get("presence") or ()) > 1:  # one segment's probability is in the table
                pictures["presence"] = figures.presence(media_dir / f"{_slug(source)}-presence.png", info["presence"],
                                                        results.get("settings", {}).get("presence_threshold"))
            if info["history"]["loss"]:  # a source returned as labelled took no step: nothing to plot
                pictures["curves"] = figures.curves(media_dir / f"{_slug(source)}-curves.png", info["history"],
                                                    info["probability_before"], info["probability_after"])
            media[source].update({kind: path.relative_to(folder).as_posix() for kind, path in pictures.items()})
        tracks.append(track_section(index, name, entry, copy("mixture", Path(entry["input"])), media))
    atomic_write_text(folder / "results.json", json.dumps(results, indent=1) + "\n")
    page = folder / "index.html"
    atomic_write_text(page, render(title or f"tagbox {results['command']} report", results, names, tracks))
    return page


def _write_steer_report(results: dict, base: Path, folder: Path, audio_format: str, title: str | None) -> Path:
    sections = []
    for index, entry in enumerate(results["files"]):
        media_dir = folder / "media" / f"{index:03d}-{_slug(Path(entry['input']).stem)}"
        sections.append(steer_section(index, entry, partial(_listening_copy, folder, media_dir, audio_format),
                                      media_dir, base, folder))
    atomic_write_text(folder / "results.json", json.dumps(results, indent=1) + "\n")
    page = folder / "index.html"
    atomic_write_text(page, render_steer(title or "tagbox steer report", sections))
    return page


def _listening_copy(folder: Path, media_dir: Path, audio_format: str, label: str, source: Path) -> str:
    """A copy of the audio file ``source`` for the page to play, written block by block."""
    info = sf.info(str(source))
    path = save_blocks(media_dir / f"{label}.{audio_format}", lambda: (b for b, _ in audio_blocks(source, 10.0)),
                       info.samplerate, info.channels, encoding="int16", clip="clamp", force=True)
    return path.relative_to(folder).as_posix()


def write_eval_report(results: dict, folder: Path, title: str = "tagbox eval report") -> Path:
    """Write the page of a benchmark run (the dict ``tagbox eval --json`` writes) into ``folder``.

    Eval keeps no separated audio, so this page holds numbers only: no players or pictures."""
    check_writable(folder)
    atomic_write_text(folder / "results.json", json.dumps(results, indent=1) + "\n")
    page = folder / "index.html"
    atomic_write_text(page, render_eval(title, results))
    return page
