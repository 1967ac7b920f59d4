"""What each input will write, checked before any work: collisions, writability, and resume.

Outputs come in groups written together (a source and its residual, or a joint set): a group
whose files all exist is done and skipped unless ``force``; a group with only some of its files
is refused, since it cannot be ours from an uninterrupted run (tagbox writes groups whole).

An earlier batch's groups (:class:`Recorded`, from its manifest) say which input each existing
file belongs to: files named alike are filed apart (:func:`track_names`), another input's files
are refused, and ``force`` replaces a group whole, removing the rest of every earlier group it
overlaps, so that one folder never holds stems of two separations.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Sequence

from tagbox.batch.inputs import Input
from tagbox.errors import TagboxError

Group = dict[str, Path]


class Recorded(NamedTuple):
    """A group of files an earlier batch wrote for ``input`` (both absolute), as its manifest says."""

    input: Path
    files: tuple[Path, ...]


@dataclass
class Job:
    """One input file, the output groups it owns and those still to write.

    ``replaces[i]``: the files of earlier groups that writing ``groups[i]`` breaks up (``force``);
    they are removed once it is written.
    """

    input: Path
    groups: list[Group] = field(default_factory=list)
    todo: list[Group] = field(default_factory=list)
    replaces: list[list[Path]] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, Path]:
        return {stem: path for group in self.groups for stem, path in group.items()}

    def replaced(self, group: Group) -> list[Path]:
        """The earlier files to remove once ``group`` (one of ``groups``) is written."""
        return self.replaces[self.groups.index(group)] if self.replaces else []

    def absolute(self) -> "Job":
        """The same job with absolute paths, for workers whose working folder differs."""
        def fix(group: Group) -> Group:
            return {stem: Path(os.path.abspath(path)) for stem, path in group.items()}

        return Job(Path(os.path.abspath(self.input)), [fix(g) for g in self.groups], [fix(g) for g in self.todo],
                   [[Path(os.path.abspath(path)) for path in paths] for paths in self.replaces])

    @property
    def finished(self) -> bool:
        """Every output exists already (resume): nothing to do for this input."""
        return bool(self.groups) and not self.todo


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def track_names(inputs: Sequence[Input], outputs_of: Callable[[Input, str], Iterable[Path]],
                recorded: Sequence[Recorded] = ()) -> dict[Path, str]:
    """Each input's ``{track}``: its file name without the extension, or its parent folder's name
    where that would put two inputs of one name in one output folder (in this batch, or as
    ``recorded`` by an earlier one), as when songs are kept as ``<song>/mixture.flac``.

    ``outputs_of(item, track)`` are the files ``item`` writes under ``track``. An input keeps the
    name an earlier batch filed it under, so that a batch resumes where it was.
    """
    filed: dict[Path, set[str]] = {}
    for group in recorded:
        filed.setdefault(group.input, set()).update(map(_key, group.files))
    # (file name, output folder) -> the inputs of that name writing there
    users: dict[tuple[str, str], set[Path]] = {}
    for source, files in filed.items():
        for file in files:
            users.setdefault((source.stem, os.path.dirname(file)), set()).add(source)
    for item in inputs:
        for path in outputs_of(item, item.path.stem):
            users.setdefault((item.path.stem, os.path.dirname(_key(path))), set()).add(item.path.resolve())
    # Where folders tell them apart (not song.wav beside song.flac: plan_jobs refuses those).
    crowded = {source for sources in users.values()
               if len(sources) > 1 and len({s.parent.name for s in sources}) == len(sources) for source in sources}

    def name(item: Input) -> str:
        source, stem, parent = item.path.resolve(), item.path.stem, item.path.resolve().parent.name
        mine = filed.get(source, set())
        if not parent or mine & set(map(_key, outputs_of(item, stem))):
            return stem
        return parent if source in crowded or mine & set(map(_key, outputs_of(item, parent))) else stem

    return {item.path: name(item) for item in inputs}


def plan_jobs(inputs: Sequence[Input], groups_of: Callable[[Input], list[Group]], force: bool = False,
              recorded: Sequence[Recorded] = ()) -> list[Job]:
    """A job per input; raises, before any work, on the first output two inputs would share, an
    existing file ``recorded`` for another input (unless ``force``) or a half-written group."""
    earlier = {_key(path): group.input for group in recorded for path in group.files}
    owners: dict[str, Path] = {}
    jobs = []
    for item in inputs:
        groups = groups_of(item)
        mine: dict[str, str] = {}
        for stem, path in ((stem, path) for group in groups for stem, path in group.items()):
            key = _key(path)
            if mine.setdefault(key, stem) != stem:
                raise TagboxError(f"{mine[key]} and {stem} of {item.path} would both be written to {path}; "
                                  "put {stem} in --filename")
            owner = owners.setdefault(key, item.path)
            if owner != item.path:
                raise TagboxError(f"{owner} and {item.path} would both write {path}; tell them apart with "
                                  "{folder} or {suffix} in --filename, or separate them to different -o folders")
            other = earlier.get(key)
            if other not in (None, item.path.resolve()) and path.exists() and not force:
                raise TagboxError(f"{path} holds the separation of {other}; {_elsewhere(item.path)}, "
                                  "or use --force to replace it")
        jobs.append(Job(item.path, groups, [g for g in groups if force or not _complete(g, item.path)]))
    if force:
        _replacing(jobs, recorded)
    return jobs


def _replacing(jobs: list[Job], recorded: Sequence[Recorded]) -> None:
    """Set each job's ``replaces``: per group it writes, the other files of the earlier groups it
    overlaps, which this batch does not write again."""
    written = {_key(path) for job in jobs for path in job.outputs.values()}
    for job in jobs:
        for group in job.groups:
            keys = set(map(_key, group.values())) if group in job.todo else set()
            job.replaces.append(sorted({path for earlier in recorded if keys & set(map(_key, earlier.files))
                                        for path in earlier.files if _key(path) not in written}))


def _complete(group: Group, source: Path) -> bool:
    present = [path.exists() for path in group.values()]
    if any(present) and not all(present):
        have = next(p for p in group.values() if p.exists())
        lack = next(p for p in group.values() if not p.exists())
        raise TagboxError(f"{have} exists but {lack} does not (another separation wrote it, or one was "
                          f"interrupted); {_elsewhere(source)}, or use --force to replace that group")
    return all(present)


def _elsewhere(source: Path) -> str:
    """Where a refusal points: the options that write ``source``'s stems to other files."""
    return f"use -o or --filename to write {source}'s stems elsewhere"


def check_writable(folder: Path) -> None:
    """Create ``folder`` and a file in it now, so that a read-only place fails before any work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".tagbox-write-test-{secrets.token_hex(4)}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise TagboxError(f"cannot write to output folder {folder}: {error.strerror or error}") from None
