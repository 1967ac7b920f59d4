"""Losses and reconstruction metrics of generator training (Jukebox-style)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from tagbox.generators.vqvae import VQVAE
from tagbox.metrics import si_sdr

STFT_SIZES = (2048, 1024, 512, 256, 128)
LSD_SIZES = (2048, 1024, 512)
LSD_FLOOR_DB = 80.0



def stft_magnitude(x: Tensor, n_fft: int) -> Tensor:
    """|STFT| of (N, 1, T) audio with a Hann window and 75 % overlap: (N, bins, frames)."""
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(x.reshape(-1, x.shape[-1]), n_fft, n_fft // 4, window=window,
                      return_complex=True)
    return spec.abs()


def spectral_loss(x: Tensor, y: Tensor, sizes: tuple[int, ...] = STFT_SIZES) -> Tensor:
    """Multi-resolution STFT loss: spectral convergence + mean |log magnitude| difference."""
    total = x.new_zeros(())
    for n_fft in sizes:
        sx, sy = stft_magnitude(x, n_fft), stft_magnitude(y, n_fft)
        convergence = torch.linalg.norm(sx - sy) / torch.linalg.norm(sx).clamp_min(1e-7)
        log_l1 = (torch.log(sx.clamp_min(1e-5)) - torch.log(sy.clamp_min(1e-5))).abs().mean()
        total = total + convergence + log_l1
    return total / len(sizes)


def waveform_loss(x: Tensor, y: Tensor) -> Tensor:
    """L2 of the waveform relative to each crop's energy (10**(-SNR/10), averaged)."""
    error = (x - y).pow(2).mean(dim=(1, 2))
    return (error / x.pow(2).mean(dim=(1, 2)).clamp_min(1e-8)).mean()


def log_spectral_distance(x: Tensor, y: Tensor, sizes: tuple[int, ...] = LSD_SIZES) -> float:
    """Multi-resolution log-spectral distance in dB of ``y`` from the reference ``x``: per
    frame, the RMS over bins of the difference of power spectra in dB, averaged over frames
    and resolutions. Both spectra are floored at ``LSD_FLOOR_DB`` below the reference's
    loudest bin, so inaudibly quiet bins do not dominate."""
    distances = []
    for n_fft in sizes:
        px = stft_magnitude(x, n_fft).pow(2).clamp_min(1e-20).log10() * 10
        py = stft_magnitude(y, n_fft).pow(2).clamp_min(1e-20).log10() * 10
        floor = px.amax(dim=(-2, -1), keepdim=True) - LSD_FLOOR_DB
        px, py = torch.maximum(px, floor), torch.maximum(py, floor)
        distances.append((px - py).pow(2).mean(dim=-2).sqrt().mean())
    return float(torch.stack(distances).mean())


def reconstruction_metrics(reference: Tensor, estimate: Tensor) -> dict[str, float]:
    """SI-SDR (dB, higher is better) and multi-resolution LSD (dB, lower is better)."""
    n = min(reference.shape[-1], estimate.shape[-1])
    reference, estimate = reference[..., :n], estimate[..., :n]
    return {
        "si_sdr": si_sdr(reference.reshape(-1).numpy(), estimate.reshape(-1).numpy()),
        "lsd": log_spectral_distance(reference, estimate),
    }


@torch.no_grad()
def reconstruct(model: VQVAE, x: Tensor) -> Tensor:
    """Encode, quantise with the model's own (frozen) codebook, decode: level 0."""
    _, zq = model.quantise(model.encode(x, 0), 0)
    return model.decode(zq, 0)


@torch.no_grad()
def validate(model: VQVAE, excerpts: list[Tensor]) -> dict[str, float]:
    """Mean reconstruction metrics over the validation excerpts."""
    was_training = model.training
    model.eval()
    scores = [reconstruction_metrics(x, reconstruct(model, x)) for x in excerpts]
    model.train(was_training)
    return {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}


