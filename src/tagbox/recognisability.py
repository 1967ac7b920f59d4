"""Which taggers recognise which sources on their own, measured once on multitrack stems.

Steering pulls a source out only if the taggers hear it when it plays alone, and hear it better
alone than in the mixture. ``tagbox/data/recognisability.json`` holds that measurement per
tagger and source (made by ``bench/recognisability.py``; its header gives the rule and the
command); this module looks it up so the Separator can warn before a weak request runs.
Pairs the table does not cover (raw tags, sources absent from the stems, random-weight
taggers) are never warned about.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Sequence

from tagbox.sources import canonical_name


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, dict]]:
    """``{tagger_id: {source: {"n", "p_isolated", "p_mixture", "recognised"}}}``."""
    text = resources.files("tagbox").joinpath("data/recognisability.json").read_text()
    return json.loads(text)["taggers"]


def recognition(tagger_id: str, source: str) -> dict | None:
    """The measured entry of ``tagger_id`` hearing ``source`` alone, or None if not measured."""
    return table().get(tagger_id, {}).get(canonical_name(source))


def weakly_recognised(tagger_ids: Sequence[str], source: str) -> list[str]:
    """The ids among ``tagger_ids`` measured as not recognising ``source`` on its own."""
    return [
        tagger_id for tagger_id in tagger_ids
        if (entry := recognition(tagger_id, source)) is not None and not entry["recognised"]
    ]


def weak_recognition_warning(tagger_ids: Sequence[str], source: str) -> str | None:
    """A one-line warning when some of ``tagger_ids`` barely recognise ``source``, else None."""
    weak = weakly_recognised(tagger_ids, source)
    if not weak:
        return None
    who = "the chosen taggers" if len(weak) == len(tagger_ids) else "some chosen taggers"
    entries = {tagger_id: recognition(tagger_id, source) for tagger_id in weak}
    details = ", ".join(
        f"{tagger_id}: p={entry['p_isolated']:.2f} isolated, {entry['p_mixture']:.2f} in mixtures"
        for tagger_id, entry in entries.items()
    )
    return f"{who} barely recognise '{source}' on their own ({details}); expect weak separation"
