"""The NMF oracle grouping: how well the default's own decomposition could separate at best.

Each run's KL-NMF of the mono downmix (the default's: its components and seeds) gives each
component to the stem that holds most of its energy (:func:`tagbox.evaluation.alignment.oracle_components`,
using the true stems); the source's estimate is its components' Wiener mask on every channel,
averaged over the runs as the default averages. The gap between it and the ideal ratio mask is
the decomposition's; between tagbox and it, the labelling's. The whole excerpt is decomposed at
once (the dev sets' excerpts fit one of the default's segments).
"""

from __future__ import annotations

import numpy as np
import torch

from tagbox.evaluation.alignment import oracle_components
from tagbox.evaluation.datasets import Track
from tagbox.evaluation.methods import Estimate, Method
from tagbox.latents import NMFLatent, NMFOptions


def nmf_oracle(seed: int = 0, components: int | None = None, runs: int = 2) -> Method:
    """The method: ``runs`` decompositions seeded ``seed``, ``seed + 1``, ... of ``components``
    (default: the tagged start's)."""
    options = NMFOptions(components=components)

    def run(mixture: np.ndarray, sample_rate: int, source: str, track: Track) -> Estimate:
        channels = torch.as_tensor(np.atleast_2d(mixture), dtype=torch.float32)
        mono = channels.mean(0)
        peak = mono.abs().max().clamp_min(1e-12)
        names = list(track.stems)
        stems = [torch.as_tensor(np.atleast_2d(track.stems[name]), dtype=torch.float32).mean(0) / peak for name in names]
        estimates = []
        for offset in range(runs):
            latent = NMFLatent(mono / peak, sample_rate, options, seed=seed + offset)
            chosen = oracle_components(latent, stems, names.index(source))
            mask = (latent.W[:, chosen] @ latent.H[chosen]) / latent.full
            estimates.append(latent.stfts[0].inverse(mask * latent.stfts[0](channels), channels.shape[-1]))
        estimate = torch.stack(estimates).mean(0).numpy().reshape(np.shape(mixture))
        return Estimate(estimate.astype(np.float32), {"components": int(options.component_count)})

    return run
