"""The tag vocabularies of the pretrained taggers (data in ``tagbox/data/tags.json``)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from tagbox.errors import UnknownNameError

VOCABULARIES = ("mtat", "jamendo", "msd")


def unknown_name_error(
    kind: str, name: str, known: Iterable[str], candidates: Iterable[str] = ()
) -> UnknownNameError:
    """An error that lists the known names and suggests the closest of them and ``candidates``."""
    known = list(known)
    close = difflib.get_close_matches(name, [*known, *candidates], n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return UnknownNameError(f"unknown {kind} '{name}'{hint}; known: {', '.join(known)}")


@lru_cache(maxsize=1)
def _vocabularies() -> dict[str, tuple[str, ...]]:
    data = json.loads(resources.files("tagbox").joinpath("data/tags.json").read_text())
    return {name: tuple(data[name]) for name in VOCABULARIES}


def vocabulary_tags(vocabulary: str) -> tuple[str, ...]:
    """The tags of ``vocabulary`` in model-output order."""
    if vocabulary not in VOCABULARIES:
        raise unknown_name_error("vocabulary", vocabulary, VOCABULARIES)
    return _vocabularies()[vocabulary]
