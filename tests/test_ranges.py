from __future__ import annotations

import math

import pytest
import torch

from tagbox.ranges import floor, remove_below_range
from tagbox.sources import lowest_frequency

RATE = 16000
RESOLUTION = dict(n_fft=2048, hop_length=512)  # the NMF latent's


def lowest(*names: str) -> list[float | None]:
    return [lowest_frequency(name) for name in names]


def tone(frequency: float, seconds: float = 2.0) -> torch.Tensor:
    t = torch.arange(int(RATE * seconds)) / RATE
    return torch.sin(2 * math.pi * frequency * t)


def level_at(x: torch.Tensor, frequency: float) -> float:
    """Amplitude of ``x``'s sinusoid at ``frequency`` (a whole number of cycles fits in 2 s)."""
    spectrum = torch.fft.rfft(x).abs() / (x.shape[-1] / 2)
    return spectrum[..., round(frequency * x.shape[-1] / RATE)].max().item()


def test_the_floor_rises_over_the_semitone_below_the_lowest_note():
    frequencies = torch.tensor([0.0, 180.0, 196.0 / 2 ** (1 / 12), 190.5, 196.0, 2000.0])
    weights = floor(frequencies, 196.0)
    assert weights[:3].tolist() == [0.0, 0.0, 0.0] and weights[4:].tolist() == [1.0, 1.0]
    assert 0 < weights[3] < 1


def test_what_lies_below_a_sources_lowest_note_leaves_its_estimate_only():
    mixture = (tone(100.0) + tone(440.0))[None]  # a bass note under a violin's A4
    estimates = torch.stack([0.5 * mixture, 0.25 * mixture])  # violin, piano; the rest holds 0.25
    bounded = remove_below_range(estimates, RATE, lowest("violin", "piano"), **RESOLUTION)
    assert bounded.shape == estimates.shape
    assert level_at(bounded[0], 100.0) < 0.01 and level_at(bounded[0], 440.0) == pytest.approx(0.5, abs=0.02)
    torch.testing.assert_close(bounded[1], estimates[1])  # a piano has no lowest note
    rest = mixture - bounded.sum(0)  # so the rest takes the violin's 0.5 at 100 Hz
    assert level_at(rest, 100.0) == pytest.approx(0.75, abs=0.02) and level_at(rest, 440.0) == pytest.approx(0.25, abs=0.02)


def test_sources_without_lowest_notes_are_returned_untouched():
    estimates = torch.randn(2, 2, RATE)
    assert remove_below_range(estimates, RATE, lowest("drums", "synth"), **RESOLUTION) is estimates


@pytest.mark.parametrize("source", ["cello", "flute", "electric_guitar"])
def test_a_note_just_above_the_lowest_is_kept(source):
    # A little above the lowest note: 2048-point frames at 16 kHz have 7.8 Hz bins, so the
    # lowest note's own bin straddles the ramp.
    frequency = round(lowest_frequency(source) * 1.1)
    note = tone(frequency)[None]
    assert level_at(remove_below_range(note[None], RATE, lowest(source), **RESOLUTION)[0], frequency) == pytest.approx(1.0, abs=0.05)
