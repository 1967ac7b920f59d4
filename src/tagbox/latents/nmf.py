"""The ``nmf`` latent: gains of the mixture's KL-NMF components, one set per source."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from tagbox.errors import TagboxError
from tagbox.latents.base import GainOptions, MaskedLatent
from tagbox.masks import STFT
from tagbox.nmf import kl_nmf
from tagbox.settings import choice, flag

STARTS = ("flat", "tagged")
# Components when unset, per start. The tagged start labels 16 as well as 32 at half the
# listening, and two runs of 16 cost what one of 32 did; the flat start's steering was measured
# with 32 (docs/decisions.md).
COMPONENTS = {"tagged": 16, "flat": 32}


@dataclass(frozen=True)
class NMFOptions(GainOptions):
    """The dictionary's size and where the gains start: ``tagged``, from what the taggers hear in
    each component (the labelling stages of :mod:`tagbox.pipeline`), or ``flat``, every gain at
    ``init_gain`` for a single source and equal shares for several."""

    components: int | None = field(default=None, metadata=flag(
        "--components", "NMF components (default: 16 from the tagged start, 32 from the flat one)", type=int))
    start: str = field(default="tagged", metadata=flag(
        "--start", "where the gains start: tagged (from what the taggers hear in each component) or flat (init_gain)"))

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("start", self.start, STARTS)
        if self.components is not None and self.components < 1:
            raise TagboxError(f"components must be at least 1, got {self.components}")

    @property
    def component_count(self) -> int:
        """``components``, or the start's own where unset."""
        return COMPONENTS[self.start] if self.components is None else self.components


class NMFLatent(MaskedLatent):
    """Gains of the mixture's KL-NMF components, one set per source.

    Each component's gains are a softmax over the sources and the rest (logits ``(sources + 1,
    K)``, the rest's last); for one source this is a sigmoid gain per component. They start equal
    (logits 0) until :meth:`start` sets them.
    """

    Options = NMFOptions
    default_lr = 0.3
    default_steps = 150  # from the flat start
    joint = True
    n_fft = 2048
    hop_length = 512

    def __init__(self, mixture: torch.Tensor, sample_rate: int, options: NMFOptions, *,
                 model: None = None, sources: int = 1, seed: int = 0):
        super().__init__(mixture, [STFT(self.n_fft, self.hop_length, device=mixture.device)])
        W, H = kl_nmf(self.reference_specs[0].abs(), options.component_count, seed=seed)
        self.sample_rate = sample_rate
        self.register_buffer("W", W)
        self.register_buffer("H", H)
        self.register_buffer("full", W @ H + 1e-8)
        self.gain_logits = nn.Parameter(torch.zeros(sources + 1, options.component_count, device=mixture.device))

    @torch.no_grad()
    def start(self, logits: torch.Tensor) -> None:
        """Start the gains at ``logits (sources + 1, K)`` (the rest's row last)."""
        self.gain_logits.copy_(logits)

    @classmethod
    def crowding_warning(cls, options: NMFOptions, sources: int) -> str | None:
        # A component goes mostly to one source or to the rest: with fewer components than
        # parts, some sources get nothing of their own.
        if sources + 1 <= options.component_count:
            return None
        return (f"{sources} sources and the rest share {options.component_count} NMF components: some get none of "
                f"their own; raise --components to at least {sources + 1}")

    def frequencies(self) -> torch.Tensor:
        """The frequency in Hz of each row of the templates ``W``."""
        return self.stfts[0].frequencies(self.sample_rate)

    def component_mask(self, k: int) -> torch.Tensor:
        """Component ``k``'s Wiener mask on the reference, ``(freq, frames)``; the K masks sum to one."""
        return self.W[:, k, None] * self.H[k] / self.full

    @torch.no_grad()
    def components(self) -> torch.Tensor:
        """Each component's part of the reference, ``(K, samples)``; they sum to it. One at a
        time: all masks of a 30 s segment at once hold about a gigabyte."""
        spec = self.reference_specs[0]
        return torch.stack([
            self.stfts[0].inverse(self.component_mask(k) * spec, self.length) for k in range(self.H.shape[0])
        ])

    def gains(self) -> torch.Tensor:
        """Per-source component gains ``(sources, K)``."""
        return torch.softmax(self.gain_logits, dim=0)[:-1]

    def masks(self) -> list[torch.Tensor]:
        return [(self.W @ (self.gains()[..., None] * self.H)) / self.full]
