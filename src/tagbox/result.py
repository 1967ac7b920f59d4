"""What a separation returns, and the absent-source rule that decides whether it is silence.

A source the taggers cannot hear in the mixture, and that steering could not raise either, is
returned as silence with a warning instead of as a hallucination: both the mixture's and the
estimate's target probability must stay under the threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch

from tagbox.config import Output
from tagbox.steering import Steered

logger = logging.getLogger(__name__)


@dataclass
class SeparationResult:
    """One source separated from one mixture: ``(channels, samples)`` tensors that sum to it.

    ``target`` and ``residual`` are None where the audio went elsewhere (``Separator.stream_file``).
    """

    source: str
    target: torch.Tensor | None
    residual: torch.Tensor | None
    sample_rate: int
    history: list[dict] = field(default_factory=list)
    absent: bool = False
    probability_before: float = float("nan")
    probability_after: float = float("nan")
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    presence: list[float] = field(default_factory=list)  # each segment's probability that the source plays


@dataclass
class RegionTags:
    """Tag probabilities of consecutive regions, averaged by length; silent regions are left out.

    Tagging a long file region by region, as it is separated, costs one pass and holds one region.
    """

    parts: list[tuple[dict[str, torch.Tensor], int]] = field(default_factory=list)

    def add(self, tags: dict[str, torch.Tensor] | None, samples: int) -> None:
        if tags is not None:
            self.parts.append((tags, samples))

    def mean(self) -> dict[str, torch.Tensor] | None:
        if len(self.parts) <= 1:  # one region: its tags exactly, as when the whole input is tagged
            return self.parts[0][0] if self.parts else None
        total = sum(samples for _, samples in self.parts)
        return {key: sum(tags[key] * samples for tags, samples in self.parts) / total for key in self.parts[0][0]}


def packaged(
    mixture: torch.Tensor | None,
    sample_rate: int,
    target: torch.Tensor | None,
    steered: Steered,
    history: list[dict],
    warnings: list[str],
    seconds: float,
    *,
    before: dict[str, torch.Tensor] | None,
    after: dict[str, torch.Tensor] | None,
    presence: list[float],
    output: Output,
) -> SeparationResult:
    """One source's result, its target replaced by silence if the source is absent: the taggers
    hear it neither in the mixture nor in the estimate, or it plays in no segment.

    ``before`` and ``after`` are the taggers' probabilities on the mixture and on the estimate,
    ``presence`` each segment's probability that the source plays. Without ``target`` (a streamed
    separation) the result carries no audio.
    """
    p_before, p_after = steered.heard(before), steered.heard(after)
    warnings = list(warnings)
    unheard = p_before < output.absent_threshold and p_after < output.absent_threshold
    nowhere = bool(presence) and all(output.silences(p) for p in presence)
    absent = unheard or nowhere
    if absent:
        message = (
            f"'{steered.source}' plays in {'none of ' + str(len(presence)) + ' segments' if len(presence) > 1 else 'no segment'} "
            f"(p<={max(presence):.2f} under --presence-threshold {output.presence_threshold:g}); returning silence"
            if nowhere else f"the taggers hear no '{steered.source}' in this mixture (p={p_before:.3f}) and "
            f"steering could not raise it (p={p_after:.3f}); returning silence"
        )
        logger.warning(message)
        warnings.append(message)
        target = None if target is None else torch.zeros_like(mixture)
    return SeparationResult(
        source=steered.source, target=target, residual=None if target is None else mixture - target,
        sample_rate=sample_rate,
        history=history, absent=absent, probability_before=p_before, probability_after=p_after,
        seconds=seconds, warnings=warnings, presence=list(presence),
    )
