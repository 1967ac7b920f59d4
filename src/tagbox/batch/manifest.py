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
    """The groups of files the manifest at ``path`` records for each input (written, or planned by a batch that
    stopped), as absolute paths.

    An entry that kept no groups (an older manifest) gives each of its files as a group of its own."""
    groups = []
    for entry in earlier_entries(path).values():  # pending and failed ones too: an interrupted batch's groups
        outputs = {stem: Path(path).parent / stored for stem, stored in entry.get("outputs", {}).items()}
        for group in _groups(entry):
            groups.append(Recorded(Path(entry["input"]), tuple(Path(os.path.abspath(outputs[stem])) for stem in group)))
    return groups


class Manifest:
    """The record of the batches written to one place, updated as this batch's files finish.

    Entries of inputs this batch does not touch stay as earlier batches left them; an input's
    entry keeps the groups an earlier batch recorded for it that this one does not rewrite (and
    their sources), so a skipped input keeps its earlier record. ``settings`` and ``summary`` are
    this batch's. An input whose files another one rewrote (``--force``) loses them from its entry.
    """

    def __init__(self, path: Path, command: str, settings: dict, jobs: Sequence[Job]):
        self.path = Path(path)
        previous = earlier_entries(self.path)
        self.data = {
            "format": FORMAT, "command": command, "settings": settings, "started": now(), "finished": None,
            "interrupted": False, "summary": None, "files": list(previous.values()),
        }
        self._entries: dict[Path, dict] = {}
        for job in jobs:
            entry = self._planned(job)
            earlier = previous.get(entry["input"])
            if earlier is None:
                self.data["files"].append(entry)
            else:  # its earlier groups stay recorded until this batch has rewritten them
                entry = _merged(earlier, entry, rewritten=set())
                self.data["files"] = [entry if other is earlier else other for other in self.data["files"]]
            self._entries[job.input] = entry

    def _planned(self, job: Job) -> dict:
        """What this batch records of ``job`` before it runs: the files it owns, nothing heard yet."""
        return {
            "input": str(job.input.resolve()), "status": "skipped" if job.finished else "pending",
            "outputs": {stem: self.relative(path) for stem, path in job.outputs.items()},
            "groups": [list(group) for group in job.groups],
            "sources": {}, "seconds": None, "time": None, "error": None,
        }

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
        """Merge a finished file's result (status, sources, error, ...) and rewrite the manifest.

        Once ``job`` is done, the earlier groups it rewrote or broke up leave every entry."""
        entry = self._entries[job.input]
        if result["status"] == "done":
            rewritten = {self.relative(path) for group in job.todo for path in group.values()}
            rewritten |= {self.relative(path) for paths in job.replaces for path in paths}
            for other in [other for other in self.data["files"] if other is not entry]:
                groups = _untouched(other, rewritten)
                if groups != _groups(other):
                    other.update(_restricted(other, groups))
                    if not groups:
                        self.data["files"] = [kept for kept in self.data["files"] if kept is not other]
            entry.update(_merged(entry, self._planned(job), rewritten))
        entry.update(result, sources={**entry["sources"], **result.get("sources", {})}, time=now())
        self.write()

    def finish(self, summary: dict, interrupted: bool = False) -> None:
        self.data.update(summary=summary, interrupted=interrupted, finished=now())
        self.write()

    def write(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=1) + "\n")


def _groups(entry: dict) -> list[list[str]]:
    """The groups of stems an entry records (an older manifest's: each stem alone)."""
    return entry.get("groups") or [[stem] for stem in entry.get("outputs", {})]


def _untouched(entry: dict, rewritten: set[str], moved: dict[str, str] | None = None) -> list[list[str]]:
    """The groups of ``entry`` none of whose files is in ``rewritten`` or, per ``moved`` (stem: stored path), now
    written elsewhere."""
    outputs, moved = entry.get("outputs", {}), moved or {}
    return [group for group in _groups(entry)
            if all(outputs[stem] not in rewritten and moved.get(stem, outputs[stem]) == outputs[stem] for stem in group)]


def _restricted(entry: dict, groups: list[list[str]]) -> dict:
    """``entry`` with only ``groups``, their outputs and their sources (a source is named as its stem)."""
    stems = {stem for group in groups for stem in group}
    return {**entry, "groups": groups, "outputs": {stem: path for stem, path in entry["outputs"].items() if stem in stems},
            "sources": {name: info for name, info in entry.get("sources", {}).items() if name in stems}}


def _merged(earlier: dict, entry: dict, rewritten: set[str]) -> dict:
    """``entry`` over ``earlier``, the record of the same input: the earlier groups it neither rewrites nor
    moves stay, with their sources; a skipped entry keeps the rest of the earlier record too."""
    kept = _restricted(earlier, _untouched(earlier, rewritten, entry["outputs"]))
    return {
        **(kept if entry["status"] == "skipped" else entry), "status": entry["status"],
        "outputs": {**kept["outputs"], **entry["outputs"]},
        "groups": kept["groups"] + [group for group in entry["groups"] if group not in kept["groups"]],
        "sources": kept["sources"],
    }
