"""Cutting audio into tagger windows and averaging the tags over them (as TagBox does)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tagbox.errors import AudioError
from tagbox.taggers.base import Tagger

# Windows per forward pass are capped by total samples: 16 musicnn windows, or 1 FCN window.
_BATCH_SAMPLES = 16 * 48000


def frame(x: torch.Tensor, input_length: int) -> torch.Tensor:
    """(..., N) -> (..., ceil(N / input_length), input_length), non-overlapping, last window zero-padded."""
    length = x.shape[-1]
    if length == 0:
        raise AudioError("cannot tag empty audio")
    n_windows = -(-length // input_length)
    return F.pad(x, (0, n_windows * input_length - length)).unflatten(-1, (n_windows, input_length))


def wrap_to_windows(x: torch.Tensor, input_length: int) -> torch.Tensor:
    """(..., N) -> (..., M): ``x`` repeated end to start up to M, the next multiple of ``input_length``.

    A 10 s clip zero-padded into an FCN or CRNN window (29 s) is two thirds silence, and those
    taggers then barely hear any source; repeated, the clip fills its window like a song does.
    """
    length = x.shape[-1]
    if length == 0:
        raise AudioError("cannot tag empty audio")
    total = -(-length // input_length) * input_length
    return x.repeat(*([1] * (x.dim() - 1)), -(-total // length))[..., :total]


def predict(tagger: Tagger, wav16k: torch.Tensor | np.ndarray, wrap: bool = False) -> torch.Tensor:
    """Mean tag probabilities over the windows of mono 16 kHz audio: ``(samples,) -> (tags,)``,
    or clip by clip ``(clips, samples) -> (clips, tags)``, the clips' windows batched together.

    With ``wrap`` the audio is repeated to fill its last window (:func:`wrap_to_windows`)
    instead of zero-padded, as the reference does. Differentiable with respect to ``wav16k``;
    use ``torch.no_grad()`` when only tagging.
    """
    device = tagger.spec_bn.running_mean.device
    wav = torch.as_tensor(wav16k, dtype=torch.float32, device=device)
    if wav.dim() not in (1, 2):
        raise AudioError(f"predict takes mono audio, (samples,) or (clips, samples), got {tuple(wav.shape)}")
    windows = frame(wrap_to_windows(wav, tagger.input_length) if wrap else wav, tagger.input_length)
    per_batch = max(1, _BATCH_SAMPLES // tagger.input_length)
    probs = torch.cat([tagger(batch) for batch in windows.reshape(-1, tagger.input_length).split(per_batch)])
    return probs.reshape(*windows.shape[:-1], -1).mean(-2)
