"""The taggers' shared front end: log-mel spectrogram, exactly as the checkpoints were trained.

The checkpoints store the STFT window and the mel filterbank as buffers (``spec.spectrogram.window``,
``spec.mel_scale.fb``); loading them, rather than recomputing, is what makes the outputs and the
input gradients match the reference (recomputed filterbanks move gradients by ~0.5 %).
"""

from __future__ import annotations

import math

import torch
from torch import nn

SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
AMIN = 1e-10


def htk_mel_filterbank(
    n_freqs: int = N_FFT // 2 + 1,
    n_mels: int = N_MELS,
    sample_rate: int = SAMPLE_RATE,
    f_min: float = 0.0,
    f_max: float = SAMPLE_RATE / 2,
) -> torch.Tensor:
    """Unit-height HTK-mel triangles sampled at the FFT bins, (n_freqs, n_mels).

    Only the initial value of the buffer: pretrained checkpoints overwrite it with their own.
    """
    mel_min, mel_max = (2595.0 * math.log10(1.0 + f / 700.0) for f in (f_min, f_max))
    points = 700.0 * (10.0 ** (torch.linspace(mel_min, mel_max, n_mels + 2, dtype=torch.float64) / 2595.0) - 1.0)
    freqs = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)
    widths = points.diff()
    slopes = points[None, :] - freqs[:, None]
    rising = -slopes[:, :-2] / widths[:-1]
    falling = slopes[:, 2:] / widths[1:]
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


class PowerSpectrogram(nn.Module):
    """|STFT|² with centre reflect padding; (B, L) -> (B, n_fft/2 + 1, 1 + L // hop)."""

    def __init__(self, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH):
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.register_buffer("window", torch.hann_window(n_fft))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stft = torch.stft(
            x, self.n_fft, self.hop_length, window=self.window,
            center=True, pad_mode="reflect", return_complex=True,
        )
        return torch.view_as_real(stft).square().sum(-1)


class MelScale(nn.Module):
    """Projects a power spectrogram onto the stored mel filterbank: (B, F, T) -> (B, M, T)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("fb", htk_mel_filterbank())

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.fb.T, power)


class MelSpectrogram(nn.Module):
    """Power mel spectrogram; the sub-module names reproduce the checkpoints' ``spec.*`` keys."""

    def __init__(self):
        super().__init__()
        self.spectrogram = PowerSpectrogram()
        self.mel_scale = MelScale()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mel_scale(self.spectrogram(x))


def power_to_db(power: torch.Tensor) -> torch.Tensor:
    """10·log10 with a floor of -100 dB and no top_db clipping; the floor passes zero gradient."""
    return 10.0 * torch.log10(torch.clamp(power, min=AMIN))
