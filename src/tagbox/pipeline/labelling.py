"""The tagged start's labelling stages: listen, evidence, share, start gains.

Steering every gain from one flat start lets the taggers pick a caricature of the source: a few
components that raise its tags most (``shared/research/probe-turn2.md``). Here the taggers only
listen, twice per component: to the component alone, and to the mixture without it. A component
that sounds more like the source than the mixture does, and whose removal makes the mixture
sound less like it, is likely part of it; the two log-odds differences are summed into one
evidence per source and component (:class:`Evidence`), components the taggers hear alike pool
it (:class:`Share`), and a soft start (never 0 or 1) is made from it (:class:`StartGains`), so
that a refinement that follows can still move every gain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, NamedTuple, Protocol

import torch

from tagbox.pipeline.state import Run, RunStage, Segment, Tools
from tagbox.taggers.ensemble import TaggerEnsemble

if TYPE_CHECKING:
    from tagbox.pipeline.profile import SourceProfile


class Hearing(NamedTuple):
    """What the taggers hear in a batch of clips."""

    sources: torch.Tensor  # (sources, B): each source's target probability in each clip
    tags: dict[str, torch.Tensor]  # tagger id -> (B, tags): every tag's probability, per listening tagger


class Hear(Protocol):
    """``hear(clips (B, samples))``: what the taggers hear in each clip. With ``alone`` (the
    clips are the components heard alone, the only clips whose tags are read), the taggers that
    only describe them listen too: a fragment head's, which judges no source's probability."""

    def __call__(self, clips: torch.Tensor, *, alone: bool = False) -> Hearing: ...

# Start logits stay within +-BOUND (gains 0.05..0.95): still soft enough for a refinement to
# move; clipping cost 0.02 dB on the dev sets' forward-only estimates.
BOUND = 3.0


def log_odds(p: torch.Tensor) -> torch.Tensor:
    """``log(p / (1 - p))``, finite for probabilities of 0 and 1."""
    p = p.clamp(1e-6, 1 - 1e-6)
    return p.log() - (-p).log1p()


@dataclass
class Heard:
    """What the taggers hear of each source ``(sources, ...)``: in the whole mixture, in each
    component alone, and in the mixture without each component; and every tag of each component
    alone (tagger id -> ``(K, tags)``), how it sounds whatever the sources."""

    whole: torch.Tensor
    alone: torch.Tensor
    without: torch.Tensor
    tags: dict[str, torch.Tensor]

    @classmethod
    @torch.no_grad()
    def listen(cls, components: torch.Tensor, mixture: torch.Tensor, hear: Hear) -> "Heard":
        """Hear ``components (K, samples)``, which sum to ``mixture (samples,)``."""
        whole, alone = hear(mixture[None]), hear(components, alone=True)
        return cls(whole=whole.sources, alone=alone.sources, without=hear(mixture[None] - components).sources,
                   tags=alone.tags)

    def evidence(self, *, removal_weight: float) -> torch.Tensor:
        """Evidence ``(sources, K)`` that each component belongs to each source, in log-odds: the
        component alone vs the mixture, plus ``removal_weight`` times the mixture vs the mixture
        without it (one component of many changes the mixture's tags little, hence the weight)."""
        whole = log_odds(self.whole)
        return (log_odds(self.alone) - whole) + removal_weight * (whole - log_odds(self.without))


def standardised(evidence: torch.Tensor) -> torch.Tensor:
    """Each source's evidence ``(sources, K)`` over its components: mean 0, spread 1. How strongly
    the taggers separate the components differs by source and track; the contrast carries over."""
    return (evidence - evidence.mean(-1, keepdim=True)) / (evidence.std(-1, keepdim=True) + 1e-6)


def hearing(ensemble: TaggerEnsemble, rate: int, sources: Sequence[SourceProfile]) -> Hear:
    """``hear(clips (B, samples) at rate)``: each source's probability in each clip, by its
    listening taggers (those of the shortest window), and every tag of the taggers that heard it,
    every window heard (no random draw), forward only. With ``alone``, the taggers whose tags the
    sources' fragment heads read listen too."""
    judging = {tagger_id for source in sources for tagger_id in source.listening.targets}
    describing = judging | {source.head.tagger for source in sources if source.head is not None}

    def hear(clips: torch.Tensor, *, alone: bool = False) -> Hearing:
        probs = ensemble.probabilities(clips, rate, describing if alone else judging)
        return Hearing(torch.stack([source.listening.probability(probs) for source in sources]), probs)

    return hear


def share(evidence: torch.Tensor, tags: Mapping[str, torch.Tensor], *, temperature: float) -> torch.Tensor:
    """Each component's evidence ``(sources, K)``, standardised and averaged with that of the
    components that sound like it.

    One note or onset of an instrument, heard alone, is weak evidence; the taggers hear the
    instrument's other components alike, whatever source was asked for, so pooling their evidence
    steadies it. Likeness is the cosine between the components' tag log-odds ``tags`` (tagger id
    -> ``(K, tags)``, every tagger's side by side, centred over the components); each component's
    weights over all of them, itself included (cosine 1, the largest), are a softmax at
    ``temperature``, so a component unlike the others
    keeps its own evidence (the lower the temperature, the more). Likeness from the components'
    spectra or activations gained less (docs/decisions.md).
    """
    if evidence.shape[-1] < 2:
        return evidence
    standard = standardised(evidence)
    features = log_odds(torch.cat(list(tags.values()), -1))
    features = features - features.mean(0, keepdim=True)
    features = features / (features.norm(dim=-1, keepdim=True) + 1e-8)
    return standard @ torch.softmax(features @ features.T / temperature, -1).T


def start_logits(evidence: torch.Tensor, *, slope: float, offset: float) -> torch.Tensor:
    """Gain logits ``(sources + 1, K)`` for a softmax over the sources and the rest (last, at 0).

    Each source's evidence is standardised over the components (minus its median, over its
    spread): how strongly the taggers separate the components differs by source and track
    (drums clearly, strings barely), and only the ranking and its contrast carry over. For one
    source a component's gain is ``sigmoid(slope * standardised + offset)``, within +-:data:`BOUND`.
    """
    centred = evidence - evidence.median(-1, keepdim=True).values
    standard = centred / (evidence.std(-1, keepdim=True) + 1e-6)
    logits = (slope * standard + offset).clamp(-BOUND, BOUND)
    return torch.cat([logits, torch.zeros_like(logits[:1])])


@dataclass(frozen=True)
class Listen(RunStage):
    """Each run's components heard alone, and the mixture without each (:class:`Heard`)."""

    name: ClassVar[str] = "listen"

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        hear = hearing(tools.ensemble, segment.rate, segment.sources)
        return replace(segment, runs=tuple(
            replace(run, heard=Heard.listen(run.latent.components(), segment.mono, hear)) for run in segment.runs))


@dataclass(frozen=True)
class Evidence(RunStage):
    """What was heard as evidence in log-odds (:meth:`Heard.evidence`)."""

    name: ClassVar[str] = "evidence"
    removal_weight: float

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        return replace(run, evidence=run.heard.evidence(removal_weight=self.removal_weight))


@dataclass(frozen=True)
class Share(RunStage):
    """Components heard alike pool their evidence (:func:`share`)."""

    name: ClassVar[str] = "share"
    temperature: float

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        return replace(run, evidence=share(run.evidence, run.heard.tags, temperature=self.temperature))


@dataclass(frozen=True)
class StartGains(RunStage):
    """Each run's latent starts at the gains its evidence gives (:func:`start_logits`)."""

    name: ClassVar[str] = "start_gains"
    slope: float
    offset: float

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        run.latent.start(start_logits(run.evidence, slope=self.slope, offset=self.offset))
        return run
