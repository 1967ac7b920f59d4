"""What the stages pass along: one segment of the mixture, its runs, and the tools they share.

A stage maps a :class:`Segment` to the next; a stage that works on each run alone (a
:class:`RunStage`) maps each of the segment's :class:`Run` s. States are frozen, so a recorded
state stays what it was when the next stage moved on (a run's latent is the one exception:
steering moves its parameters in place).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import torch

from tagbox.latents import LatentSpace
from tagbox.taggers.ensemble import TaggerEnsemble

if TYPE_CHECKING:
    from tagbox.pipeline.labelling import Heard
    from tagbox.pipeline.profile import SourceProfile


@dataclass(frozen=True)
class Tools:
    """What every stage may use and none owns: the taggers, the latent's model, and the hooks
    that report steps (``on_step(record)``) and stages (``on_stage(segment index, stage name)``)."""

    ensemble: TaggerEnsemble
    model: Any = None
    on_step: Callable[[dict], None] | None = None
    on_stage: Callable[[int, str], None] | None = None


@dataclass(frozen=True)
class Run:
    """One decomposition of a segment (its seed) and what the stages made of it."""

    seed: int
    latent: LatentSpace
    heard: Heard | None = None  # what the taggers hear in each component (listen)
    evidence: torch.Tensor | None = None  # (sources, K): that each component belongs to each source


@dataclass(frozen=True)
class Segment:
    """One segment of the mixture on its way through the stages."""

    piece: torch.Tensor  # (C, T): the input's channels
    mono: torch.Tensor  # (T,): the peak-normalised downmix the latents work on and the taggers hear
    peak: torch.Tensor  # the downmix's peak, 0 for silence
    rate: int
    index: int  # position in the input: seeds the tagger windows, so a segment does not depend on the ones before
    sources: tuple[SourceProfile, ...]  # the requested ones first, then the competitors that joined
    requested: int  # how many of ``sources`` were requested (and are returned)
    runs: tuple[Run, ...] = ()
    estimate: torch.Tensor | None = None  # (requested, C, T)
    presence: torch.Tensor | None = None  # (requested,): the probability that each source plays here

    @classmethod
    def of(cls, piece: torch.Tensor, rate: int, index: int, sources: tuple[SourceProfile, ...]) -> "Segment":
        mono = piece.mean(0)
        peak = mono.abs().max()
        return cls(piece, mono / peak if peak > 0 else mono, peak, rate, index, sources, len(sources))


class Stage(Protocol):
    """A step of the pipeline: a frozen dataclass of its own settings, called on a segment."""

    name: ClassVar[str]

    def __call__(self, segment: Segment, tools: Tools) -> Segment: ...


class RunStage:
    """A stage that treats each run of a segment alone (:meth:`run`)."""

    name: ClassVar[str]

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        return replace(segment, runs=tuple(self.run(run, segment, tools) for run in segment.runs))

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        raise NotImplementedError
