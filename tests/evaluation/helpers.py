"""Tiny synthetic multitracks written to disk, shared by the evaluation and CLI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from tagbox.evaluation.datasets import Track

RATE = 8000
SECONDS = 2.0


def tone(frequency: float = 440.0, seconds: float = SECONDS, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def clicks(period_s: float = 0.25, seconds: float = SECONDS, rate: int = RATE) -> np.ndarray:
    signal = np.zeros(int(seconds * rate), dtype=np.float32)
    signal[:: int(period_s * rate)] = 0.9
    return signal


def noise_bursts(seed: int = 0, seconds: float = SECONDS, rate: int = RATE) -> np.ndarray:
    """White noise gated on and off every 0.25 s, so it and a tone overlap in time but not in every bin."""
    rng = np.random.default_rng(seed)
    gate = (np.arange(int(seconds * rate)) // int(0.25 * rate)) % 2
    return (0.2 * rng.standard_normal(gate.size) * gate).astype(np.float32)


def two_source_track(first: np.ndarray, second: np.ndarray) -> Track:
    """An organ and drums, mono, as a track in memory."""
    stems = {"organ": first[None], "drums": second[None]}
    return Track("synthetic", (first + second)[None], stems, RATE)


def write_track(
    root: Path, name: str, stems: dict[str, np.ndarray], mixture: np.ndarray | None = None, rate: int = RATE
) -> Path:
    """ROOT/name/mixture.wav (the stems' sum unless given) plus one <stem>.wav per stem, float WAV."""
    folder = root / name
    folder.mkdir(parents=True)
    if mixture is None:
        mixture = np.sum(list(stems.values()), axis=0)
    sf.write(folder / "mixture.wav", mixture, rate, subtype="FLOAT")
    for stem, audio in stems.items():
        sf.write(folder / f"{stem}.wav", audio, rate, subtype="FLOAT")
    return folder


def write_dataset(root: Path) -> Path:
    """Two tracks: a tone with noise bursts, and a tone with a click train."""
    write_track(root, "track_a", {"organ": tone(330.0), "drums": noise_bursts()})
    write_track(root, "track_b", {"organ": tone(550.0), "drums": clicks()})
    return root
