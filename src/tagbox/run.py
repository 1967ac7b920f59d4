"""One mixture steered segment by segment, read and released piece by piece.

The overlap-add (:func:`tagbox.apply.stream_overlap_add`) hands each finished region of the
estimates to a sink as soon as no later segment overlaps it; the mixture and the estimates are
tagged region by region on the way, so nothing as long as the input is held here, and the
results are packaged from what the run saw (:func:`tagbox.result.packaged`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf
import torch

from tagbox.apply import stream_overlap_add
from tagbox.config import Output
from tagbox.pipeline import Pipeline, Tools
from tagbox.progress import Progress
from tagbox.result import RegionTags, SeparationResult, packaged
from tagbox.steering import Steered


@dataclass
class MixtureRun:
    """What steering one mixture gives besides the audio: what the results are packaged from."""

    steered: list[Steered]
    warnings: list[str]  # about every source
    source_warnings: dict[str, list[str]] = field(default_factory=dict)  # about one source each
    history: list[dict] = field(default_factory=list)  # every step: segment, run, step, loss, probabilities
    heard: RegionTags = field(default_factory=RegionTags)
    after: list[RegionTags] = field(default_factory=list)
    presence: list[list[float]] = field(default_factory=list)  # per source, each segment's probability that it plays
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.after = self.after or [RegionTags() for _ in self.steered]
        self.presence = self.presence or [[] for _ in self.steered]

    def result(
        self, index: int, sample_rate: int, output: Output, mixture: torch.Tensor | None = None,
        target: torch.Tensor | None = None,
    ) -> SeparationResult:
        """Source ``index``'s result (with audio when ``mixture`` and ``target`` are given): its own
        steps and warnings only."""
        name = self.steered[index].source
        history = [{"segment": record["segment"], "run": record["run"], "step": record["step"], "loss": record["loss"],
                    "probability": record["probabilities"][name]} for record in self.history if name in record["probabilities"]]
        warnings = [*self.warnings, *self.source_warnings.get(name, [])]
        return packaged(mixture, sample_rate, target, self.steered[index], history, warnings, self.seconds,
                        before=self.heard.mean(), after=self.after[index].mean(), presence=self.presence[index],
                        output=output)


def run_segments(
    read: Callable[[int, int], torch.Tensor],
    samples: int,
    rate: int,
    run: MixtureRun,
    *,
    pipeline: Pipeline,
    tools: Tools,
    segment: float | None,
    overlap: float,
    sink: Callable[[int, torch.Tensor], None],
    progress: Progress,
) -> MixtureRun:
    """Run ``pipeline`` on each segment of a mixture read by ``read(offset, count)`` at ``rate``;
    each segment's presence is kept in ``run``, finished regions go to ``sink``, are tagged into
    ``run`` and counted by ``progress``."""
    start = time.perf_counter()
    used = {tagger_id for s in run.steered for tagger_id in s.targets}
    ensemble = tools.ensemble

    def separate(piece: torch.Tensor, index: int) -> torch.Tensor:
        state = pipeline.run(piece, index, tools=tools)
        if state.presence is not None:
            for kept, probability in zip(run.presence, state.presence.tolist()):
                kept.append(probability)
        return state.estimate

    def release(offset: int, region: torch.Tensor) -> None:
        sink(offset, region)
        run.heard.add(ensemble.tag(read(offset, region.shape[-1]).mean(0), rate, used), region.shape[-1])
        for tags, target, source in zip(run.after, region, run.steered):
            tags.add(ensemble.tag(target.mean(0), rate, source.targets), region.shape[-1])
        progress.advance(region.shape[-1] / rate)

    stream_overlap_add(separate, read, samples, rate, segment=segment, overlap=overlap, sink=release)
    run.seconds = time.perf_counter() - start
    return run


def file_reader(handle: sf.SoundFile, device: torch.device) -> Callable[[int, int], torch.Tensor]:
    """``read(offset, count)``: ``count`` frames of an open file from ``offset``, ``(channels, n)`` on ``device``."""

    def read(offset: int, count: int) -> torch.Tensor:
        handle.seek(offset)
        wav = handle.read(count, dtype="float32", always_2d=True)
        return torch.from_numpy(np.ascontiguousarray(wav.T)).to(device)

    return read
