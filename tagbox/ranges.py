"""Instrument ranges: an instrument sounds nothing below its lowest note.

A decomposition of the mixture often holds a bass note and a higher instrument's note in one
component (they sound together), and the labelling gives that component, its low part
included, to the instrument. Whatever a source's estimate holds below the source's lowest note
(``lowest`` in ``tagbox/data/sources.json``: violin G3, cello C2, flute B3, guitar D2) can only
be another part's: it goes to the other requested sources and the rest, in the proportion each
already holds at that frequency and time (a single request's rest takes it all). On both dev
sets (45 stems with a lowest note, two seeds) this gained +0.80 +- 0.16 dB SI-SDRi, 30 stems
better and one worse (flute +2.2, violin +1.6, guitar +0.3).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tagbox.masks import EPS, STFT
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


def keep_within_ranges(estimates: torch.Tensor, mixture: torch.Tensor, rate: int, names: Sequence[str]) -> torch.Tensor:
    """``estimates (sources, channels, samples)`` of the sources ``names`` in ``mixture (channels,
    samples)`` at ``rate``, each without what lies below its lowest note, which goes to the other
    sources and the rest (``mixture - estimates.sum(0)``) in proportion to their magnitudes.
    Estimates and rest still sum to the mixture; without any lowest note they are returned as
    they are."""
    lowest = [lowest_frequency(name) for name in names]
    if all(frequency is None for frequency in lowest):
        return estimates
    stft = STFT(N_FFT, HOP_LENGTH, device=estimates.device)
    frequencies = stft.frequencies(rate)
    weights = torch.stack([
        torch.ones_like(frequencies) if frequency is None else floor(frequencies, frequency) for frequency in lowest
    ])[:, None, :, None]  # (sources, 1, freq, 1)
    specs = stft(estimates)
    rest = stft(mixture) - specs.sum(0)
    kept = specs * weights
    holders = torch.cat([kept.abs(), rest.abs()[None]])
    share = holders[:-1] / (holders.sum(0) + EPS)
    return stft.inverse(kept + (specs - kept).sum(0) * share, estimates.shape[-1])
