"""A self-contained HTML report of a batch: listen to and look at what each separation did.

:func:`write_report` reads a manifest (:mod:`tagbox.batch.manifest`) and writes one folder with
``index.html``, the pictures, the audio the page plays (16-bit FLAC copies, so that the folder
can be moved, zipped or served as it is) and ``results.json``, the numbers the page shows. The
folder is derived output: writing a report again replaces it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tagbox.audio import load_audio, save_audio
from tagbox.batch.manifest import atomic_write_text, load_manifest
from tagbox.batch.plan import check_writable
from tagbox.errors import TagboxError
from tagbox.report import figures
from tagbox.report.page import render, render_eval, track_section

__all__ = ["write_report", "write_eval_report", "find_manifest"]


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


def write_report(manifest_path: Path, folder: Path, title: str | None = None) -> Path:
    """Write the report of the batch recorded in ``manifest_path`` into ``folder``; return the page."""
    manifest_path = Path(manifest_path)
    results = load_manifest(manifest_path)
    check_writable(folder)
    base = manifest_path.parent
    names, tracks = [], []
    for index, entry in enumerate(results["files"]):
        name = Path(entry["input"]).name
        names.append(name)
        media_dir = folder / "media" / f"{index:03d}-{_slug(Path(name).stem)}"
        if not entry.get("sources"):
            tracks.append(track_section(index, name, entry, None, {}))
            continue
        mixture, rate = load_audio(entry["input"])

        def copy(label: str, wav) -> str:
            path = save_audio(media_dir / f"{label}.flac", wav, rate, encoding="int16", clip="clamp", force=True)
            return path.relative_to(folder).as_posix()

        media = {}
        for source, info in entry["sources"].items():
            signals = {"mixture": mixture, **{kind: load_audio(base / path)[0] for kind, path in _stems(entry, source).items()}}
            media[source] = {kind: copy(f"{_slug(source)}-{kind}", wav) for kind, wav in signals.items() if kind != "mixture"}
            pictures = {
                "spectrograms": figures.spectrograms(media_dir / f"{_slug(source)}-spectrograms.png", signals, rate),
                "curves": figures.curves(media_dir / f"{_slug(source)}-curves.png", info["history"],
                                         info["probability_before"], info["probability_after"]),
            }
            media[source].update({kind: path.relative_to(folder).as_posix() for kind, path in pictures.items()})
        tracks.append(track_section(index, name, entry, copy("mixture", mixture), media))
    atomic_write_text(folder / "results.json", json.dumps(results, indent=1) + "\n")
    page = folder / "index.html"
    atomic_write_text(page, render(title or f"tagbox {results['command']} report", results, names, tracks))
    return page


def write_eval_report(results: dict, folder: Path, title: str = "tagbox eval report") -> Path:
    """Write the page of a benchmark run (the dict ``tagbox eval --json`` writes) into ``folder``.

    Eval keeps no separated audio, so this page holds numbers only: no players or pictures."""
    check_writable(folder)
    atomic_write_text(folder / "results.json", json.dumps(results, indent=1) + "\n")
    page = folder / "index.html"
    atomic_write_text(page, render_eval(title, results))
    return page
