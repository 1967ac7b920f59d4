"""The stages around the labelling: competitors, decompose, flat gains, refine, apply, range floor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import torch

from tagbox.latents import LatentOptions, LatentSpace
from tagbox.latents.base import gain_logit
from tagbox.pipeline.labelling import hearing
from tagbox.pipeline.profile import SourceProfile
from tagbox.pipeline.state import Run, RunStage, Segment, Tools
from tagbox.ranges import remove_below_range
from tagbox.steering import steer, steering_loss


@dataclass(frozen=True)
class Competitors:
    """Sources nobody asked for join the segment where the taggers hear them in its mixture (at
    least ``threshold``): what a competitor takes, the requested sources no longer hold."""

    name: ClassVar[str] = "competitors"
    rivals: tuple[SourceProfile, ...]
    threshold: float

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        heard = hearing(tools.ensemble, segment.rate, self.rivals)(segment.mono[None]).sources[:, 0]
        joined = tuple(rival for rival, probability in zip(self.rivals, heard.tolist()) if probability >= self.threshold)
        return replace(segment, sources=segment.sources + joined)


@dataclass(frozen=True)
class Decompose:
    """One latent space per run on the segment's downmix, each from its own seed: for the ``nmf``
    latent a KL-NMF of the mixture, for another space its own start (the ``vqvae`` latent encodes)."""

    name: ClassVar[str] = "decompose"
    space: type[LatentSpace]
    options: LatentOptions
    seeds: tuple[int, ...]

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        return replace(segment, runs=tuple(
            Run(seed, self.space(segment.mono, segment.rate, self.options, model=tools.model,
                                 sources=len(segment.sources), seed=seed).to(segment.piece.device))
            for seed in self.seeds))


@dataclass(frozen=True)
class FlatGains(RunStage):
    """The flat start: a single source's gains all at ``gain`` (several sources start equal), for
    steering to pull towards the source."""

    name: ClassVar[str] = "flat_gains"
    gain: float

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        if len(segment.sources) == 1:
            logits = torch.zeros_like(run.latent.gain_logits)
            logits[0] = gain_logit(self.gain)
            run.latent.start(logits)
        return run


@dataclass(frozen=True)
class Refine:
    """Adam moves each run's latent so that the taggers hear each source in its estimate; a source
    stops counting after its own steps (from the tagged start the objective is aligned for drums
    only). The tagger windows are drawn from a generator seeded by the run's seed plus the
    segment's index, so a segment's result does not depend on the ones before it."""

    name: ClassVar[str] = "refine"
    lr: float
    average: int = 0  # end at the mean of the last ``average`` steps' parameters
    judge_rest: bool = False  # the taggers also hear what the estimates leave, pushed towards no source

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        for number, run in enumerate(segment.runs):
            loss = StepLoss(tools, segment, torch.Generator(device="cpu").manual_seed(run.seed + segment.index))

            def on_step(step: int, value: float, heard: dict[str, float], number: int = number) -> None:
                if tools.on_step is not None:
                    tools.on_step({"segment": segment.index, "run": number, "step": step, "loss": value,
                                   "probabilities": heard})

            steer(run.latent, loss, steps=max(source.steps for source in segment.sources), lr=self.lr,
                  average=self.average, judge_rest=self.judge_rest, on_step=on_step)
        return segment


@dataclass(frozen=True)
class StepLoss:
    """The objective of one step: every source still within its steps, judged by its taggers."""

    tools: Tools
    segment: Segment
    rng: torch.Generator

    def __call__(self, step: int, estimates: torch.Tensor,
                 rest: torch.Tensor | None) -> tuple[torch.Tensor, dict[str, float]]:
        active = [index for index, source in enumerate(self.segment.sources) if step < source.steps]
        return steering_loss(self.tools.ensemble, estimates[active], self.segment.rate,
                             [self.segment.sources[index].steered for index in active], self.rng, rest)


@dataclass(frozen=True)
class Apply:
    """Each run's final state applied to every channel of the segment; the runs' estimates of the
    requested sources averaged (runs differ in their decomposition and tagger windows)."""

    name: ClassVar[str] = "apply"

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        # Masks are scale-invariant; the scale matters only for decoded audio (no-mask mode).
        piece = segment.piece / segment.peak
        estimate = torch.stack([run.latent.apply(piece)[: segment.requested] * segment.peak for run in segment.runs])
        return replace(segment, estimate=estimate.mean(0))


@dataclass(frozen=True)
class RangeFloor:
    """Nothing below a source's lowest note stays in its estimate (:mod:`tagbox.ranges`), at the
    decomposition's own resolution."""

    name: ClassVar[str] = "range_floor"
    n_fft: int
    hop_length: int

    def __call__(self, segment: Segment, tools: Tools) -> Segment:
        lowest = [source.lowest for source in segment.sources[: segment.requested]]
        return replace(segment, estimate=remove_below_range(segment.estimate, segment.rate, lowest,
                                                            n_fft=self.n_fft, hop_length=self.hop_length))
