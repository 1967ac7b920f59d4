"""Audio in and out, and sanity checks.

Arrays are ``(channels, samples)`` float32 at full scale ±1 everywhere in tagbox. Reading and
writing go through soundfile (libsndfile: WAV, FLAC, OGG, and MP3 where libsndfile >= 1.1).
Resampling lives in :mod:`tagbox.resample`.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import soundfile as sf
import torch

from tagbox.errors import AudioError, TagboxError, UnknownNameError

AudioLike = np.ndarray | torch.Tensor

# --------------------------------------------------------------------------- reading


def load_audio(
    path: str | os.PathLike, offset: float = 0.0, duration: float | None = None
) -> tuple[np.ndarray, int]:
    """Read ``duration`` seconds from ``offset`` seconds into ``path``.

    Returns ``(wav, sample_rate)`` with ``wav`` float32 of shape ``(channels, samples)``.
    Only the requested span is decoded (the file is seeked, not read whole), so excerpts of
    long files are cheap.
    """
    path = Path(path)
    if offset < 0 or (duration is not None and duration <= 0):
        raise AudioError(f"invalid span for {path}: offset must be >= 0 and duration > 0 seconds")
    with _reading(path) as handle:
        sr = handle.samplerate
        start = round(offset * sr)
        if start >= handle.frames:
            raise AudioError(f"{path} holds {handle.frames / sr:.2f} s of audio; nothing at offset {offset:g} s")
        if start:
            handle.seek(start)
        frames = -1 if duration is None else max(1, round(duration * sr))
        data = handle.read(frames, dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), sr


def audio_blocks(path: str | os.PathLike, seconds: float) -> Iterator[tuple[np.ndarray, int]]:
    """``(wav, sample_rate)`` for each consecutive ``seconds`` of ``path``, as :func:`load_audio` reads them.

    For a pass over a long file in flat memory.
    """
    with _reading(Path(path)) as handle:
        for block in handle.blocks(max(1, round(seconds * handle.samplerate)), dtype="float32", always_2d=True):
            yield np.ascontiguousarray(block.T), handle.samplerate


@contextmanager
def _reading(path: Path) -> Iterator[sf.SoundFile]:
    """An open, non-empty audio file; anything that goes wrong reading it is one AudioError line."""
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        with sf.SoundFile(path) as handle:
            if handle.frames == 0:
                raise AudioError(f"audio file {path} is empty")
            yield handle
    except (sf.SoundFileError, RuntimeError) as error:
        raise AudioError(f"cannot read audio file {path}: {_one_line(error)}") from error


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


# --------------------------------------------------------------------------- checks


def check_audio(wav: AudioLike, what: str = "audio", *, silent_ok: bool = False) -> None:
    """Raise :class:`AudioError` if ``wav`` is empty, non-finite, or (unless ``silent_ok``) all zero.

    ``what`` names the signal in the message (e.g. the file it came from).
    """
    values = torch.as_tensor(wav)
    if values.numel() == 0:
        raise AudioError(f"{what} is empty")
    if not bool(torch.isfinite(values).all()):
        raise AudioError(f"{what} contains NaN or infinite samples")
    if not silent_ok and not bool(values.any()):
        raise AudioError(f"{what} is silent (every sample is zero)")


# --------------------------------------------------------------------------- writing

_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}
_SUBTYPES = {"int16": "PCM_16", "int24": "PCM_24", "float32": "FLOAT"}
# Lossy containers store their codec's own samples, whatever the encoding asked for (listening copies).
_LOSSY = {"OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}


def _rescale(wav: np.ndarray, peak: float) -> np.ndarray:
    """Scale the whole signal down if it peaks above full scale, keeping its shape (demucs)."""
    return wav / peak if peak > 1 else wav


def _clamp(wav: np.ndarray, peak: float) -> np.ndarray:
    return np.clip(wav, -1.0, 1.0)


def _unchanged(wav: np.ndarray, peak: float) -> np.ndarray:
    return wav


_CLIP_MODES = {"rescale": _rescale, "clamp": _clamp, "none": _unchanged}


def save_audio(
    path: str | os.PathLike,
    wav: AudioLike,
    sr: int,
    *,
    encoding: str = "int16",
    clip: str = "rescale",
    force: bool = False,
) -> Path:
    """Write ``wav`` ``(channels, samples)`` to ``path`` (.wav or .flac; .ogg or .mp3 for lossy
    listening copies, which ignore ``encoding``) and return the path.

    ``clip`` says what happens to samples beyond ±1: ``rescale`` divides the whole signal by
    its peak, ``clamp`` clips them, ``none`` writes them as they are (only a float32 WAV can
    hold them). The file is written under a temporary name in the same folder and renamed,
    so a failed write never leaves a partial file, and an existing file is kept unless
    ``force``. Missing parent folders are created.
    """
    _check_output(Path(path), encoding, clip, sr, force)
    data = _as_channels_first(wav, Path(path))
    return save_blocks(path, lambda: [data], sr, data.shape[0], encoding=encoding, clip=clip, force=force)


def save_blocks(
    path: str | os.PathLike,
    blocks: Callable[[], Iterable[np.ndarray]],
    sr: int,
    channels: int,
    *,
    encoding: str = "int16",
    clip: str = "rescale",
    force: bool = False,
) -> Path:
    """:func:`save_audio` for a signal given as consecutive ``(channels, n)`` blocks.

    ``blocks()`` is called twice, once to find the peak the clip mode needs and once to write,
    so a long signal is written without ever being whole in memory.
    """
    path = Path(path)
    container = _check_output(path, encoding, clip, sr, force)
    peak = 0.0
    for block in blocks():
        check_audio(block, f"audio for {path}", silent_ok=True)
        peak = max(peak, float(np.max(block, initial=0.0)), -float(np.min(block, initial=0.0)))
    if encoding != "float32" and clip == "none" and peak > 1:
        raise AudioError(
            f"cannot write {path}: samples exceed full scale and {encoding} cannot hold them; "
            "use clip='rescale' or 'clamp', or float32 WAV"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        subtype = _LOSSY.get(container, _SUBTYPES[encoding])
        with sf.SoundFile(tmp, "w", int(sr), channels, subtype, format=container) as handle:
            for block in blocks():
                handle.write(_CLIP_MODES[clip](np.asarray(block, dtype=np.float32), peak).T)
        os.replace(tmp, path)
    except (sf.SoundFileError, RuntimeError, OSError) as error:
        raise AudioError(f"cannot write {path}: {_one_line(error)}") from error
    finally:
        tmp.unlink(missing_ok=True)
    return path


def matching_encoding(source: str | os.PathLike, target: str | os.PathLike) -> str:
    """The encoding that keeps ``source``'s sample depth in a file like ``target`` (.wav or .flac).

    24- and 32-bit integers give int24; floats give float32, or int24 in FLAC (which stores
    integers only); anything else (16 bits or fewer, lossy formats) gives int16.
    """
    subtype = sf.info(str(source)).subtype
    if subtype in ("FLOAT", "DOUBLE"):
        return "int24" if Path(target).suffix.lower() == ".flac" else "float32"
    return "int24" if subtype in ("PCM_24", "PCM_32") else "int16"


def _check_output(path: Path, encoding: str, clip: str, sr: int, force: bool) -> str:
    """The container for ``path``, once the options and the path are known to be writable."""
    container = _FORMATS.get(path.suffix.lower())
    if container is None:
        raise AudioError(f"cannot write {path}: output must end in one of {', '.join(_FORMATS)}")
    if encoding not in _SUBTYPES:
        raise UnknownNameError(f"unknown encoding '{encoding}'; choose one of {', '.join(_SUBTYPES)}")
    if clip not in _CLIP_MODES:
        raise UnknownNameError(f"unknown clip mode '{clip}'; choose one of {', '.join(_CLIP_MODES)}")
    if container not in sf.available_formats():
        raise AudioError(f"cannot write {path}: this soundfile's libsndfile cannot write {container}")
    if container == "FLAC" and encoding == "float32":
        raise AudioError(f"cannot write {path}: FLAC stores integers only; use int16 or int24, or a .wav file")
    if int(sr) != sr or sr <= 0:
        raise AudioError(f"cannot write {path}: invalid sample rate {sr}")
    if path.exists() and not force:
        raise TagboxError(f"{path} already exists; pass --force (force=True) to overwrite it")
    return container


def _as_channels_first(wav: AudioLike, path: Path) -> np.ndarray:
    if isinstance(wav, torch.Tensor):
        wav = wav.detach().cpu().numpy()
    data = np.asarray(wav, dtype=np.float32)
    if data.ndim == 1:
        data = data[None]
    if data.ndim != 2:
        raise AudioError(f"cannot write {path}: expected (channels, samples), got shape {tuple(data.shape)}")
    return data
