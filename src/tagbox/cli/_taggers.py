"""The taggers as the commands offer them, and which of them can name a source.

Only pretrained taggers are offered: the registry's untrained test taggers (``debug-tiny``,
random weights, for fast tests) print plausible tags that mean nothing, so they are left out of
help and listings, still accepted by id, and warned about when used. A source no chosen tagger
has a tag for cannot be steered: :func:`check_expressible` says so before any work, where
steering would fail on every file after the models are loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from tagbox.config import DEFAULT_TAGGERS
from tagbox.errors import TagboxError, UnknownNameError
from tagbox.sources import source_tags
from tagbox.taggers.ensemble import fallback_pair
from tagbox.taggers.registry import TAGGERS, config

logger = logging.getLogger(__name__)


def pretrained() -> list[str]:
    """The taggers with trained weights, in the registry's order: those offered to users."""
    return [tagger_id for tagger_id, spec in TAGGERS.items() if spec.pretrained]


def check_taggers(tagger_ids: Iterable[str]) -> None:
    """An unknown id is a one-line error suggesting the offered taggers."""
    for tagger_id in tagger_ids:
        if tagger_id not in TAGGERS:
            raise UnknownNameError.suggest("tagger", tagger_id, pretrained())


def warn_untrained(tagger_ids: Iterable[str]) -> None:
    """A warning per untrained test tagger, once the command line is known to be good (so a bad one
    stays one error line)."""
    for tagger_id in tagger_ids:
        if not TAGGERS[tagger_id].pretrained:
            logger.warning("%s is an untrained test tagger (random weights): its tags mean nothing", tagger_id)


def able(source: str, tagger_ids: Iterable[str] | None = None) -> list[str]:
    """The taggers among ``tagger_ids`` (default: the pretrained ones) whose vocabulary has a tag for ``source``."""
    return [t for t in (pretrained() if tagger_ids is None else tagger_ids) if source_tags(source, config(t).vocabulary)]


def default_taggers(source: str) -> tuple[str, ...]:
    """The taggers the default ensemble steers ``source`` with, as :meth:`TaggerEnsemble.naming` chooses
    them: the default ones that can name it, else the pair it adds of the first vocabulary that can; () if none can."""
    return tuple(able(source, DEFAULT_TAGGERS) or fallback_pair(source))


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
