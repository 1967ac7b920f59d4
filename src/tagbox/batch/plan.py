"""What each input will write, checked before any work: collisions, writability, and resume.

Outputs come in groups written together (a source and its residual, or a joint set): a group
whose files all exist is done and skipped unless ``force``; a group with only some of its files
is refused, since it cannot be ours from an uninterrupted run (tagbox writes groups whole).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from tagbox.batch.inputs import Input
from tagbox.errors import TagboxError

Group = dict[str, Path]


@dataclass
class Job:
    """One input file, the output groups it owns and those still to write."""

    input: Path
    groups: list[Group] = field(default_factory=list)
    todo: list[Group] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, Path]:
        return {stem: path for group in self.groups for stem, path in group.items()}

    def absolute(self) -> "Job":
        """The same job with absolute paths, for workers whose working folder differs."""
        def fix(group: Group) -> Group:
            return {stem: Path(os.path.abspath(path)) for stem, path in group.items()}

        return Job(Path(os.path.abspath(self.input)), [fix(g) for g in self.groups], [fix(g) for g in self.todo])

    @property
    def finished(self) -> bool:
        """Every output exists already (resume): nothing to do for this input."""
        return bool(self.groups) and not self.todo


def plan_jobs(inputs: Sequence[Input], groups_of: Callable[[Input], list[Group]], force: bool = False) -> list[Job]:
    """A job per input; raises on the first output two inputs would share or a half-written group."""
    owners: dict[str, Path] = {}
    jobs = []
    for item in inputs:
        groups = groups_of(item)
        for path in (path for group in groups for path in group.values()):
            key = os.path.normcase(os.path.abspath(path))
            owner = owners.setdefault(key, item.path)
            if owner != item.path:
                raise TagboxError(
                    f"{owner} and {item.path} would both write {path}; rename one, or tell them apart "
                    "with {suffix} or {folder} in --filename"
                )
        jobs.append(Job(item.path, groups, [g for g in groups if force or not _complete(g, item.path)]))
    return jobs


def _complete(group: Group, source: Path) -> bool:
    present = [path.exists() for path in group.values()]
    if any(present) and not all(present):
        have = next(p for p in group.values() if p.exists())
        lack = next(p for p in group.values() if not p.exists())
        raise TagboxError(f"{have} exists but {lack} does not; use --force to redo {source}")
    return all(present)


def check_writable(folder: Path) -> None:
    """Create ``folder`` and a file in it now, so that a read-only place fails before any work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".tagbox-write-test-{secrets.token_hex(4)}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise TagboxError(f"cannot write to output folder {folder}: {error.strerror or error}") from None
