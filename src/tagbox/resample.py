"""Differentiable band-limited resampling, in pure torch.

The steering loop backpropagates through it (the generator works at 44.1 kHz, the taggers at
16 kHz), so it is torch code rather than a call into soxr or torchaudio.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from tagbox.errors import AudioError

# Filter design, chosen by measuring against soxr "VHQ" (see tests/test_resample.py and
# bench/bench_resample.py): 64 zero crossings per side, Kaiser beta 11 and a cutoff at 0.955 of
# the lower Nyquist give a passband flat to 0.01 dB up to 0.9 Nyquist, -4 dB at 0.95 (soxr: -3),
# and more than 115 dB of rejection above Nyquist, so nothing aliases into the tagger's band.
_ZERO_CROSSINGS = 64
_KAISER_BETA = 11.0
_ROLLOFF = 0.955
# Outputs are computed in blocks of at least this many: the reduced ratio of 48 kHz -> 16 kHz is
# 3:1, and a convolution with a single output channel runs about ten times slower than one with 16.
_MIN_PHASES = 16
# Rates whose ratio does not reduce (44100 -> 16001) would need a huge kernel.
_MAX_KERNEL_ELEMENTS = 1 << 24


def _block_rates(orig_sr: int, new_sr: int) -> tuple[int, int]:
    """Input and output samples per block: the reduced ratio, scaled to >= ``_MIN_PHASES`` outputs."""
    for rate in (orig_sr, new_sr):
        if int(rate) != rate or rate <= 0:
            raise ValueError(f"sample rates must be positive integers, got {rate}")
    divisor = math.gcd(int(orig_sr), int(new_sr))
    orig, new = int(orig_sr) // divisor, int(new_sr) // divisor
    scale = math.ceil(_MIN_PHASES / new)
    return orig * scale, new * scale


@lru_cache(maxsize=16)
def _sinc_kernel(orig: int, new: int) -> tuple[torch.Tensor, int]:
    """Polyphase windowed-sinc kernel ``(new, orig, taps)`` (float64) and the left ``pad``.

    Output sample ``m`` sits at input time ``m * orig / new``. Outputs come in blocks of ``new``:
    block ``q`` reads input samples ``[q * orig - pad, q * orig - pad + orig * taps)``, and row
    ``p`` holds the windowed sinc centred on phase ``p * orig / new`` of the block. With the
    input folded into ``orig`` channels (one per sample of a block), the resampler is a single
    stride-1 ``conv1d``: fast, and differentiable at the cost of one more convolution.
    """
    cutoff = 0.5 * _ROLLOFF * min(1.0, new / orig)  # cycles per input sample
    half_width = _ZERO_CROSSINGS / (2 * cutoff)  # input samples each side of the centre
    pad = math.ceil(half_width)
    taps = math.ceil((orig + 2 * pad) / orig)
    if new * orig * taps > _MAX_KERNEL_ELEMENTS:
        raise AudioError(
            f"cannot resample between rates whose ratio reduces to {orig}:{new}; "
            "convert the file to a common rate (e.g. 44100 or 48000 Hz) first"
        )
    offsets = torch.arange(orig * taps, dtype=torch.float64) - pad
    phases = torch.arange(new, dtype=torch.float64)[:, None] * orig / new
    t = phases - offsets
    inside = (t / half_width).clamp(-1, 1)
    beta = torch.tensor(_KAISER_BETA, dtype=torch.float64)
    window = torch.special.i0(beta * torch.sqrt(1 - inside**2)) / torch.special.i0(beta)
    window = torch.where(t.abs() <= half_width, window, torch.zeros_like(window))
    kernel = 2 * cutoff * torch.sinc(2 * cutoff * t) * window
    return kernel.reshape(new, taps, orig).transpose(1, 2).contiguous(), pad


def _resample_with(x: torch.Tensor, kernel: torch.Tensor, pad: int) -> torch.Tensor:
    new, orig, taps = kernel.shape
    length = x.shape[-1]
    out_length = math.ceil(length * new / orig)
    blocks = max(1, math.ceil(out_length / new))  # conv1d needs one block even for empty input
    frames = blocks + taps - 1
    batch = math.prod(x.shape[:-1])
    flat = F.pad(x.reshape(batch, length), (pad, frames * orig - length - pad))
    folded = flat.reshape(batch, frames, orig).transpose(1, 2)  # (batch, orig, frames)
    y = F.conv1d(folded, kernel.to(x))  # (batch, new, blocks)
    y = y.transpose(1, 2).reshape(*x.shape[:-1], blocks * new)
    return y[..., :out_length]


class Resampler(nn.Module):
    """Band-limited resampling from ``orig_sr`` to ``new_sr`` along the last dimension.

    Why windowed sinc rather than FFT resampling: it is local (no wrap-around between the end
    and the start of a clip, no dependence on the clip's length being FFT-friendly), its
    transition band can be placed just below Nyquist so nothing aliases, and it runs as one
    ``conv1d`` whose backward pass costs about as much as its forward. The kernel is built once
    per rate pair and kept as a buffer, so calling the module in an optimisation loop costs only
    the convolution (about 3 ms forward, 10 ms forward + backward for 10 s of 44.1 kHz audio
    to 16 kHz on one core; bench/bench_resample.py).

    Output length is ``ceil(samples * new_sr / orig_sr)``, as in librosa; sample ``m`` of the
    output corresponds to time ``m / new_sr`` (no delay).
    """

    kernel: torch.Tensor

    def __init__(self, orig_sr: int, new_sr: int):
        super().__init__()
        self.orig_sr, self.new_sr = int(orig_sr), int(new_sr)
        kernel, self.pad = _sinc_kernel(*_block_rates(orig_sr, new_sr))
        self.register_buffer("kernel", kernel.float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.orig_sr == self.new_sr:
            return x
        return _resample_with(x, self.kernel, self.pad)

    def extra_repr(self) -> str:
        return f"orig_sr={self.orig_sr}, new_sr={self.new_sr}"


def resample(x: torch.Tensor, orig_sr: int, new_sr: int) -> torch.Tensor:
    """Resample ``x`` along its last dimension (differentiable; see :class:`Resampler`).

    The kernel is cached per rate pair; in a loop, a :class:`Resampler` also avoids its cast.
    """
    orig, new = _block_rates(orig_sr, new_sr)
    if orig == new:
        return x
    kernel, pad = _sinc_kernel(orig, new)
    return _resample_with(x, kernel, pad)
