"""The manifest of a batch: one JSON file that grows as files finish, always whole on disk.

It is rewritten atomically (a temporary file in the same folder, then ``os.replace``) after every
file, so an interrupted or crashed batch leaves a valid manifest saying what finished. Paths
under the manifest's folder are stored relative to it, so the folder can be moved or shared.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
from pathlib import Path
from typing import Sequence

from tagbox.batch.plan import Job, Recorded
from tagbox.errors import TagboxError

FORMAT = "tagbox-manifest/1"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_manifest(path: Path) -> dict:
    """A manifest written by tagbox, or a one-line error saying why ``path`` is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TagboxError(f"no manifest at {path}") from None
    except (OSError, ValueError) as error:
        raise TagboxError(f"cannot read manifest {path}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TagboxError(f"{path} is not a tagbox manifest")
    return data


def earlier_entries(path: Path) -> dict[str, dict]:
    """The entries of the manifest at ``path`` by input; none where there is none, or it is not ours or damaged
    (this run's record then replaces it)."""
    if not Path(path).exists():
        return {}
    try:
        return {entry["input"]: entry for entry in load_manifest(path)["files"]}
    except TagboxError:
        return {}


def recorded_groups(path: Path) -> list[Recorded]:
    """The groups of files the manifest at ``path`` says were written, each with its input, as absolute paths.

    An entry that kept no groups (an older manifest) gives each of its files as a group of its own."""
    groups = []
    for entry in earlier_entries(path).values():
        if entry.get("status") not in ("done", "skipped"):
            continue
        outputs = {stem: Path(path).parent / stored for stem, stored in entry.get("outputs", {}).items()}
        for group in entry.get("groups") or [[stem] for stem in outputs]:
            groups.append(Recorded(Path(entry["input"]), tuple(Path(os.path.abspath(outputs[stem])) for stem in group)))
    return groups


class Manifest:
    """The record of one batch run; entries of skipped files keep what an earlier run recorded."""

    def __init__(self, path: Path, command: str, settings: dict, jobs: Sequence[Job]):
        self.path = Path(path)
        previous = earlier_entries(self.path)
        self.data = {
            "format": FORMAT, "command": command, "settings": settings, "started": now(), "finished": None,
            "interrupted": False, "summary": None, "files": [],
        }
        self._entries: dict[Path, dict] = {}
        for job in jobs:
            entry = {
                "input": str(job.input.resolve()), "status": "pending",
                "outputs": {stem: self.relative(path) for stem, path in job.outputs.items()},
                "groups": [list(group) for group in job.groups],
                "sources": {}, "seconds": None, "time": None, "error": None,
            }
            if job.finished:
                earlier = previous.get(entry["input"], {})
                same = earlier.get("outputs") == entry["outputs"]
                entry = {**entry, **(earlier if same else {}), "status": "skipped"}
            self._entries[job.input] = entry
            self.data["files"].append(entry)

    def relative(self, path: Path) -> str:
        """``path`` relative to the manifest's folder when inside it, else absolute."""
        absolute = Path(os.path.abspath(path))
        try:
            return absolute.relative_to(os.path.abspath(self.path.parent)).as_posix()
        except ValueError:
            return str(absolute)

    def resolve(self, stored: str) -> Path:
        return self.path.parent / stored

    def record(self, job: Job, result: dict) -> None:
        """Merge a finished file's result (status, sources, error, ...) and rewrite the manifest."""
        self._entries[job.input].update(result, time=now())
        self.write()

    def finish(self, summary: dict, interrupted: bool = False) -> None:
        self.data.update(summary=summary, interrupted=interrupted, finished=now())
        self.write()

    def write(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=1) + "\n")
