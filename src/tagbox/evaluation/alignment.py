"""Is an objective aligned with separation? Steer from the oracle grouping and from the blind start.

A search that starts at the answer should stay there. For the ``nmf`` latent the answer within
reach is the *oracle grouping*: each NMF component given to the stem holding most of its
energy inside the component's Wiener mask. An objective is aligned when, started there, it
keeps the oracle's SI-SDRi (loses under 1 dB) and, started blind (the latent's own start, as
``tagbox separate`` starts: the tagged start by default, or every gain at ``init_gain``), it climbs. The research probe
(``shared/research/probe-turn2.md``) found the reference objective drags 17 stems from +7.4 to
+3.7 dB in 15 steps: its optimum is not the source. This module measures that for any
Separator configuration, so new objectives can be judged before a full evaluation.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from tagbox.latents import NMFLatent
from tagbox.metrics import si_sdr
from tagbox.pipeline import Tools, build, resolve
from tagbox.pipeline.stages import Refine
from tagbox.separator import Separator

STARTS = ("oracle", "blind")


@dataclass(frozen=True)
class Alignment:
    """SI-SDRi (dB) and target probability before and after steering from one start."""

    start: str
    steps: int
    before: float
    after: float
    probability_before: float
    probability_after: float


def oracle_components(space: NMFLatent, stems: list[torch.Tensor], target: int) -> torch.Tensor:
    """Components ``(K,)`` whose Wiener mask holds more of stem ``target``'s energy than of any other stem's."""
    power = torch.stack([space.stfts[0](stem).abs() ** 2 for stem in stems])  # (stems, F, N)
    energy = torch.stack([(space.component_mask(k) ** 2 * power).sum((1, 2)) for k in range(space.H.shape[0])], dim=1)
    return energy.argmax(0) == target


def start_at(space: NMFLatent, selected: torch.Tensor | None, high: float = 0.95, low: float = 0.05) -> None:
    """Set the gains: ``high`` on ``selected`` components and ``low`` elsewhere, or, with None,
    the latent's own start (the blind start of a separation) is kept."""
    if selected is None:
        return
    gains = torch.where(selected, high, low).to(space.gain_logits)
    with torch.no_grad():
        space.gain_logits.zero_()
        space.gain_logits[0] = torch.log(gains / (1 - gains))


def check_alignment(
    separator: Separator,
    mixture: np.ndarray,
    sample_rate: int,
    stems: dict[str, np.ndarray],
    source: str,
    *,
    steps: dict[str, int],
) -> list[Alignment]:
    """Steer the ``nmf`` latent of ``separator`` on a mono ``mixture`` from each start in ``steps``
    (``oracle``/``blind`` -> number of steps) and score both ends against the true stem. The
    blind start is the separator's own pipeline up to its refinement, for one run and no competitor."""
    config = separator.config.replace(runs=1, competitors=())
    if config.latent != "nmf":
        raise ValueError(f"the alignment check needs the nmf latent, not '{config.latent}'")
    for start in steps:
        if start not in STARTS:
            raise ValueError(f"unknown start '{start}'; choose from {', '.join(STARTS)}")
    device = separator.device
    mono = torch.as_tensor(mixture, dtype=torch.float32, device=device)
    peak = mono.abs().max()
    names = list(stems)
    references = [torch.as_tensor(stems[name], dtype=torch.float32, device=device) / peak for name in names]
    request = resolve(config, separator.ensemble, [source], warn=lambda message: None)
    start_pipeline = build(config, request, sample_rate).before("refine")
    floor = si_sdr(stems[source], mixture)

    def score(space: NMFLatent) -> float:
        return si_sdr(stems[source], space.apply(mono[None] / peak)[0, 0].cpu().numpy()) - floor

    results = []
    for start, count in steps.items():
        probabilities: list[float] = []
        tools = Tools(separator.ensemble, on_step=lambda record: probabilities.append(record["probabilities"][source]))
        segment = start_pipeline.run(mono[None], 0, tools=tools)
        space = segment.runs[0].latent
        start_at(space, oracle_components(space, references, names.index(source)) if start == "oracle" else None)
        before = score(space)
        counted = tuple(dataclasses.replace(profile, steps=count) for profile in segment.sources)
        Refine(separator.lr, judge_rest=config.steering.judge_rest)(dataclasses.replace(segment, sources=counted), tools)
        results.append(Alignment(
            start=start, steps=count, before=before, after=score(space),
            probability_before=probabilities[0] if probabilities else math.nan,
            probability_after=probabilities[-1] if probabilities else math.nan,
        ))
    return results
