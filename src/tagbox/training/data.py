"""Training data: audio files of a prepared folder, random crops, fixed validation excerpts."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch import Tensor

from tagbox.errors import TagboxError
from tagbox.resample import resample

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".flac", ".wav", ".ogg")
_SILENCE_RMS = 1e-3
_CROP_TRIES = 20



def audio_files(folder: Path) -> list[Path]:
    """Readable audio files under ``folder``; unreadable ones are skipped with a warning."""
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
        try:
            if sf.info(path).frames > 0:
                files.append(path)
        except (sf.LibsndfileError, RuntimeError, OSError) as error:
            logger.warning("skipping unreadable %s: %s", path, error)
    return files


def training_files(data_dir: Path) -> tuple[list[Path], list[Path]]:
    """(train, valid) files of a data folder; raises a one-line error when there is no data."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir() or not os.access(data_dir, os.R_OK | os.X_OK):
        raise TagboxError(f"training data folder {data_dir} does not exist or cannot be read")
    train = audio_files(data_dir / "train")
    if not train:
        raise TagboxError(
            f"no readable audio under {data_dir / 'train'}: a training data folder holds "
            f"train/ and valid/ folders of audio files (see scripts/prepare_training_data.py)"
        )
    return train, audio_files(data_dir / "valid")


def read_mono(path: Path, sample_rate: int, start: int = 0, frames: int = -1) -> np.ndarray:
    """Samples [start, start+frames) of a file as mono float32 at ``sample_rate``."""
    with sf.SoundFile(path) as handle:
        rate = handle.samplerate
        if rate != sample_rate and frames > 0:
            start, frames = start * rate // sample_rate, math.ceil(frames * rate / sample_rate)
        handle.seek(start)
        wav = handle.read(frames, dtype="float32", always_2d=True).mean(axis=1)
    if rate != sample_rate:
        wav = resample(torch.from_numpy(wav), rate, sample_rate).numpy()
    return wav


class RandomCrops:
    """Random non-silent crops, each file drawn in proportion to its length, peak-normalised
    to a random level (TagBox peak-normalises its input, so the model sees that range)."""

    def __init__(self, files: list[Path], sample_rate: int, crop: int):
        self.files = files
        self.sample_rate = sample_rate
        self.crop = crop
        frames = np.array([sf.info(f).duration * sample_rate for f in files])
        self.frames = frames.astype(np.int64)
        weights = np.maximum(frames - crop, 1.0)
        self.weights = weights / weights.sum()

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(_CROP_TRIES):
            index = rng.choice(len(self.files), p=self.weights)
            start = int(rng.integers(0, max(self.frames[index] - self.crop, 0) + 1))
            wav = read_mono(self.files[index], self.sample_rate, start, self.crop)
            wav = np.pad(wav[: self.crop], (0, max(self.crop - len(wav), 0)))
            if np.sqrt(np.mean(wav**2)) > _SILENCE_RMS:
                return wav / np.abs(wav).max() * rng.uniform(0.3, 1.0)
        raise TagboxError(f"found only silence in {_CROP_TRIES} random crops of the training data")

    def batch(self, rng: np.random.Generator, size: int) -> Tensor:
        return torch.from_numpy(np.stack([self.sample(rng) for _ in range(size)])).unsqueeze(1)


def validation_excerpts(files: list[Path], sample_rate: int, count: int, seconds: float,
                        hop: int) -> list[Tensor]:
    """Fixed excerpts spread over the held-out pieces: the middle of each piece first, then
    more points per piece until ``count`` excerpts are taken."""
    length = int(seconds * sample_rate) // hop * hop
    excerpts = []
    per_piece = max(1, math.ceil(count / max(len(files), 1)))
    for path in files:
        total = int(sf.info(path).duration * sample_rate)
        for j in range(per_piece):
            if len(excerpts) >= count or total < length:
                break
            start = int((total - length) * (j + 0.5) / per_piece)
            wav = read_mono(path, sample_rate, start, length)[:length]
            peak = np.abs(wav).max()
            if len(wav) == length and np.sqrt(np.mean(wav**2)) > _SILENCE_RMS:
                excerpts.append(torch.from_numpy(wav / peak).view(1, 1, -1))
    return excerpts


