"""Latent spaces: the parameters the taggers steer, and the source estimate they define.

The research probe (``shared/research/feasibility.md``) showed that the latent space decides
the quality: a space that can express arbitrary spectrogram detail is gamed by the taggers,
a space of source-like pieces separates. tagbox therefore treats the space as a choice:

``vqvae``
    a generator's unquantised latents, as in TagBox: each step quantises, decodes and masks
    the mixture with ``|G| / max(|X|, |G|)`` at several FFT sizes (or, without masks, returns
    the decoded audio itself: the "style transfer" mode);
``nmf``
    a KL-NMF dictionary of the mixture with one steerable gain per component;
``mask``
    a free per-bin mask, kept as the documented negative control.

Every space works on a mono signal at its working sample rate, returns differentiable
estimates for the taggers (one per source and STFT view), and applies its final state to any
number of channels at that rate. Only ``nmf`` estimates several sources jointly: each
component's gains are a softmax over the sources and an implicit rest, so the sources' masks
and the rest's sum to one in every bin and the stems sum to the mixture by construction.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from tagbox.masks import STFT, ratio_mask
from tagbox.nmf import kl_nmf


@dataclass
class LatentOptions:
    """Settings the latent spaces read; unused ones are ignored by each space."""

    fft_sizes: Sequence[int] = (2048, 1024, 512)
    mask: bool = True
    generator: nn.Module | None = None
    codebook: str = "frozen"
    level: int = 0
    components: int = 32
    time_knots: int = 1
    init_gain: float = 0.99
    sources: int = 1
    seed: int = 0


class LatentSpace(nn.Module, ABC):
    """Steerable parameters of one segment, and the estimates of the target they define."""

    default_lr: ClassVar[float]
    default_steps: ClassVar[int]
    joint: ClassVar[bool] = False

    def __init__(self, length: int):
        super().__init__()
        self.length = length

    # Subclasses are constructed as ``Space(mixture (T,), sample_rate, options)``.

    @staticmethod
    def working_rate(input_rate: int, options: LatentOptions) -> int:
        """Sample rate the space works at; masks on the mixture work at the input's own rate."""
        return input_rate

    @abstractmethod
    def estimates(self) -> torch.Tensor:
        """Differentiable mono estimates ``(sources, views, length)`` the taggers judge."""

    @abstractmethod
    def apply(self, channels: torch.Tensor, last_view_only: bool = False) -> torch.Tensor:
        """Each source's estimate ``(sources, C, length)`` in ``channels (C, length)``."""


class MaskedLatent(LatentSpace):
    """A space whose estimates are masks on a fixed signal at one or more STFT resolutions.

    ``reference`` is that signal (the mono mixture, or its pass through the generator): what the
    estimates leave of it is the rest the Separator's ``judge_rest`` lets the taggers hear.
    """

    def __init__(self, reference: torch.Tensor, stfts: Sequence[STFT]):
        super().__init__(reference.shape[-1])
        self.stfts = list(stfts)
        self.register_buffer("reference", reference)
        with torch.no_grad():
            self.reference_specs = [stft(reference) for stft in self.stfts]

    @abstractmethod
    def masks(self) -> list[torch.Tensor]:
        """One mask ``(sources, freq, frames)`` in [0, 1] per STFT view."""

    def estimates(self) -> torch.Tensor:
        return torch.stack([
            stft.inverse(mask * spec, self.length)
            for stft, mask, spec in zip(self.stfts, self.masks(), self.reference_specs)
        ], dim=1)

    @torch.no_grad()
    def apply(self, channels: torch.Tensor, last_view_only: bool = False) -> torch.Tensor:
        views = list(zip(self.stfts, self.masks()))
        if last_view_only:
            views = views[-1:]
        return torch.stack([
            stft.inverse(mask[:, None] * stft(channels), self.length) for stft, mask in views
        ]).mean(0)


class VQVAELatent(MaskedLatent):
    """TagBox's space: unquantised latents of one generator level, decoded every step."""

    default_lr = 5.0
    default_steps = 100

    def __init__(self, mixture: torch.Tensor, sample_rate: int, options: LatentOptions):
        generator = options.generator
        if generator is None:
            raise ValueError("the vqvae latent needs a generator")
        self.__dict__["generator"] = generator  # frozen and shared: not a submodule of this space
        hop = generator.hop_length(options.level)
        length = mixture.shape[-1]
        padded = F.pad(mixture, (0, -length % hop)).reshape(1, 1, -1)
        quantiser = generator.codebook_session(options.codebook, seed=options.seed)
        with torch.no_grad():
            z = generator.encode(padded, options.level)
            reconstruction = generator.decode(quantiser.quantise(z, options.level)[1], options.level)
        self.quantiser = quantiser
        self.level = options.level
        self.use_mask = options.mask
        stfts = [STFT(n, device=mixture.device) for n in options.fft_sizes]
        super().__init__(reconstruction.reshape(-1)[:length], stfts)
        self.reference_magnitudes = [spec.abs() for spec in self.reference_specs]
        self.z = nn.Parameter(z)

    @staticmethod
    def working_rate(input_rate: int, options: LatentOptions) -> int:
        return options.generator.sample_rate

    def decoded(self) -> torch.Tensor:
        """The generator's audio for the current latents, ``(length,)``."""
        _, zq = self.quantiser.quantise(self.z, self.level)
        return self.generator.decode(zq, self.level).reshape(-1)[: self.length]

    def masks(self) -> list[torch.Tensor]:
        audio = self.decoded()
        return [ratio_mask(stft(audio).abs(), mag)[None] for stft, mag in zip(self.stfts, self.reference_magnitudes)]

    def estimates(self) -> torch.Tensor:
        return super().estimates() if self.use_mask else self.decoded()[None, None]

    @torch.no_grad()
    def apply(self, channels: torch.Tensor, last_view_only: bool = False) -> torch.Tensor:
        if self.use_mask:
            return super().apply(channels, last_view_only)
        return self.decoded().expand_as(channels)[None].clone()


class NMFLatent(MaskedLatent):
    """Gains of the mixture's KL-NMF components (optionally per time knot), one set per source.

    Each component's gains are a softmax over the sources and the rest. For one source this is
    a sigmoid gain per component, starting at ``init_gain``; for several they start equal.
    """

    default_lr = 0.3
    default_steps = 150
    joint = True
    n_fft = 2048
    hop_length = 512

    def __init__(self, mixture: torch.Tensor, sample_rate: int, options: LatentOptions):
        super().__init__(mixture, [STFT(self.n_fft, self.hop_length, device=mixture.device)])
        W, H = kl_nmf(self.reference_specs[0].abs(), options.components, seed=options.seed)
        self.register_buffer("W", W)
        self.register_buffer("H", H)
        self.register_buffer("full", W @ H + 1e-8)
        logits = torch.zeros(options.sources + 1, options.components, options.time_knots, device=mixture.device)
        if options.sources == 1:
            logits[0] = math.log(options.init_gain / (1 - options.init_gain))
        self.gain_logits = nn.Parameter(logits)

    def gains(self) -> torch.Tensor:
        """Per-source component gains ``(sources, K, frames)``, interpolated between time knots."""
        gains = torch.softmax(self.gain_logits, dim=0)[:-1]
        frames = self.H.shape[-1]
        if gains.shape[-1] == 1:
            return gains.expand(-1, -1, frames)
        return F.interpolate(gains, size=frames, mode="linear", align_corners=True)

    def masks(self) -> list[torch.Tensor]:
        return [(self.W @ (self.gains() * self.H)) / self.full]


class FreeMaskLatent(MaskedLatent):
    """One logit per time-frequency bin: the negative control that taggers learn to fool.

    The taggers hear nothing above 8 kHz, so bins above it follow the mean logit of 6-8 kHz in
    their frame instead of keeping their initial value.
    """

    default_lr = 0.5
    default_steps = 100
    n_fft = 2048
    hop_length = 512
    band = (6000.0, 8000.0)

    def __init__(self, mixture: torch.Tensor, sample_rate: int, options: LatentOptions):
        stft = STFT(self.n_fft, self.hop_length, device=mixture.device)
        super().__init__(mixture, [stft])
        freqs = stft.frequencies(sample_rate)
        self.register_buffer("reference_band", (freqs >= self.band[0]) & (freqs <= self.band[1]))
        self.register_buffer("deaf", freqs > self.band[1])
        init = math.log(options.init_gain / (1 - options.init_gain))
        shape = self.reference_specs[0].shape
        self.logits = nn.Parameter(torch.full(shape, init, device=mixture.device))

    def masks(self) -> list[torch.Tensor]:
        logits = self.logits
        if self.reference_band.any():
            tied = logits[self.reference_band].mean(0, keepdim=True)
            logits = torch.where(self.deaf[:, None], tied, logits)
        return [torch.sigmoid(logits)[None]]


LATENTS: dict[str, type[LatentSpace]] = {
    "vqvae": VQVAELatent,
    "nmf": NMFLatent,
    "mask": FreeMaskLatent,
}
