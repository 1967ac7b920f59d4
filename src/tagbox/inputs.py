"""The one gate audio passes before tagbox works on it, in the library and the CLI alike.

:func:`audio_input` turns what users hand over (numpy arrays or tensors, float or integer,
either layout, mono vectors) into tagbox's ``(channels, samples)`` float32, and refuses with one
:class:`AudioError` line, naming the file when there is one, what would otherwise be processed
for minutes and come back silently wrong: non-finite values, silence, clips too short to tag.
:func:`check_file` runs the same gate on a file, so that the CLI can refuse a bad input before
any model is loaded.

Layout rule: the channel axis is the shorter one. A ``(samples, channels)`` array, as
``soundfile.read`` returns, is transposed. When both axes have the same length, or the shorter
one is longer than :data:`MAX_CHANNELS` (more likely a batch of clips than channels), the shape
does not tell the layout: the rule still applies (equal axes: ``(channels, samples)``), with a warning.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch

from tagbox.audio import AudioLike, audio_blocks, check_audio
from tagbox.errors import AudioError

logger = logging.getLogger(__name__)

# The taggers judge windows of 3 s (musicnn) to 29 s (FCN) and fill them by repeating a shorter
# clip; under half a second a window holds six or more repeats, so what they hear is the loop.
MIN_SECONDS = 0.5
MAX_CHANNELS = 64
_BLOCK_SECONDS = 30.0


def audio_input(wav: AudioLike, sample_rate: int, *, what: str = "audio") -> torch.Tensor:
    """``wav`` as a ``(channels, samples)`` float32 tensor at full scale ±1, or an AudioError.

    Integer samples are scaled by their type's range (int16 by 32768; unsigned types are
    centred first, as in 8-bit WAV). ``what`` names the signal in messages (the file it came from).
    """
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise AudioError(f"{what}: the sample rate must be a positive integer, got {sample_rate}")
    values = _channels_first(_as_float(wav, what), what)
    check_audio(values, what)
    _check_length(values.shape[-1], sample_rate, what)
    return values


def check_file(path: str | os.PathLike) -> tuple[int, int]:
    """The checks of :func:`audio_input` on the file at ``path``, so a bad file fails before any work.

    The file is read in blocks (memory stays flat in its length). Returns its sample rate and
    channel count.
    """
    samples, sound = 0, False
    for block, sample_rate in audio_blocks(path, _BLOCK_SECONDS):
        check_audio(block, str(path), silent_ok=True)
        samples, sound = samples + block.shape[-1], sound or bool(block.any())
    if not sound:
        check_audio(block, str(path))  # raises: silent
    _check_length(samples, sample_rate, str(path))
    return sample_rate, block.shape[0]


def _check_length(samples: int, sample_rate: int, what: str) -> None:
    seconds = samples / sample_rate
    if seconds < MIN_SECONDS:
        raise AudioError(
            f"{what} is {seconds:.3f} s long; tagbox needs at least {MIN_SECONDS} s: the taggers judge "
            f"windows of 3 s or more, and a shorter clip repeated to fill them is heard as a loop"
        )


def _as_float(wav: AudioLike, what: str) -> torch.Tensor:
    try:
        values = wav if torch.is_tensor(wav) else torch.as_tensor(np.asarray(wav))
    except (TypeError, ValueError, RuntimeError) as error:
        raise AudioError(f"{what}: expected a numpy array or tensor of samples, got {type(wav).__name__}") from error
    if values.dtype == torch.bool or values.is_complex():
        raise AudioError(f"{what}: expected real samples, got dtype {values.dtype}")
    if values.is_floating_point():
        return values.float()
    info = torch.iinfo(values.dtype)
    half_range = (info.max - info.min + 1) / 2  # 32768 for int16, 128 for uint8
    centre = (info.max + info.min + 1) / 2  # 0 for signed types, 128 for uint8
    return ((values.double() - centre) / half_range).float()


def _channels_first(values: torch.Tensor, what: str) -> torch.Tensor:
    if values.dim() == 1:
        return values[None]
    if values.dim() != 2:
        raise AudioError(
            f"{what}: expected (channels, samples), (samples, channels) or (samples,), got shape {tuple(values.shape)}"
        )
    rows, columns = values.shape
    channels_first = values if rows <= columns else values.T
    if rows == columns or min(rows, columns) > MAX_CHANNELS:
        logger.warning(
            "%s: shape %s is ambiguous; taking it as %d channels of %d samples (a batch of clips "
            "must be separated one by one)", what, tuple(values.shape), *channels_first.shape,
        )
    return channels_first
