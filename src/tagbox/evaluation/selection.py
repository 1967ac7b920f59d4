"""What an evaluation asks: tracks of several dataset roots under one id space, the stems each
track has, and sources each track lacks (the absent-source queries).

A track's id is ``<root folder name>/<track>``, so two roots may hold tracks of the same name.
Absent-source queries are drawn per track from the nameable sources it has no stem for, with a
generator seeded by the track's id: the same tracks get the same queries in every run, whatever
else is selected.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tagbox.errors import TagboxError
from tagbox.evaluation.datasets import detect_layout, track_sources

ABSENT_SALT = "absent"


@dataclass(frozen=True)
class DatasetRoot:
    """One dataset folder: ``name`` prefixes its track ids."""

    name: str
    root: str
    layout: str

    def track_id(self, track: str) -> str:
        return f"{self.name}/{track}"


def dataset_roots(paths: list[Path]) -> tuple[DatasetRoot, ...]:
    """Each folder with its layout; folders must have different names (they prefix track ids)."""
    roots = tuple(DatasetRoot(Path(path).resolve().name, str(path), detect_layout(path)) for path in paths)
    names = [root.name for root in roots]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TagboxError(
            f"two dataset folders are named '{repeated[0]}': track ids are prefixed with the folder's name, "
            "so give each root its own name (a symbolic link will do)"
        )
    return roots


def locate(roots: tuple[DatasetRoot, ...], track_id: str) -> tuple[DatasetRoot, str]:
    """The root of a track id and the track's name inside it."""
    name, _, track = track_id.partition("/")
    return next(root for root in roots if root.name == name), track


def available_tracks(roots: tuple[DatasetRoot, ...]) -> dict[str, tuple[str, ...]]:
    """Track id -> every source it has a stem for, without reading audio."""
    return {
        root.track_id(track): names
        for root in roots
        for track, names in track_sources(Path(root.root), root.layout).items()
    }


def select_tracks(
    available: dict[str, tuple[str, ...]], sources: list[str] | None, max_tracks: int | None
) -> dict[str, tuple[str, ...]]:
    """Track id -> sources to evaluate there; ``max_tracks`` applies to each root.

    A requested source that no track has is an error.
    """
    present = sorted({s for names in available.values() for s in names})
    if sources:
        missing = [s for s in sources if s not in present]
        if missing:
            raise TagboxError(f"no track has a stem named '{missing[0]}'; stems found: {', '.join(present)}")
    wanted = set(sources or present)
    selected = {track: tuple(s for s in names if s in wanted) for track, names in available.items()}
    selected = {track: names for track, names in selected.items() if names}
    if max_tracks is not None:
        per_root: dict[str, int] = {}
        kept = {}
        for track, names in selected.items():
            root = track.partition("/")[0]
            per_root[root] = per_root.get(root, 0) + 1
            if per_root[root] <= max_tracks:
                kept[track] = names
        selected = kept
    if not selected:
        raise TagboxError("no track to evaluate")
    return selected


def absent_queries(
    tracks: dict[str, tuple[str, ...]],
    available: dict[str, tuple[str, ...]],
    pool: list[str],
    per_track: int,
    can_name: Callable[[str], bool] = lambda source: True,
) -> dict[str, tuple[str, ...]]:
    """Track id -> up to ``per_track`` sources of ``pool`` it has no stem for (and ``can_name``).

    Drawn without replacement by ``random.Random('absent:<track id>')`` from the sorted
    candidates, so the draw depends on nothing but the track and the pool.
    """
    nameable = sorted(source for source in set(pool) if can_name(source))
    queries = {}
    for track in tracks:
        candidates = [source for source in nameable if source not in available[track]]
        draw = random.Random(f"{ABSENT_SALT}:{track}").sample(candidates, min(per_track, len(candidates)))
        if draw:
            queries[track] = tuple(sorted(draw))
    return queries
