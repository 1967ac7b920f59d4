"""Fragments: what one component of a source sounds like to a tagger, learned from isolated renders.

The taggers know whole recordings; one NMF component of a cello, a note or a few heard alone,
sounds to MTAT musicnn more like a guitar or strings than a cello, so the source's own tag
says little about it. Across all fifty tags it says more: per source, a logistic regression
from a component's tag log-odds to "a piece of this source" was fitted on NMF components of
isolated renders of General MIDI instruments with a soundfont other than the dev sets'
(``scripts/train_fragment_heads.py``; ``tagbox/data/fragments.json``). No mixture and no
separation target went into it. Its standardised output is added to each source's standardised
evidence, at ``weight``; sources without a head (drums, raw tags) keep theirs. At 0.5, `tagbox
eval` over both dev sets (whose soundfonts the heads never heard) gained +0.36 +- 0.11 dB on the
71 stems other than drums (three seeds averaged; cello +0.8, electric guitar +0.8, synth +0.7,
strings +0.4; flute -0.1, piano and violin level). Bass, which MTAT cannot name and the Jamendo
taggers that label it barely hear, has a head over MTAT musicnn's tags too: +1.12 +- 0.38 dB
over its 27 stems (from +0.4 to +1.5).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import torch

from tagbox.latents.labelling import log_odds, standardised


@dataclass(frozen=True)
class FragmentHead:
    """One source's head: ``weights (tags,)`` and ``bias`` over the log-odds of ``tagger``'s tags."""

    tagger: str
    weights: tuple[float, ...]
    bias: float

    @classmethod
    def of(cls, name: str) -> "FragmentHead | None":
        """The head of source ``name`` (canonical), None where none was fitted."""
        return _heads().get(name)

    def __call__(self, tags: torch.Tensor) -> torch.Tensor:
        """How much each of ``tags (K, tags)`` (probabilities) sounds like a piece of the source, in logits ``(K,)``."""
        return log_odds(tags) @ torch.tensor(self.weights, dtype=tags.dtype, device=tags.device) + self.bias


@lru_cache(maxsize=None)
def _heads() -> dict[str, FragmentHead]:
    document = json.loads(resources.files("tagbox.data").joinpath("fragments.json").read_text())
    return {name: FragmentHead(document["tagger"], tuple(head["weights"]), head["bias"])
            for name, head in document["heads"].items()}


def with_fragments(evidence: torch.Tensor, tags: Mapping[str, torch.Tensor], heads: Sequence[FragmentHead | None], *,
                   weight: float) -> torch.Tensor:
    """Each source's evidence ``(sources, K)``, standardised, plus ``weight`` times its head's
    standardised output on the components' ``tags`` (tagger id -> ``(K, tags)``). Rows without a
    head, or whose head's tagger did not listen, and every row at ``weight`` 0, are unchanged."""
    if weight == 0 or evidence.shape[-1] < 2:
        return evidence
    combined = evidence.clone()
    for index, head in enumerate(heads):
        if head is None or head.tagger not in tags:
            continue
        combined[index] = standardised(evidence[index]) + weight * standardised(head(tags[head.tagger]))
    return combined
