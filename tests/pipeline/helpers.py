"""Tiny cases for the stages: a fake tagger that hears low notes, and profiles that listen to it."""

from __future__ import annotations

import torch

from tagbox.objectives import TagTarget
from tagbox.pipeline import Segment, SourceProfile
from tagbox.steering import Steered

RATE = 16000


class LowBand:
    """A stand-in ensemble of one tagger, ``fake``, with two tags: the share of a clip's energy
    below 1 kHz, and the rest. It records the clips it hears."""

    ids = ["fake"]
    device = torch.device("cpu")

    def __init__(self) -> None:
        self.calls: list[int] = []

    def probabilities(self, clips: torch.Tensor, rate: int, tagger_ids=None) -> dict[str, torch.Tensor]:
        self.calls.append(clips.shape[0])
        spec = torch.fft.rfft(clips).abs() ** 2
        low = spec[:, : clips.shape[-1] * 1000 // rate].sum(-1)
        heard = 0.05 + 0.9 * low / (spec.sum(-1) + 1e-9)
        return {"fake": torch.stack([heard, 1 - heard], -1)}


def listening(name: str, tag: int = 0) -> Steered:
    """``name`` judged by the fake tagger's tag ``tag``."""
    target = torch.zeros(2)
    target[tag] = 1.0
    return Steered(name, {"fake": TagTarget(target=target, weight=torch.ones(2), positives=torch.tensor([tag]))})


def profile(name: str = "cello", *, tag: int = 0, **fields) -> SourceProfile:
    """A source heard by the fake tagger's tag ``tag``; no head, register or range unless given."""
    steered = listening(name, tag)
    return SourceProfile(**{"name": name, "canonical": name, "steered": steered, "listening": steered, "head": None,
                            "register": None, "lowest": None, "steps": 0, **fields})


def two_notes(seconds: float = 1.0) -> torch.Tensor:
    """A low note, then a high one: two components the fake tagger tells apart."""
    t = torch.arange(int(RATE * seconds)) / RATE
    return torch.sin(2 * torch.pi * 220 * t) * (t < seconds / 2) + 0.7 * torch.sin(2 * torch.pi * 3000 * t) * (t >= seconds / 2)


def segment(mono: torch.Tensor, *sources: SourceProfile) -> Segment:
    return Segment.of(mono[None], RATE, 0, tuple(sources))


def low_share(parts: torch.Tensor) -> list[float]:
    """Each clip's share of energy below 1 kHz."""
    spec = torch.fft.rfft(parts).abs() ** 2
    return (spec[:, : parts.shape[-1] * 1000 // RATE].sum(-1) / spec.sum(-1)).tolist()
