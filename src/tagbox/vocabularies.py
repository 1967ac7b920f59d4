"""The tag vocabularies of the pretrained taggers (data in ``tagbox/data/tags.json``)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from tagbox.errors import UnknownNameError

VOCABULARIES = ("mtat", "jamendo", "msd")


@lru_cache(maxsize=1)
def _vocabularies() -> dict[str, tuple[str, ...]]:
    data = json.loads(resources.files("tagbox").joinpath("data/tags.json").read_text())
    return {name: tuple(data[name]) for name in VOCABULARIES}


def vocabulary_tags(vocabulary: str) -> tuple[str, ...]:
    """The tags of ``vocabulary`` in model-output order."""
    if vocabulary not in VOCABULARIES:
        raise UnknownNameError.suggest("vocabulary", vocabulary, VOCABULARIES)
    return _vocabularies()[vocabulary]
