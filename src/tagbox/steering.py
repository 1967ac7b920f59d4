"""The steering loop: Adam moves a latent space until the taggers hear the source in its estimates.

Nothing but the latent is trained. Each step renders the estimates (one per source and STFT
view), resamples them to 16 kHz, lets the tagger ensemble judge them, and takes the objective's
cross-entropy (:mod:`tagbox.objectives`). With ``rest`` the taggers also hear what the estimates
leave of the mixture, whose source tags are pushed to 0, so that keeping most of the mixture in
the estimate no longer pays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from tagbox import sources
from tagbox.errors import TagboxError
from tagbox.latents.base import LatentSpace
from tagbox.objectives import TagTarget, build_target
from tagbox.taggers.base import Tagger
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.taggers.registry import TAGGERS


@dataclass
class Steered:
    """What one source is steered towards: a target for each tagger that can express it."""

    source: str
    targets: dict[str, TagTarget]

    def probability(self, tags: dict[str, torch.Tensor]) -> torch.Tensor:
        """The mean probability of the source's own tags in each tagger's ``tags (..., n_tags)``,
        averaged over its taggers: ``(...)``."""
        return torch.stack([target.probability(tags[tagger_id]) for tagger_id, target in self.targets.items()]).mean(0)

    def heard(self, tags: dict[str, torch.Tensor] | None) -> float:
        """:meth:`probability` of one clip's tags, 0 for silence (no tags): the number a
        separation reports before and after, and the absent-source rule reads."""
        return 0.0 if tags is None else float(self.probability(tags))

    def shortest_window(self, ensemble: TaggerEnsemble) -> "Steered":
        """The same source judged by its taggers of the shortest window only: the cheapest to
        ask, which on the dev sets label (and steer a competitor) about as well as all of them."""
        length = {tagger.id: tagger.input_length for tagger in ensemble.taggers}
        shortest = min(length[tagger_id] for tagger_id in self.targets)
        return Steered(self.source, {tagger_id: target for tagger_id, target in self.targets.items()
                                     if length[tagger_id] == shortest})


def steered_source(
    taggers: Sequence[Tagger],
    source: str,
    names: Sequence[str],
    objective: str,
    exclude: Sequence[str],
    *,
    device: torch.device | str,
    warn: Callable[[str], None],
) -> Steered:
    """Targets of ``source`` for each of ``taggers`` that can express it; the other requested
    ``names`` count as negatives where their tags are not the source's own. An error names
    pretrained taggers that can, if none of these can."""
    if source in exclude:
        raise TagboxError(f"'{source}' is both the target and excluded (--not)")
    others = [name for name in names if name != source]
    targets = {}
    for tagger in taggers:
        target = build_target(objective, tagger.tags, tagger.vocabulary, source, exclude, device=device, others=others)
        if target is None:
            warn(f"tagger '{tagger.id}' has no tag for '{source}'; skipping it")
            continue
        targets[tagger.id] = target
    if not targets:
        able = [tid for tid, spec in TAGGERS.items() if spec.pretrained and sources.source_tags(source, spec.vocabulary)]
        hint = f"; taggers that can: {', '.join(able)}" if able else ""
        raise TagboxError(f"no chosen tagger can express '{source}'{hint}")
    return Steered(source, targets)


def source_probability(ensemble: TaggerEnsemble, audio: torch.Tensor | np.ndarray, *, sample_rate: int,
                       source: str) -> float | None:
    """:meth:`Steered.heard` of ``source`` in ``audio`` (channels first or mono), as a separation by
    ``ensemble`` reports it; None where none of its taggers can name the source (or ``source`` is
    no name tagbox knows, such as a dataset's own stem name). For judging audio made elsewhere:
    an evaluation's true stems and estimates."""
    try:
        steered = steered_source(ensemble.taggers, source, [source], "reference", (), device=ensemble.device,
                                 warn=lambda message: None)
    except TagboxError:
        return None
    signal = torch.as_tensor(np.asarray(audio, dtype=np.float32) if not torch.is_tensor(audio) else audio)
    mono = signal.float().mean(0) if signal.dim() > 1 else signal.float()
    return steered.heard(ensemble.tag(mono, sample_rate, steered.targets))


def steering_loss(
    ensemble: TaggerEnsemble,
    estimates: torch.Tensor,
    rate: int,
    steered: list[Steered],
    rng: torch.Generator,
    rest: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Objective averaged over sources, taggers and views; and each source's target probability
    (the mean over its taggers and views).

    ``estimates`` is ``(sources, views, samples)`` at ``rate``; every tagger hears all of them in
    one batch, with ``rest (views, samples)`` if given, whose sources' tag probabilities count
    towards 0.
    """
    n_sources, n_views, _ = estimates.shape
    batch = estimates.reshape(n_sources * n_views, -1)
    if rest is not None:
        batch = torch.cat([batch, rest])
    audio = ensemble.to_tagger_rate(batch, rate)
    able = {tagger_id for s in steered for tagger_id in s.targets}
    losses, probabilities = [], {source.source: [] for source in steered}
    for tagger, heard in ensemble.judge(audio, able, rng):
        probs = heard.reshape(-1, n_views, heard.shape[-1])
        for source_probs, source in zip(probs, steered):
            target = source.targets.get(tagger.id)
            if target is not None:
                losses.append(target.loss(source_probs).mean())
                probabilities[source.source].append(target.probability(source_probs).mean().item())
        if rest is not None:
            in_rest = torch.stack([
                s.targets[tagger.id].probability(probs[-1]) for s in steered if tagger.id in s.targets
            ])
            losses.append(F.binary_cross_entropy(in_rest, torch.zeros_like(in_rest)))
    return torch.stack(losses).mean(), {name: float(np.mean(values)) for name, values in probabilities.items()}


def steer(
    space: LatentSpace,
    loss: Callable[[int, torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, Any]],
    *,
    steps: int,
    lr: float,
    average: int = 0,
    judge_rest: bool = False,
    on_step: Callable[[int, float, Any], None] | None = None,
) -> None:
    """Run ``steps`` Adam steps on ``space``'s trainable parameters, minimising
    ``loss(step, estimates, rest)``, which returns the loss and what it heard (passed on);
    ``on_step(step, loss, heard)`` follows each step.

    With ``average`` the space ends at the mean of its parameters over the last ``average``
    steps (at most ``steps``) instead of the last step's, which smooths out the noise of random
    tagger windows.
    """
    parameters = [p for p in space.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(parameters, lr=lr)
    average = min(average, steps)
    averaged = [torch.zeros_like(p) for p in parameters]
    for step in range(steps):
        optimiser.zero_grad(set_to_none=True)
        estimates = space.estimates()
        rest = space.reference - estimates.sum(0) if judge_rest else None
        value, heard = loss(step, estimates, rest)
        value.backward()
        optimiser.step()
        if step >= steps - average:
            for total, parameter in zip(averaged, parameters):
                total += parameter.detach()
        if on_step is not None:
            on_step(step, value.item(), heard)
    if average:
        with torch.no_grad():
            for parameter, total in zip(parameters, averaged):
                parameter.copy_(total / average)
