"""Non-negative matrix factorisation of a magnitude spectrogram (KL divergence, multiplicative updates).

The NMF latent steers one gain per component of the mixture's own dictionary: a search space
of source-like pieces that the taggers cannot game the way they game a free mask
(``shared/research/feasibility.md``). Written in torch so it needs no extra dependency and runs
on the separator's device.
"""

from __future__ import annotations

import torch

_EPS = 1e-10


def kl_nmf(
    magnitude: torch.Tensor, n_components: int, iterations: int = 200, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Factorise ``magnitude (F, N) ~= W (F, K) @ H (K, N)`` minimising the KL divergence.

    Columns of W are normalised to unit sum so H carries the energy. Deterministic for a seed.
    """
    if magnitude.dim() != 2:
        raise ValueError(f"expected a (freq, frames) magnitude, got shape {tuple(magnitude.shape)}")
    V = magnitude.detach().double() + _EPS
    generator = torch.Generator(device="cpu").manual_seed(seed)
    scale = V.mean().sqrt()
    n_freq, n_frames = V.shape
    # Drawn on the CPU so a seed gives the same start on every device; moved before ``scale``
    # (on V's device) meets it.
    W = torch.rand(n_freq, n_components, generator=generator, dtype=V.dtype).to(V.device) * scale + _EPS
    H = torch.rand(n_components, n_frames, generator=generator, dtype=V.dtype).to(V.device) * scale + _EPS
    for _ in range(iterations):
        H *= (W.T @ (V / (W @ H))) / W.sum(0, keepdim=True).T
        W *= ((V / (W @ H)) @ H.T) / H.sum(1, keepdim=True).T
    norm = W.sum(0, keepdim=True)
    return (W / norm).float(), (H * norm.T).float()
