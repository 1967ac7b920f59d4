"""Instrument ranges: an instrument sounds nothing below its lowest note.

A decomposition of the mixture often holds a bass note and a higher instrument's note in one
component (they sound together), and the labelling gives that component, its low part
included, to the instrument. Whatever a source's estimate holds below the source's lowest note
(``lowest`` in ``tagbox/data/sources.json``: violin G3, cello C2, flute B3, guitar D2) can only
be another source's, so it goes to the rest. On both dev sets (45 stems with a lowest note,
three seeds) this gained +0.84 +- 0.17 dB SI-SDRi, 30 stems better and one worse (flute +2.2,
violin +1.7, guitar +0.3); with every source of a track requested jointly, +0.30 +- 0.07 over 95
stems (seed 0). Handing it instead to the other requested sources and the rest, as each holds it,
gave the cello +0.48 and cost the others 0.04-0.11 dB: +0.01 +- 0.03 overall, so the rest takes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tagbox.masks import STFT
from tagbox.sources import lowest_frequency

# The NMF latent's resolution: about 21 Hz per bin at 44.1 kHz, fine enough for a cello's C2.
N_FFT = 2048
HOP_LENGTH = 512
SEMITONE = 2 ** (1 / 12)


def floor(frequencies: torch.Tensor, lowest: float) -> torch.Tensor:
    """Weights per frequency: 0 up to a semitone below ``lowest`` Hz (tuning and vibrato), rising
    linearly to 1 at it."""
    bottom = lowest / SEMITONE
    return ((frequencies - bottom) / (lowest - bottom)).clamp(0, 1)


def remove_below_range(estimates: torch.Tensor, rate: int, names: Sequence[str]) -> torch.Tensor:
    """``estimates (sources, ..., samples)`` of the sources ``names`` at ``rate``, each without what
    lies below its lowest note; a source without one is returned as it is."""
    lowest = [lowest_frequency(name) for name in names]
    if all(frequency is None for frequency in lowest):
        return estimates
    stft = STFT(N_FFT, HOP_LENGTH, device=estimates.device)
    frequencies = stft.frequencies(rate)
    bounded = estimates.clone()
    for index, frequency in enumerate(lowest):
        if frequency is not None:
            spec = stft(estimates[index])
            bounded[index] = stft.inverse(spec * floor(frequencies, frequency)[:, None], estimates.shape[-1])
    return bounded
