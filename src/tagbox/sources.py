"""Source names ("vocals", "violin", ...) and the tags that mean them in each tagger vocabulary.

The mapping is data (``tagbox/data/sources.json``): each source lists, per vocabulary, the tags
that name exactly it, and may sit ``within`` a broader source (violin within strings). A source
is expressed by its own tags plus those of the sources within it; if that is empty, by the own
tags of the nearest broader source that has any (a Jamendo tagger hears an organ as "keyboard"). Where nothing
fits, the vocabulary cannot express the source and :func:`source_tags` returns ``()``.

Raw tag names of any vocabulary are accepted wherever a source name is ("female vocal",
"instrument---bass"), and stand for themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import librosa

from tagbox.errors import UnknownNameError
from tagbox.vocabularies import VOCABULARIES, vocabulary_tags


@dataclass(frozen=True)
class Source:
    name: str
    group: str
    tags: dict[str, tuple[str, ...]]
    within: str | None = None
    negations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lowest: str | None = None  # the lowest note the instrument sounds, e.g. "G3"
    highest: str | None = None  # the highest, e.g. "E7"
    pitched: bool = True  # False for a source without notes (drums)
    refine_steps: int = 0  # steering steps from the tagged start


@lru_cache(maxsize=1)
def _sources() -> dict[str, Source]:
    data = json.loads(resources.files("tagbox").joinpath("data/sources.json").read_text())["sources"]
    return {
        name: Source(
            name=name,
            group=entry["group"],
            within=entry.get("within"),
            tags={v: tuple(entry["tags"][v]) for v in VOCABULARIES},
            negations={v: tuple(entry.get("negations", {}).get(v, ())) for v in VOCABULARIES},
            lowest=entry.get("lowest"),
            highest=entry.get("highest"),
            pitched=entry.get("pitched", True),
            refine_steps=entry.get("refine_steps", 0),
        )
        for name, entry in data.items()
    }


SOURCE_NAMES: tuple[str, ...] = tuple(_sources())


def _all_tags() -> set[str]:
    return {tag for vocabulary in VOCABULARIES for tag in vocabulary_tags(vocabulary)}


def is_raw_tag(name: str) -> bool:
    """True if ``name`` is a tag of some vocabulary rather than a source name."""
    return name not in _sources() and name in _all_tags()


def canonical_name(name: str) -> str:
    """``name`` as a source name or raw tag; "Electric guitar" -> "electric_guitar".

    Raises UnknownNameError (listing the sources, suggesting the closest name) otherwise.
    """
    if name in _sources() or is_raw_tag(name):
        return name
    normalised = name.strip().lower().replace(" ", "_").replace("-", "_")
    if normalised in _sources():
        return normalised
    error = UnknownNameError.suggest("source", name, SOURCE_NAMES, candidates=sorted(_all_tags()))
    raise type(error)(f"{error}; any tag of the taggers' vocabularies is accepted too")


def source_group(name: str) -> str:
    """"voice" or "instrument"."""
    return _sources()[canonical_name(name)].group


def _ancestors(name: str) -> list[str]:
    chain, within = [], _sources()[name].within
    while within is not None:
        chain.append(within)
        within = _sources()[within].within
    return chain


def _subtree(name: str) -> list[str]:
    """``name`` and every source within it, at any depth."""
    return [other for other in _sources() if other == name or name in _ancestors(other)]


def _in_vocabulary_order(tags: set[str], vocabulary: str) -> tuple[str, ...]:
    return tuple(tag for tag in vocabulary_tags(vocabulary) if tag in tags)


def source_tags(name: str, vocabulary: str) -> tuple[str, ...]:
    """The tags of ``vocabulary`` that mean ``name`` (empty when it cannot express it)."""
    vocabulary_tags(vocabulary)  # validates the vocabulary
    name = canonical_name(name)
    if is_raw_tag(name):
        return _in_vocabulary_order({name}, vocabulary)
    tags = {tag for member in _subtree(name) for tag in _sources()[member].tags[vocabulary]}
    for broader in _ancestors(name):
        if tags:
            break
        tags = set(_sources()[broader].tags[vocabulary])
    return _in_vocabulary_order(tags, vocabulary)


def shares_tags(first: str, second: str) -> bool:
    """Whether some vocabulary means both sources by one tag (violin and strings in MTAT): the
    taggers could not tell their estimates apart."""
    return canonical_name(first) == canonical_name(second) or any(
        set(source_tags(first, vocabulary)) & set(source_tags(second, vocabulary)) for vocabulary in VOCABULARIES)


def _inherited_note(name: str, bound: str) -> float | None:
    """The fundamental in Hz of ``name``'s ``bound`` note ("lowest" or "highest"): its own, else the
    nearest broader source's (an electric guitar is a guitar); None where it has none."""
    name = canonical_name(name)
    if is_raw_tag(name):
        return None
    for source in [name, *_ancestors(name)]:
        note = getattr(_sources()[source], bound)
        if note is not None:
            return float(librosa.note_to_hz(note))
    return None


def lowest_frequency(name: str) -> float | None:
    """The fundamental in Hz of the lowest note ``name`` sounds; None where it has none (a piano
    reaches below any separation, a raw tag is no instrument)."""
    return _inherited_note(name, "lowest")


def highest_frequency(name: str) -> float | None:
    """The fundamental in Hz of the highest note ``name`` sounds; None where none is listed."""
    return _inherited_note(name, "highest")


def is_pitched(name: str) -> bool:
    """Whether ``name`` is a source that plays notes (not drums, not a raw tag such as "beat")."""
    name = canonical_name(name)
    return not is_raw_tag(name) and _sources()[name].pitched


def refine_steps(name: str) -> int:
    """Steering steps that refine ``name`` from the tagged start, which is already an estimate:
    the taggers' objective is aligned with separation from there for a few sources only (drums);
    0 for the others and for raw tags."""
    name = canonical_name(name)
    return 0 if is_raw_tag(name) else _sources()[name].refine_steps


def instrument_tags(vocabulary: str) -> tuple[str, ...]:
    """Every tag of ``vocabulary`` that names a source (instrument or voice); no genres or moods."""
    return _in_vocabulary_order({tag for s in _sources().values() for tag in s.tags[vocabulary]}, vocabulary)


def negative_tags(name: str, vocabulary: str) -> tuple[str, ...]:
    """Tags an isolated ``name`` should score low: other sources' tags and its negations.

    Sources related to ``name`` (broader or narrower: strings for violin) are not counted as
    other sources, while siblings are (cello for violin, male vocals for female vocals).
    """
    name = canonical_name(name)
    positives = set(source_tags(name, vocabulary))
    owners = [s.name for s in _sources().values() if name in s.tags[vocabulary]] if is_raw_tag(name) else [name]
    related = {other for owner in owners for other in [*_ancestors(owner), *_subtree(owner)]}
    others = {tag for s in _sources().values() if s.name not in related for tag in s.tags[vocabulary]}
    negations = {tag for owner in owners for s in [owner, *_ancestors(owner)] for tag in _sources()[s].negations[vocabulary]}
    return _in_vocabulary_order((others - positives) | negations, vocabulary)
