"""Overlap-add: run a per-segment function over a long signal and cross-fade the results.

Long files are steered in segments so that memory stays flat in track length (a latent, its
optimiser state and the taggers' activations exist for one segment at a time). Any function
``(piece (C, T), index) -> (outputs, C, T)`` can be applied this way; the linear fades over the
overlaps sum to one, so a function that returns its input returns the whole signal.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def segment_starts(samples: int, rate: int, segment: float | None, overlap: float) -> tuple[list[int], int]:
    """Start offsets and length of the segments covering ``samples`` (one segment if it fits)."""
    if segment is None or samples <= segment * rate:
        return [0], samples
    length = int(segment * rate)
    hop = max(1, int(length * (1 - overlap)))
    return list(range(0, samples - length, hop)) + [samples - length], length


def crossfade(
    length: int, ramp: int, *, first: bool, last: bool, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Weights of one segment: linear fades of ``ramp`` samples, flat where it has no neighbour."""
    fade = torch.ones(length, device=device)
    ramp = min(length // 2, ramp)
    if ramp > 0:
        line = torch.linspace(0, 1, ramp + 2, device=device)[1:-1]
        if not first:
            fade[:ramp] = line
        if not last:
            fade[-ramp:] = line.flip(0)
    return fade


def overlap_add(
    function: Callable[[torch.Tensor, int], torch.Tensor],
    signal: torch.Tensor,
    rate: int,
    *,
    outputs: int,
    segment: float | None,
    overlap: float,
) -> torch.Tensor:
    """``function`` applied to each segment of ``signal (C, T)``, cross-faded: ``(outputs, C, T)``."""
    starts, length = segment_starts(signal.shape[-1], rate, segment, overlap)
    ramp = 0 if segment is None else int(segment * rate * overlap)
    total = torch.zeros(outputs, *signal.shape, device=signal.device)
    weight = torch.zeros(signal.shape[-1], device=signal.device)
    for index, offset in enumerate(starts):
        piece = signal[:, offset: offset + length]
        fade = crossfade(piece.shape[-1], ramp, first=index == 0, last=index == len(starts) - 1, device=signal.device)
        total[..., offset: offset + piece.shape[-1]] += function(piece, index) * fade
        weight[offset: offset + piece.shape[-1]] += fade
    return total / weight.clamp_min(1e-8)


def segment_count(samples: int, rate: int, segment: float | None, overlap: float) -> int:
    """How many segments :func:`overlap_add` will call its function on (for progress bars)."""
    return len(segment_starts(samples, rate, segment, overlap)[0])
