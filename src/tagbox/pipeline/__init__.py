"""The separation pipeline: a segment's way from the mixture to each source's estimate.

:func:`build` is the one place a separation's stages are composed, in order; the Separator,
``tagbox eval``, the benches and the alignment check all run what it builds. The default (the
``nmf`` latent's tagged start) reads::

    gate           a silent segment is silence for every source
    competitors    drums join where the taggers hear them in the mixture
    decompose      KL-NMF of the downmix, one per run (seeds seed, seed + 1)
    listen         each component alone, and the mixture without it
    evidence       log-odds: alone vs the mixture, the mixture vs without it
    fragment_prior a head learned from isolated renders judges each component
    share          components heard alike pool their evidence
    register_prior components far from the source's register lose evidence
    (position_prior components far from where the source sits in a stereo mix lose evidence;
                   measured, added on request: add=position_prior)
    start_gains    each component's gain from its standardised evidence
    refine         Adam steps where a source takes them (drums)
    apply          the gains as masks on every channel, the runs averaged
    range_floor    nothing below a source's lowest note
    presence       how likely each source plays in the segment; silence under --presence-threshold
                   (0, the default, keeps every estimate)

docs/how-it-works.md explains each stage, docs/decisions.md what each gained.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from tagbox.config import SeparatorConfig
from tagbox.latents import LATENTS, NMFLatent
from tagbox.pipeline.labelling import Evidence, Listen, Share, StartGains
from tagbox.pipeline.presence import Presence
from tagbox.pipeline.priors import FragmentPrior, RegisterPrior
from tagbox.pipeline.profile import Request, SourceProfile, resolve
from tagbox.pipeline.spatial import PositionPrior
from tagbox.pipeline.stages import Apply, Competitors, Decompose, FlatGains, RangeFloor, Refine
from tagbox.pipeline.state import Run, Segment, Stage, Tools

__all__ = ["Pipeline", "Request", "Run", "Segment", "SourceProfile", "Stage", "Tools", "build", "resolve"]


@dataclass(frozen=True)
class Pipeline:
    """The stages of one request, in order, for its ``sources`` at ``rate``."""

    stages: tuple[Stage, ...]
    sources: tuple[SourceProfile, ...]
    rate: int

    def __call__(self, piece: torch.Tensor, index: int, *, tools: Tools) -> torch.Tensor:
        """Each requested source's estimate ``(sources, C, T)`` in the segment ``piece (C, T)``."""
        return self.run(piece, index, tools=tools).estimate

    def run(self, piece: torch.Tensor, index: int, *, tools: Tools,
            record: Callable[[str, Segment], None] | None = None) -> Segment:
        """The segment after the last stage; ``record(stage name, segment)`` sees every state on the way."""
        segment = Segment.of(piece, self.rate, index, self.sources)
        if segment.peak <= 0:  # the gate: silence holds no source
            return Segment(piece, segment.mono, segment.peak, self.rate, index, self.sources, len(self.sources),
                           estimate=torch.zeros(len(self.sources), *piece.shape, device=piece.device),
                           presence=torch.zeros(len(self.sources), device=piece.device) if "presence" in self.names else None)
        for stage in self.stages:
            if tools.on_stage is not None:
                tools.on_stage(index, stage.name)
            segment = stage(segment, tools)
            if record is not None:
                record(stage.name, segment)
        return segment

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def before(self, name: str) -> "Pipeline":
        """The stages before the first one called ``name`` (all of them if none is): a start to
        probe, such as the labelled start before any step."""
        count = self.names.index(name) if name in self.names else len(self.stages)
        return replace(self, stages=self.stages[:count])


def build(config: SeparatorConfig, request: Request, rate: int) -> Pipeline:
    """The stages a separation of ``request`` under ``config`` runs, in order (module docstring)."""
    space, options, labelling = LATENTS[config.latent], config.latent_options, config.labelling
    stages: list[Stage] = []
    if request.competitors:
        stages.append(Competitors(request.competitors, config.steering.competitor_threshold))
    stages.append(Decompose(space, options, tuple(range(config.seed, config.seed + request.runs))))
    if config.tagged:
        stages += [Listen(), Evidence(labelling.removal_weight)]
        priors = [FragmentPrior(labelling.fragment_weight), Share(labelling.share_temperature),
                  RegisterPrior(labelling.register_weight)]
        stages += [stage for stage in priors if stage.name not in config.without]
        if "position_prior" in config.add:
            stages.append(PositionPrior(labelling.position_weight))
        stages.append(StartGains(labelling.start_slope, labelling.start_offset))
    elif space is NMFLatent:
        stages.append(FlatGains(options.init_gain))
    if request.most_steps:
        stages.append(Refine(config.resolved_lr(), config.steering.average, config.steering.judge_rest))
    stages.append(Apply())
    if "range_floor" not in config.without:
        stages.append(RangeFloor(NMFLatent.n_fft, NMFLatent.hop_length))
    if config.tagged and "presence" not in config.without:
        stages.append(Presence(config.output, labelling.removal_weight))
    return Pipeline(tuple(stages), request.sources, rate)
