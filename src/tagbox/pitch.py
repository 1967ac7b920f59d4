"""The pitch a spectrum sounds at: subharmonic summation over its harmonics.

An NMF component of a pitched instrument is mostly one note (or a few): a spectral template
with peaks at the multiples of its fundamental. The fundamental tells which register the
component sits in, which the taggers, who hear timbre, do not weigh: a cello's notes and a
violin's can sound alike to them but lie octaves apart (:mod:`tagbox.pipeline.priors`).
"""

from __future__ import annotations

import math

import torch

LOWEST = 30.0  # Hz: below a bass guitar's low B (31 Hz)
HIGHEST = 4200.0  # Hz: above a piano's top C (4186 Hz)
HARMONICS = 10
DECAY = 0.85  # each harmonic counts this much less than the one below: the true fundamental
# outscores its lower octave, whose odd multiples fall between the peaks
STEPS_PER_SEMITONE = 4


def fundamentals(spectra: torch.Tensor, frequencies: torch.Tensor) -> torch.Tensor:
    """The fundamental in Hz of each magnitude spectrum ``spectra (freq, K)`` whose bins lie at
    ``frequencies (freq,)`` Hz (evenly spaced from 0): the candidate between :data:`LOWEST` and
    :data:`HIGHEST`, in quarter semitones, whose first :data:`HARMONICS` multiples hold the most of
    the spectrum (square-root compressed, so that one loud partial does not decide)."""
    bins = spectra.shape[0]
    step = float(frequencies[1] - frequencies[0])
    count = int(12 * STEPS_PER_SEMITONE * math.log2(HIGHEST / LOWEST)) + 1
    candidates = LOWEST * 2 ** (torch.arange(count, device=spectra.device) / (12 * STEPS_PER_SEMITONE))
    compressed = spectra.clamp(min=0).sqrt()
    compressed = compressed / (compressed.sum(0, keepdim=True) + 1e-12)
    position = candidates[:, None] * torch.arange(1, HARMONICS + 1, device=spectra.device) / step  # (C, H) in bins
    below = position.floor().long().clamp(max=bins - 2)
    fraction = (position - below)[..., None]
    inside = (position < bins - 1)[..., None]
    heard = (compressed[below] * (1 - fraction) + compressed[below + 1] * fraction) * inside  # (C, H, K)
    weights = DECAY ** torch.arange(HARMONICS, device=spectra.device, dtype=spectra.dtype)
    salience = (heard * weights[:, None]).sum(1)  # (C, K)
    return candidates[salience.argmax(0)]
