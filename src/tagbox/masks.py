"""Time-frequency views of a signal and the ratio masks TagBox builds on them.

TagBox compares generated audio G with the mixture X at several FFT sizes and keeps
``|G| / max(|X|, |G|)`` of the mixture. The square-root Hann window at hop n/2 makes the
analysis/synthesis pair a perfect reconstruction (its square sums to one), so a mask of ones
returns the mixture exactly and the estimate and residual always sum to the mixture.
"""

from __future__ import annotations

import torch

EPS = 1e-8


class STFT:
    """One STFT resolution: sqrt-Hann window, hop n/2 by default, centred frames."""

    def __init__(self, n_fft: int, hop_length: int | None = None, device: torch.device | str = "cpu"):
        self.n_fft = n_fft
        self.hop_length = hop_length or n_fft // 2
        self.window = torch.hann_window(n_fft, device=device).sqrt()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Complex spectrogram ``(..., n_fft // 2 + 1, frames)`` of ``x (..., T)``."""
        shape = x.shape
        spec = torch.stft(
            x.reshape(-1, shape[-1]), self.n_fft, self.hop_length, window=self.window,
            center=True, return_complex=True,
        )
        return spec.reshape(*shape[:-1], *spec.shape[-2:])

    def inverse(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """Signal ``(..., length)`` from a complex spectrogram made by this STFT."""
        shape = spec.shape
        audio = torch.istft(
            spec.reshape(-1, *shape[-2:]), self.n_fft, self.hop_length, window=self.window,
            center=True, length=length,
        )
        return audio.reshape(*shape[:-2], length)

    def frequencies(self, sample_rate: float) -> torch.Tensor:
        return torch.linspace(0, sample_rate / 2, self.n_fft // 2 + 1, device=self.window.device)


def ratio_mask(estimate_magnitude: torch.Tensor, mixture_magnitude: torch.Tensor) -> torch.Tensor:
    """TagBox's mask ``|G| / max(|X|, |G|)``: 1 where the generator is at least as loud as the mix."""
    return estimate_magnitude / (torch.maximum(mixture_magnitude, estimate_magnitude) + EPS)
