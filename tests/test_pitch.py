from __future__ import annotations

import math

import pytest
import torch

from tagbox.pitch import fundamentals

RATE, N_FFT = 44100, 2048
FREQUENCIES = torch.linspace(0, RATE / 2, N_FFT // 2 + 1)


def harmonic_spectrum(fundamental: float, harmonics: range, rolloff: float = 0.7) -> torch.Tensor:
    """A magnitude spectrum with a bump (about one bin wide) at each listed multiple."""
    spectrum = torch.zeros_like(FREQUENCIES)
    for h in harmonics:
        spectrum += rolloff ** (h - 1) * torch.exp(-0.5 * ((FREQUENCIES - h * fundamental) / 10.0) ** 2)
    return spectrum


def semitones(a: float, b: float) -> float:
    return abs(12 * math.log2(a / b))


@pytest.mark.parametrize("fundamental", [65.4, 196.0, 440.0, 1318.5])  # C2, G3, A4, E6
def test_a_harmonic_spectrum_sounds_at_its_fundamental_not_an_octave_off(fundamental):
    found = fundamentals(harmonic_spectrum(fundamental, range(1, 9))[:, None], FREQUENCIES)
    assert found.shape == (1,)
    assert semitones(float(found[0]), fundamental) < 0.5


def test_a_missing_fundamental_is_still_heard_from_its_harmonics():
    found = fundamentals(harmonic_spectrum(110.0, range(2, 10), rolloff=0.9)[:, None], FREQUENCIES)
    assert semitones(float(found[0]), 110.0) < 0.5


def test_each_column_gets_its_own_fundamental():
    spectra = torch.stack([harmonic_spectrum(f, range(1, 7)) for f in (98.0, 523.3, 261.6)], 1)
    found = fundamentals(spectra, FREQUENCIES)
    assert [round(12 * math.log2(float(f) / 440.0)) for f in found] == [-26, 3, -9]  # G2, C5, C4
