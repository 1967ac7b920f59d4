"""The ``mask`` latent: a free per-bin mask, kept as the documented negative control."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tagbox.latents.base import GainOptions, MaskedLatent, gain_logit
from tagbox.masks import STFT


@dataclass(frozen=True)
class FreeMaskOptions(GainOptions):
    """Only where the mask starts (``init_gain``): the space has no other setting."""


class FreeMaskLatent(MaskedLatent):
    """One logit per time-frequency bin: the negative control that taggers learn to fool.

    The taggers hear nothing above 8 kHz, so bins above it follow the mean logit of 6-8 kHz in
    their frame instead of keeping their initial value.
    """

    Options = FreeMaskOptions
    default_lr = 0.5
    default_steps = 100
    n_fft = 2048
    hop_length = 512
    band = (6000.0, 8000.0)

    def __init__(self, mixture: torch.Tensor, sample_rate: int, options: FreeMaskOptions, *,
                 model: None = None, sources: int = 1, seed: int = 0):
        stft = STFT(self.n_fft, self.hop_length, device=mixture.device)
        super().__init__(mixture, [stft])
        freqs = stft.frequencies(sample_rate)
        self.register_buffer("reference_band", (freqs >= self.band[0]) & (freqs <= self.band[1]))
        self.register_buffer("deaf", freqs > self.band[1])
        shape = self.reference_specs[0].shape
        self.logits = nn.Parameter(torch.full(shape, gain_logit(options.init_gain), device=mixture.device))

    def masks(self) -> list[torch.Tensor]:
        logits = self.logits
        if self.reference_band.any():
            tied = logits[self.reference_band].mean(0, keepdim=True)
            logits = torch.where(self.deaf[:, None], tied, logits)
        return [torch.sigmoid(logits)[None]]
