"""Convolution blocks shared by the architectures; sub-module names follow the checkpoints."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Conv2dBlock(nn.Sequential):
    """3×3 conv -> BatchNorm -> ReLU -> max-pool (kernel = stride, trailing remainder dropped)."""

    def __init__(self, in_channels: int, out_channels: int, pool: tuple[int, int]):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(pool)


class Conv1dBlock(nn.Sequential):
    """Length-preserving conv (odd kernel) -> BatchNorm -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.bn = nn.BatchNorm1d(out_channels)
        self.relu = nn.ReLU()


def flush_subnormals(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` with values below float32's smallest normal number (~1.2e-38) set to zero.

    Some checkpoints hold many such weights (channels that weight decay drove towards zero).
    They change no output measurably but make every CPU op that touches them up to ~40× slower,
    since x86 handles subnormal arithmetic in microcode.
    """
    return tensor.masked_fill(tensor.abs() < torch.finfo(tensor.dtype).tiny, 0.0)


def fold_batch_norm(conv: nn.Module, bn: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of ``conv`` followed by ``bn`` in eval mode, as one affine conv."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight * scale.view(-1, *([1] * (conv.weight.dim() - 1)))
    bias = (conv.bias - bn.running_mean) * scale + bn.bias
    return flush_subnormals(weight), bias


class TimbreBlock(nn.Module):
    """Musicnn's "vertical" branch: a (kf × 7) conv over the spectrogram, then max over frequency.

    Stored as the reference's Conv2d(1 -> C) + BatchNorm2d, but computed as an exact, faster
    equivalent (about 3× on CPU): the BatchNorm is folded into the conv; the max over frequency
    is taken before the ReLU (they commute); and the single-channel (kf × 7) conv becomes a
    conv1d over time whose kf input channels are the kf mel bands under each frequency offset.
    """

    def __init__(self, filters: int, freq_kernel: int, time_kernel: int = 7):
        super().__init__()
        self.conv = nn.Conv2d(1, filters, (freq_kernel, time_kernel), padding=(0, time_kernel // 2))
        self.bn = nn.BatchNorm2d(filters)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, M, T) spectrogram -> (B, C, T)."""
        batch, _, frames = spec.shape
        freq_kernel, time_kernel = self.conv.kernel_size
        weight, bias = fold_batch_norm(self.conv, self.bn)
        patches = spec.unfold(1, freq_kernel, 1)  # (B, R, T, kf): R frequency offsets
        offsets = patches.shape[1]
        patches = patches.permute(0, 1, 3, 2).reshape(batch * offsets, freq_kernel, frames)
        out = F.conv1d(patches, weight[:, 0], bias, padding=time_kernel // 2)
        return F.relu(out.view(batch, offsets, -1, frames).amax(1))


class TemporalBlock(nn.Module):
    """Musicnn's "horizontal" branch: a long conv over time on the band-averaged spectrogram."""

    def __init__(self, filters: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv1d(1, filters, kernel_size, padding=kernel_size // 2)
        self.bn = nn.BatchNorm1d(filters)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, M, T) spectrogram -> (B, C, T)."""
        return F.relu(self.bn(self.conv(spec.mean(1, keepdim=True))))
