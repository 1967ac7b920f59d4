"""The taggers as the commands offer them, and which of them can name a source.

A source no chosen tagger has a tag for cannot be steered: :func:`check_expressible` says so
before any work, where steering would fail on every file after the models are loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tagbox.config import DEFAULT_TAGGERS
from tagbox.errors import TagboxError
from tagbox.sources import source_tags
from tagbox.taggers.ensemble import FALLBACK_ARCHITECTURES
from tagbox.taggers.registry import TAGGERS, config


def pretrained() -> list[str]:
    """The taggers with trained weights, in the registry's order."""
    return [tagger_id for tagger_id, spec in TAGGERS.items() if spec.pretrained]


def able(source: str, tagger_ids: Iterable[str] | None = None) -> list[str]:
    """The taggers among ``tagger_ids`` (default: the pretrained ones) whose vocabulary has a tag for ``source``."""
    return [t for t in (pretrained() if tagger_ids is None else tagger_ids) if source_tags(source, config(t).vocabulary)]


def default_taggers(source: str) -> tuple[str, ...]:
    """The taggers the default ensemble steers ``source`` with, as :meth:`TaggerEnsemble.naming` chooses
    them: the default ones that can name it, else the pair it adds of the first vocabulary that can; () if none can."""
    chosen = able(source, DEFAULT_TAGGERS)
    if chosen:
        return tuple(chosen)
    for vocabulary in dict.fromkeys(TAGGERS[tagger_id].vocabulary for tagger_id in pretrained()):
        pair = [f"{vocabulary}-{arch}" for arch in FALLBACK_ARCHITECTURES if f"{vocabulary}-{arch}" in TAGGERS]
        if pair and source_tags(source, vocabulary):
            return tuple(pair)
    return ()


def check_expressible(sources: Iterable[str], tagger_ids: Sequence[str] | None) -> None:
    """Refuse, in one line naming the taggers that could, a source the chosen taggers cannot name.

    ``tagger_ids`` None stands for the default ensemble, which can name what any pretrained tagger can.
    """
    for source in sources:
        if able(source, tagger_ids):
            continue
        others = able(source)
        if not others:
            raise TagboxError(f"no tagger can express '{source}': no vocabulary has a tag for it (see tagbox list sources)")
        raise TagboxError(f"{', '.join(tagger_ids)} cannot express '{source}'; taggers that can: {', '.join(others)}")
