"""Presence: does a requested source play in this segment at all?

Asked for an instrument a track lacks, a query-based separator returns some other part of the
track: the taggers hear guitar, piano, strings or synth in many mixtures without them, so the
mixture's tag alone decides badly. More is known after labelling: whether one component alone
sounds like the source, whether a group stands out from the rest or the "source" is a smear of
weak components, what the fragment head makes of the components, and how much of the mixture the
labelled start holds. Per source, a logistic regression over those features (:func:`features`),
fitted on mixtures rendered from a soundfont no dev set uses (``scripts/train_presence_head.py``;
``tagbox/data/presence.json``), gives the probability that the source plays in the segment. Where
it is under the threshold, the segment's estimate of the source is silence. A source without a
fitted head (vocals, raw tags) is always taken as present here: the absent-source rule on the
whole file still applies to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import ClassVar

import torch

from tagbox.config import Output
from tagbox.pipeline.labelling import log_odds
from tagbox.pipeline.state import Run, Segment, Tools

FEATURES = ("mixture", "best_alone", "best_evidence", "standout", "head", "share")


@torch.no_grad()
def run_features(run: Run, segment: Segment, removal_weight: float) -> torch.Tensor:
    """One run's features ``(sources, len(FEATURES))``:

    - ``mixture``: the source's log-odds in the whole segment;
    - ``best_alone``: the highest log-odds of a component heard alone;
    - ``best_evidence``: the highest raw evidence of a component (alone vs mixture, plus the
      removal's, at ``removal_weight``);
    - ``standout``: how far that component's evidence stands above the others' (in spreads);
    - ``head``: the highest fragment-head logit of a component (0 for a source without a head);
    - ``share``: the part of the segment's energy the labelled start gives the source.
    """
    heard, latent = run.heard, run.latent
    evidence = heard.evidence(removal_weight=removal_weight)
    best = evidence.max(-1).values
    standout = (best - evidence.median(-1).values) / (evidence.std(-1) + 1e-6)
    head = torch.stack([source.head(heard.tags[source.head.tagger]).max() if source.head is not None
                        else torch.zeros((), device=evidence.device) for source in segment.sources])
    power = latent.reference_specs[0].abs() ** 2  # the segment's downmix, as the latent decomposed it
    energy = torch.stack([(latent.component_mask(k) ** 2 * power).sum() for k in range(latent.H.shape[0])])
    share = (latent.gains() @ energy) / energy.sum().clamp_min(1e-12)
    return torch.stack([log_odds(heard.whole[:, 0]), log_odds(heard.alone).max(-1).values, best, standout, head,
                        share], -1)


@dataclass(frozen=True)
class PresenceHead:
    """One source's logistic regression over the standardised :data:`FEATURES`."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    @classmethod
    def of(cls, name: str) -> "PresenceHead | None":
        """The head of source ``name`` (canonical), None where none was fitted."""
        return _heads().get(name)

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        """The probability that the source plays, for ``features (..., len(FEATURES))``."""
        mean, scale, weights = (torch.tensor(values, device=features.device) for values in (self.mean, self.scale, self.weights))
        return torch.sigmoid((features - mean) / scale @ weights + self.bias)


@lru_cache(maxsize=None)
def _heads() -> dict[str, PresenceHead]:
    document = json.loads(resources.files("tagbox.data").joinpath("presence.json").read_text())
    if tuple(document["features"]) != FEATURES:
        raise ValueError("tagbox/data/presence.json was fitted on other features: run scripts/train_presence_head.py")
    return {name: PresenceHead(tuple(head["mean"]), tuple(head["scale"]), tuple(head["weights"]), head["bias"])
            for name, head in document["heads"].items()}


@dataclass(frozen=True)
class Presence:
    """Each requested source's probability of playing in the segment, from the runs' features
    averaged; where ``output`` silences it (under its presence threshold; 0 keeps every estimate)
    its estimate there is silence."""

    name: ClassVar[str] = "presence"
    output: Output
    removal_weight: float

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        heads = [PresenceHead.of(source.canonical) for source in segment.sources[: segment.requested]]
        features = torch.stack([run_features(run, segment, self.removal_weight) for run in segment.runs]).mean(0)
        presence = torch.stack([head(row) if head is not None else torch.ones((), device=row.device)
                                for head, row in zip(heads, features)])
        kept = torch.tensor([not self.output.silences(p) for p in presence.tolist()], dtype=segment.estimate.dtype,
                            device=presence.device)
        return replace(segment, estimate=segment.estimate * kept.view(-1, *[1] * (segment.estimate.dim() - 1)),
                       presence=presence)
