"""What the taggers are asked to hear: target tag distributions and their losses.

``reference`` is the reference implementation's objective: a multi-hot target over the whole vocabulary (the
source's tags 1, every other tag 0) and binary cross-entropy on every tag, so genre and mood
tags are pushed to 0 too. ``focused`` asks only what a separation should change: the source's
tags up, the tags of other sources (and any the user excludes) down, everything else ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from tagbox import sources
from tagbox.errors import TagboxError, UnknownNameError

logger = logging.getLogger(__name__)


@dataclass
class TagTarget:
    """Target distribution for one tagger: BCE of ``probs`` against ``target`` where ``weight`` is 1."""

    target: torch.Tensor
    weight: torch.Tensor
    positives: torch.Tensor

    def loss(self, probs: torch.Tensor) -> torch.Tensor:
        """Mean weighted BCE of ``probs (..., n_tags)`` over the counted tags, per leading index."""
        bce = F.binary_cross_entropy(probs, self.target.expand_as(probs), reduction="none")
        return (bce * self.weight).sum(-1) / self.weight.sum()

    def probability(self, probs: torch.Tensor) -> torch.Tensor:
        """Mean probability of the source's own tags."""
        return probs[..., self.positives].mean(-1)


def _reference_weights(tags: Sequence[str], positives: set[str], negatives: set[str]) -> list[float]:
    return [1.0] * len(tags)


def _focused_weights(tags: Sequence[str], positives: set[str], negatives: set[str]) -> list[float]:
    return [1.0 if tag in positives or tag in negatives else 0.0 for tag in tags]


OBJECTIVES: dict[str, Callable[[Sequence[str], set[str], set[str]], list[float]]] = {
    "reference": _reference_weights,
    "focused": _focused_weights,
}


def build_target(
    objective: str,
    tags: Sequence[str],
    vocabulary: str,
    source: str,
    exclude: Sequence[str] = (),
    device: torch.device | str = "cpu",
    others: Sequence[str] = (),
) -> TagTarget | None:
    """The target of ``objective`` for ``source`` in one tagger's vocabulary.

    Returns None when that vocabulary cannot express the source, so the caller can skip the
    tagger. Negatives (used by ``focused``) are the tags of every unrelated source and the
    source's negations (``no vocals``), plus the tags of the sources or raw tags in ``exclude``
    (which may not share a tag with the source) and those of the ``others`` requested with it
    that the source does not share.
    """
    if objective not in OBJECTIVES:
        raise UnknownNameError(f"unknown objective '{objective}'; choose from {', '.join(OBJECTIVES)}")
    positives = set(sources.source_tags(source, vocabulary))
    if not positives:
        return None
    excluded = {tag for name in exclude for tag in sources.source_tags(name, vocabulary)}
    if excluded & positives:
        raise TagboxError(f"'{source}' and the excluded sources share tags: {sorted(excluded & positives)}")
    # Sources requested beside this one are negatives too, except for tags they share with it
    # (strings and cello: the cello tag names both).
    besides = {tag for name in others for tag in sources.source_tags(name, vocabulary)} - positives
    negatives = set(sources.negative_tags(source, vocabulary)) | excluded | besides
    weights = OBJECTIVES[objective](tags, positives, negatives)
    target = [1.0 if tag in positives else 0.0 for tag in tags]
    index = [i for i, tag in enumerate(tags) if tag in positives]
    return TagTarget(
        target=torch.tensor(target, device=device),
        weight=torch.tensor(weights, device=device),
        positives=torch.tensor(index, device=device),
    )
