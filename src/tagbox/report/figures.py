"""The report's pictures: spectrograms on one colour scale, and the steering curves.

Drawn with matplotlib's Agg backend into PNG files, so no display or browser is needed. A
spectrogram is read from its file block by block and pooled to at most ``MAX_COLUMNS`` columns
and ``MAX_ROWS`` rows (each the loudest of the bins it covers, about what a picture's pixels can
show), so a picture of a long file takes as little memory as one of a short file.
"""

from __future__ import annotations

import itertools
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

N_FFT = 2048
HOP = 512
DYNAMIC_RANGE_DB = 80.0
MAX_COLUMNS = 800  # the picture is 720 pixels wide, a panel 176 high
MAX_ROWS = 256
BLOCK_SECONDS = 10.0


@dataclass
class Spectrum:
    """The dB magnitude of a file's mono downmix, ``(bins, columns)``, and what its axes span."""

    db: np.ndarray
    seconds: float
    sample_rate: int


def magnitude_db(mono: np.ndarray) -> np.ndarray:
    """Magnitude STFT of a mono signal in dB, ``(bins, frames)``: one frame per ``HOP`` samples, no padding."""
    window = torch.hann_window(N_FFT)
    spec = torch.stft(torch.as_tensor(mono), N_FFT, HOP, window=window, return_complex=True, center=False)
    return (20 * torch.log10(spec.abs().clamp_min(1e-7))).numpy()


def spectrum(path: Path) -> Spectrum:
    """The spectrogram of the audio file at ``path``, read ``BLOCK_SECONDS`` at a time.

    Frames are those of an STFT centred on every ``HOP``-th sample (zeros beyond the ends);
    runs of consecutive frames and bins are pooled by their maximum into at most ``MAX_COLUMNS``
    columns and ``MAX_ROWS`` rows.
    """
    info = sf.info(str(path))
    factor = max(1, math.ceil((info.frames // HOP + 1) / MAX_COLUMNS))
    rows = max(1, math.ceil((N_FFT // 2 + 1) / MAX_ROWS))
    columns: list[np.ndarray] = []
    pending = np.zeros((N_FFT // 2 + 1, 0), dtype=np.float32)
    carried = np.zeros(N_FFT // 2, dtype=np.float32)  # the start's padding, then what the next frame needs

    def pool(frames: np.ndarray, last: bool = False) -> np.ndarray:
        whole = frames.shape[1] if last else frames.shape[1] // factor * factor
        if whole:
            runs = np.stack([frames[:, i: i + factor].max(1) for i in range(0, whole, factor)], axis=1)
            columns.append(np.stack([runs[i: i + rows].max(0) for i in range(0, runs.shape[0], rows)]))
        return frames[:, whole:]

    blocks = sf.blocks(str(path), blocksize=max(N_FFT, round(BLOCK_SECONDS * info.samplerate)), dtype="float32",
                       always_2d=True)
    for block in itertools.chain(blocks, [np.zeros((N_FFT // 2, 1), dtype=np.float32)]):  # the end's padding last
        mono = np.concatenate([carried, block.mean(1)])
        count = (mono.shape[0] - N_FFT) // HOP + 1 if mono.shape[0] >= N_FFT else 0
        if count:
            pending = pool(np.concatenate([pending, magnitude_db(mono[: (count - 1) * HOP + N_FFT])], axis=1))
        carried = mono[count * HOP:]
    pool(pending, last=True)
    return Spectrum(np.concatenate(columns, axis=1), info.frames / info.samplerate, info.samplerate)


def spectrograms(path: Path, spectra: dict[str, Spectrum]) -> Path:
    """One panel per spectrum, all on one colour scale, so what moved where is visible.

    The scale runs from the loudest bin of all spectra down ``DYNAMIC_RANGE_DB``.
    """
    top = max(float(s.db.max()) for s in spectra.values())
    figure, axes = plt.subplots(len(spectra), 1, figsize=(9, 2.2 * len(spectra)), sharex=True, squeeze=False)
    for axis, (name, spec) in zip(axes[:, 0], spectra.items()):
        image = axis.imshow(spec.db, origin="lower", aspect="auto", cmap="magma", vmin=top - DYNAMIC_RANGE_DB, vmax=top,
                            extent=(0, spec.seconds, 0, spec.sample_rate / 2000), interpolation="nearest")
        axis.set_ylabel("kHz")
        axis.set_title(name, loc="left", fontsize=10)
    axes[-1, 0].set_xlabel("seconds")
    figure.colorbar(image, ax=axes[:, 0].tolist(), label="dB", shrink=0.9)
    return _save(figure, path)


def curves(path: Path, history: dict[str, Sequence], before: float | None, after: float | None) -> Path:
    """The target tag's probability and the loss over the steps, segments one after another."""
    steps = np.arange(1, len(history["loss"]) + 1)
    figure, (top, bottom) = plt.subplots(1, 2, figsize=(9, 2.6))
    top.plot(steps, history["probability"], color="tab:blue", label="during steering")
    for value, style, label in ((before, ":", "mixture"), (after, "--", "estimate")):
        if value is not None:
            top.axhline(value, color="tab:gray", linestyle=style, label=f"{label} {value:.3f}")
    top.set(xlabel="step", ylabel="target tag probability", ylim=(0, 1))
    top.legend(fontsize=8)
    bottom.plot(steps, history["loss"], color="tab:red")
    bottom.set(xlabel="step", ylabel="loss")
    segments = np.asarray(history.get("segment", []))
    for boundary in np.flatnonzero(np.diff(segments)) + 1.5:
        for axis in (top, bottom):
            axis.axvline(boundary, color="0.85", linewidth=0.8)
    figure.tight_layout()
    return _save(figure, path)


def presence(path: Path, probabilities: Sequence[float], threshold: float | None) -> Path:
    """Each segment's probability that the source plays, with the threshold under which it was silenced."""
    figure, axis = plt.subplots(figsize=(9, 1.8))
    segments = np.arange(1, len(probabilities) + 1)
    axis.bar(segments, probabilities, color="tab:green", width=0.6)
    if threshold:
        axis.axhline(threshold, color="tab:gray", linestyle="--", label=f"threshold {threshold:g}")
        axis.legend(fontsize=8)
    axis.set(xlabel="segment", ylabel="plays (p)", ylim=(0, 1), xticks=segments)
    figure.tight_layout()
    return _save(figure, path)


def tag_curves(path: Path, history: Sequence[dict], tags: dict[str, dict]) -> Path:
    """Each tag's probability over the steps of a ``tagbox steer`` run, as the steering taggers
    heard it, segments one after another."""
    figure, axis = plt.subplots(figsize=(9, 2.6))
    steps = np.arange(1, len(history) + 1)
    for name in tags:
        axis.plot(steps, [record["probabilities"][name] for record in history], label=name)
    axis.set(xlabel="step", ylabel="tag probability (steering taggers)", ylim=(0, 1))
    axis.legend(fontsize=8)
    figure.tight_layout()
    return _save(figure, path)


def _save(figure, path: Path) -> Path:
    """Write the PNG under a temporary name and rename it, so a page never shows half a picture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        figure.savefig(tmp, dpi=80, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(figure)
        tmp.unlink(missing_ok=True)
    return path
