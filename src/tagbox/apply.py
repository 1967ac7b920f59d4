"""Overlap-add: run a per-segment function over a long signal and cross-fade the results.

Long files are steered in segments so that memory stays flat in track length (a latent, its
optimiser state and the taggers' activations exist for one segment at a time). Any function
``(piece (C, T), index) -> (outputs, C, T)`` can be applied this way; the linear fades over the
overlaps sum to one, so a function that returns its input returns the whole signal.
:func:`stream_overlap_add` reads the signal and releases the result region by region, so that
neither the input nor the output of a long file need be whole in memory.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


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
    total = torch.zeros(outputs, *signal.shape, device=signal.device)

    def keep(offset: int, region: torch.Tensor) -> None:
        total[..., offset: offset + region.shape[-1]] = region

    stream_overlap_add(function, lambda offset, count: signal[:, offset: offset + count], signal.shape[-1], rate,
                       segment=segment, overlap=overlap, sink=keep)
    return total


def stream_overlap_add(
    function: Callable[[torch.Tensor, int], torch.Tensor],
    read: Callable[[int, int], torch.Tensor],
    samples: int,
    rate: int,
    *,
    segment: float | None,
    overlap: float,
    sink: Callable[[int, torch.Tensor], None],
) -> None:
    """:func:`overlap_add` of a signal read piece by piece (``read(offset, count) -> (C, count)``),
    each finished region handed to ``sink(offset, region)`` as soon as no later segment overlaps it."""
    starts, length = segment_starts(samples, rate, segment, overlap)
    ramp = 0 if segment is None else int(segment * rate * overlap)
    pending = PendingSum()
    for index, offset in enumerate(starts):
        piece = read(offset, min(length, samples - offset))
        fade = crossfade(piece.shape[-1], ramp, first=index == 0, last=index == len(starts) - 1, device=piece.device)
        pending.add(offset, function(piece, index), fade)
        sink(*pending.release(starts[index + 1] if index + 1 < len(starts) else samples))


class PendingSum:
    """Faded segments summed from sample :attr:`start` on, not yet released.

    Segments start in increasing order, so everything before the next segment's start is final:
    :meth:`release` hands it over, and only the unfinished part (at most one segment) is kept.
    """

    def __init__(self) -> None:
        self.start = 0
        self.total: torch.Tensor | None = None
        self.weight: torch.Tensor | None = None

    def add(self, offset: int, estimate: torch.Tensor, fade: torch.Tensor) -> None:
        """Add ``estimate * fade`` at ``offset`` (never before what was released)."""
        if offset < self.start:
            raise ValueError(f"segment at {offset} starts before the released samples ({self.start})")
        if self.total is None:
            self.start = offset
            self.total = torch.zeros(*estimate.shape[:-1], 0, device=estimate.device)
            self.weight = torch.zeros(0, device=fade.device)
        index = offset - self.start
        missing = index + estimate.shape[-1] - self.total.shape[-1]
        if missing > 0:
            self.total = F.pad(self.total, (0, missing))
            self.weight = F.pad(self.weight, (0, missing))
        self.total[..., index: index + estimate.shape[-1]] += estimate * fade
        self.weight[index: index + estimate.shape[-1]] += fade

    def release(self, until: int) -> tuple[int, torch.Tensor]:
        """The offset of the finished samples ``[start, until)`` and those samples, normalised by their fades."""
        count = until - self.start
        region = self.total[..., :count] / self.weight[:count].clamp_min(1e-8)
        self.total, self.weight = self.total[..., count:].clone(), self.weight[count:].clone()
        offset, self.start = self.start, until
        return offset, region


def segment_count(samples: int, rate: int, segment: float | None, overlap: float) -> int:
    """How many segments :func:`overlap_add` will call its function on (for progress bars)."""
    return len(segment_starts(samples, rate, segment, overlap)[0])
