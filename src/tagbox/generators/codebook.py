"""Vector quantisation: codebooks and the policies that decide whether they change.

Jukebox keeps one codebook per level as the buffer ``bottleneck.level_blocks.<l>.k``. How
TagBox *uses* it is a choice that changes results (SPEC section 6), so it is an explicit
option here, picked by name from :data:`CODEBOOK_POLICIES`:

* ``frozen`` (default): the pretrained codebook, never changed. Nearest code, then a
  straight-through estimator so the gradient reaches the latents unchanged.
* ``tagbox``: what the TagBox reference really does. It runs the Jukebox bottleneck in train
  mode, so the first call re-initialises each codebook from the input's own latents and every
  call then applies an EMA update with dead-code restarts. The pretrained codebook is discarded.

A policy is instantiated per separation (:meth:`VQVAE.codebook_session`), and all mutable state
lives in that session object, never in the model: the loaded codebook stays pretrained, and
the next separation starts fresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

# Rows per distance block: bounds the (rows x bins) distance matrix to ~128 MB at 2048 bins.
_DISTANCE_ROWS = 16384
# A code is alive while its EMA hit count stays at or above this (Jukebox's default threshold).
DEAD_CODE_THRESHOLD = 1.0


class Codebook(nn.Module):
    """One level's codebook ``k`` (bins, emb_width), a buffer so it is saved and loaded."""

    def __init__(self, bins: int, emb_width: int):
        super().__init__()
        # Random rather than Jukebox's zeros, so randomly built models give distinct codes.
        self.register_buffer("k", torch.randn(bins, emb_width))


class Bottleneck(nn.Module):
    """The codebooks of all levels, named as in Jukebox (``bottleneck.level_blocks.<l>.k``).

    ``mu`` is the EMA decay that the ``reference`` policy applies to its copies of the codebooks.
    """

    def __init__(self, levels: int, bins: int, emb_width: int, mu: float):
        super().__init__()
        self.mu = mu
        self.level_blocks = nn.ModuleList(Codebook(bins, emb_width) for _ in range(levels))


def flatten(z: Tensor) -> Tensor:
    """(N, emb, L) latents -> (N*L, emb) rows, batch-major then time (Jukebox's order)."""
    return z.permute(0, 2, 1).contiguous().view(-1, z.shape[1])


def nearest(rows: Tensor, k: Tensor) -> Tensor:
    """Index of the nearest code for each row, computed exactly as Jukebox does.

    Same expanded float32 formula |x|^2 - 2 x.k + |k|^2, evaluated in the same order, and the
    same first-index tie rule, so codes agree with the reference except where two distances are
    within rounding of each other. ``addmm`` fuses the first two terms with one rounding, exactly
    as the separate ops round (the factor -2 is exact), at half the memory traffic. Rows go in
    blocks to bound memory; a row's distances do not depend on the other rows.
    """
    k_t = k.t()
    k_norm = torch.sum(k_t**2, dim=0, keepdim=True)
    codes = []
    for block in rows.split(_DISTANCE_ROWS):
        distance = torch.addmm(torch.sum(block**2, dim=-1, keepdim=True), block, k_t, alpha=-2)
        distance += k_norm
        codes.append(torch.min(distance, dim=-1).indices)
    return torch.cat(codes)


def straight_through(z: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
    """Quantise ``z`` (N, emb, L) with codebook ``k``: (codes (N, L), zq (N, emb, L)).

    ``zq`` has the code vectors' values and the identity gradient w.r.t. ``z``; ``k`` gets none.
    """
    n, emb, length = z.shape
    with torch.no_grad():
        codes = nearest(flatten(z), k)
        dequantised = k[codes].view(n, length, emb).permute(0, 2, 1)
    return codes.view(n, length), z + (dequantised - z).detach()


class FrozenCodebooks:
    """Policy ``frozen``: the pretrained codebooks, read-only."""

    def __init__(self, bottleneck: Bottleneck, generator: torch.Generator | None):
        self.bottleneck = bottleneck

    def quantise(self, z: Tensor, level: int) -> tuple[Tensor, Tensor]:
        return straight_through(z, self.bottleneck.level_blocks[level].k)


@dataclass
class EMAState:
    """One level's EMA codebook: the codes, their running sums and running counts."""

    k: Tensor
    k_sum: Tensor
    k_elem: Tensor


class ReferenceCodebooks:
    """Policy ``reference``: Jukebox's train-mode bottleneck, as the TagBox reference runs it.

    The first call at a level replaces that level's codebook by random rows of the latents
    (init_k); every call quantises with the current codebook and then updates it by EMA,
    restarting dead codes from random latent rows (update_k). Randomness comes from
    ``generator`` (the global torch RNG when None), consumed in the reference's order:
    [init_k on first call] then update_k, each drawing (noise only if rows < bins) then one
    permutation. The reference quantises levels 0, 1, 2 in that order in every step; calling
    :meth:`quantise` in that order reproduces its codes and codebooks for the same seed (up to
    float summation order, ~1e-6). A caller steering one level draws only that level's numbers:
    same distribution, different stream.
    """

    def __init__(self, bottleneck: Bottleneck, generator: torch.Generator | None):
        self.bins, self.emb_width = bottleneck.level_blocks[0].k.shape
        self.mu = bottleneck.mu
        self.generator = generator
        self.states: dict[int, EMAState] = {}

    def quantise(self, z: Tensor, level: int) -> tuple[Tensor, Tensor]:
        rows = flatten(z.detach())
        state = self.states.get(level)
        if state is None:
            k = self._random_rows(rows)
            state = self.states[level] = EMAState(k, k.clone(), torch.ones_like(k[:, 0]))
        codes, zq = straight_through(z, state.k)
        self._update(state, rows, codes.view(-1))
        return codes, zq

    def _random_rows(self, rows: Tensor) -> Tensor:
        """``bins`` distinct random rows; too few rows are tiled with small noise first."""
        n = rows.shape[0]
        if n < self.bins:
            rows = rows.repeat(math.ceil(self.bins / n), 1)
            noise = torch.randn(
                rows.shape, generator=self.generator, dtype=rows.dtype, device=rows.device
            )
            rows = rows + noise * (0.01 / math.sqrt(self.emb_width))
        order = torch.randperm(rows.shape[0], generator=self.generator, device=rows.device)
        return rows[order[: self.bins]]

    @torch.no_grad()
    def _update(self, state: EMAState, rows: Tensor, codes: Tensor) -> None:
        hit_sum = torch.zeros_like(state.k).index_add_(0, codes, rows)
        hits = torch.bincount(codes, minlength=self.bins).to(rows.dtype)
        restarts = self._random_rows(rows)
        state.k_sum = self.mu * state.k_sum + (1 - self.mu) * hit_sum
        state.k_elem = self.mu * state.k_elem + (1 - self.mu) * hits
        alive = (state.k_elem >= DEAD_CODE_THRESHOLD).view(-1, 1)
        state.k = torch.where(alive, state.k_sum / state.k_elem.view(-1, 1), restarts)


CODEBOOK_POLICIES = {"frozen": FrozenCodebooks, "reference": ReferenceCodebooks}
