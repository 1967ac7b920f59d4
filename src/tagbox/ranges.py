"""Instrument ranges: an instrument sounds nothing below its lowest note.

A decomposition of the mixture often holds a bass note and a higher instrument's note in one
component (they sound together), and the labelling gives that component, its low part
included, to the instrument. Whatever a source's estimate holds below the source's lowest note
(``lowest`` in ``tagbox/data/sources.json``: violin G3, cello C2, flute B3, guitar D2) can only
be another source's, so it goes to the rest rather than to the other requested sources
(docs/decisions.md has both measured).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tagbox.masks import STFT

SEMITONE = 2 ** (1 / 12)


def floor(frequencies: torch.Tensor, lowest: float) -> torch.Tensor:
    """Weights per frequency: 0 up to a semitone below ``lowest`` Hz (tuning and vibrato), rising
    linearly to 1 at it."""
    bottom = lowest / SEMITONE
    return ((frequencies - bottom) / (lowest - bottom)).clamp(0, 1)


def remove_below_range(estimates: torch.Tensor, rate: int, lowest: Sequence[float | None], *, n_fft: int,
                       hop_length: int) -> torch.Tensor:
    """``estimates (sources, ..., samples)`` at ``rate``, each without what lies below its source's
    ``lowest`` note (Hz), filtered in an STFT of ``n_fft`` and ``hop_length`` (the NMF latent's
    2048 at 44.1 kHz is about 21 Hz a bin, fine enough for a cello's C2); a source without a
    lowest note is returned as it is."""
    if all(frequency is None for frequency in lowest):
        return estimates
    stft = STFT(n_fft, hop_length, device=estimates.device)
    frequencies = stft.frequencies(rate)
    bounded = estimates.clone()
    for index, frequency in enumerate(lowest):
        if frequency is not None:
            spec = stft(estimates[index])
            bounded[index] = stft.inverse(spec * floor(frequencies, frequency)[:, None], estimates.shape[-1])
    return bounded
