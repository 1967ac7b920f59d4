"""The position prior: where components sit in a stereo mix."""

from __future__ import annotations

import dataclasses

import torch

from tagbox.latents import NMFLatent, NMFOptions
from tagbox.pipeline import Segment, Tools
from tagbox.pipeline.spatial import PositionPrior, balance
from tagbox.pipeline.stages import Decompose
from tests.pipeline.helpers import RATE, LowBand, profile


def _three_notes(pans: tuple[float, float, float]) -> torch.Tensor:
    """Three notes one after the other, each at its pan (0 left, 1 right): ``(2, T)``."""
    t = torch.arange(RATE) / RATE
    third = (t * 3).long()
    notes = [torch.sin(2 * torch.pi * f * t) * (third == i) for i, f in enumerate((220.0, 247.0, 1760.0))]
    return torch.stack([sum((1 - pan) * note for pan, note in zip(pans, notes)),
                        sum(pan * note for pan, note in zip(pans, notes))])


def _decomposed(piece: torch.Tensor, evidence: torch.Tensor):
    state = Decompose(NMFLatent, NMFOptions(components=3), (0,))(Segment.of(piece, RATE, 0, (profile("cello"),)),
                                                                 Tools(LowBand()))
    return dataclasses.replace(state, runs=(dataclasses.replace(state.runs[0], evidence=evidence),))


def test_a_component_panned_away_from_the_believed_ones_loses_evidence():
    state = _decomposed(_three_notes((0.1, 0.1, 0.9)), torch.zeros(1, 3))
    balances = balance(state.runs[0].latent, state.piece / state.peak)
    right = int(balances.argmax())
    assert balances[right] > 0.5 and (balances[torch.arange(3) != right] < -0.5).all()
    evidence = torch.ones(1, 3)
    evidence[0, right] = 0.9  # believed a little less than the two on the left
    state = dataclasses.replace(state, runs=(dataclasses.replace(state.runs[0], evidence=evidence),))
    placed = PositionPrior(0.25).run(state.runs[0], state, None).evidence
    others = [k for k in range(3) if k != right]
    assert placed[0, right] < min(placed[0, k] for k in others) - 0.5


def test_mono_and_identical_channels_keep_their_evidence():
    evidence = torch.tensor([[2.0, -1.0, 0.5]])
    centred = _decomposed(_three_notes((0.5, 0.5, 0.5)), evidence)
    assert PositionPrior(0.25).run(centred.runs[0], centred, None).evidence is evidence
    mono = _decomposed(_three_notes((0.5, 0.5, 0.5))[:1], evidence)
    assert PositionPrior(0.25).run(mono.runs[0], mono, None).evidence is evidence
