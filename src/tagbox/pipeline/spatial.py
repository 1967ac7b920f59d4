"""Where a component sits in a stereo mix: a cue recordings hold and no tagger gives.

Recorded mixes pan instruments to places. Each NMF component of the downmix, masked out of the
left and the right channel, has a level balance between them, from -1 (left only) to 1 (right
only). A source sits where the components the labelling already believes in sit (their balance's
mean and spread, weighted by a softmax of the standardised evidence, as the register prior places
pitch); components far from there lose evidence. Mono input, and channels without level
differences between components, hold no position: the stage then leaves the evidence as it is,
so such input is separated exactly as mono.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import torch

from tagbox.latents import NMFLatent
from tagbox.pipeline.labelling import standardised
from tagbox.pipeline.state import Run, RunStage, Segment, Tools


def balance(latent: NMFLatent, channels: torch.Tensor) -> torch.Tensor:
    """Each component's level balance ``(K,)`` between the two ``channels (2, T)``: its Wiener
    mask's energy in the right channel minus the left's, over both."""
    power = latent.stfts[0](channels).abs() ** 2  # (2, F, N)
    energy = torch.stack([(latent.component_mask(k) ** 2 * power).sum((-2, -1)) for k in range(latent.H.shape[0])])
    return (energy[:, 1] - energy[:, 0]) / energy.sum(-1).clamp_min(1e-12)


@dataclass(frozen=True)
class PositionPrior(RunStage):
    """Each source's evidence, standardised, minus ``weight`` times each component's squared
    distance (in spreads, at most :attr:`MOST_DISTANCE`) from where the source sits in the mix."""

    name: ClassVar[str] = "position_prior"
    weight: float

    LEAST_SPREAD: ClassVar[float] = 0.05  # balance units: one place's components would otherwise make it a point
    MOST_DISTANCE: ClassVar[float] = 3.0  # spreads: beyond, a component simply sits elsewhere
    UNPANNED: ClassVar[float] = 1e-3  # a spread of the components' balances below this holds no cue

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        evidence = run.evidence
        if segment.piece.shape[0] != 2 or evidence.shape[-1] < 2:
            return run
        balances = balance(run.latent, segment.piece / segment.peak)
        if balances.std() < self.UNPANNED:
            return run
        standard = standardised(evidence)
        placed = evidence.clone()
        for index in range(evidence.shape[0]):
            belief = torch.softmax(standard[index], 0)
            middle = (belief * balances).sum()
            spread = (belief * (balances - middle) ** 2).sum().sqrt().clamp(min=self.LEAST_SPREAD)
            distance = ((balances - middle) / spread).clamp(-self.MOST_DISTANCE, self.MOST_DISTANCE)
            placed[index] = standard[index] - self.weight * distance**2
        return replace(run, evidence=placed)
