"""Stems of a long file, kept on disk while it is separated and finished block by block.

:meth:`Separator.stream_file` releases the estimates region by region; :class:`StemStream`
keeps them in float32 WAVs in a scratch folder. Once the whole file is known (whether a source
is absent, the peak the clip mode needs), :meth:`StemStream.blocks` reads the mixture and the
estimates back together in blocks, so the stems are written without the file ever being whole
in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

BLOCK_SECONDS = 10.0


class StemStream:
    """The estimates ``(sources, channels, samples)`` of one streamed separation, in ``folder``."""

    def __init__(self, folder: str | os.PathLike, sources: int, channels: int, sample_rate: int):
        self.sample_rate = sample_rate
        self.paths = [Path(folder) / f"estimate-{index}.wav" for index in range(sources)]
        self.handles = [sf.SoundFile(path, "w", sample_rate, channels, "FLOAT") for path in self.paths]

    def write(self, offset: int, region: torch.Tensor) -> None:
        """Append ``region (sources, channels, n)``, which starts at sample ``offset`` (a sink)."""
        for handle, estimate in zip(self.handles, region.detach().cpu().numpy()):
            if handle.tell() != offset:
                raise ValueError(f"regions must arrive in order: expected sample {handle.tell()}, got {offset}")
            handle.write(estimate.T)

    def close(self) -> None:
        for handle in self.handles:
            handle.close()

    def blocks(self, mixture: str | os.PathLike, silent: Sequence[bool]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(mixture (C, n), estimates (S, C, n))`` block by block; the ``silent`` sources' are zero."""
        size = round(BLOCK_SECONDS * self.sample_rate)
        readers = [sf.SoundFile(mixture), *(sf.SoundFile(path) for path in self.paths)]
        try:
            while True:
                mix, *estimates = (reader.read(size, dtype="float32", always_2d=True).T for reader in readers)
                if not mix.shape[-1]:
                    return
                yield mix, np.stack([np.zeros_like(e) if off else e for e, off in zip(estimates, silent)])
        finally:
            for reader in readers:
                reader.close()
