"""The report's pictures: spectrograms on one colour scale, and the steering curves.

Drawn with matplotlib's Agg backend into PNG files, so no display or browser is needed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

N_FFT = 2048
HOP = 512
DYNAMIC_RANGE_DB = 80.0


def magnitude_db(wav: np.ndarray) -> np.ndarray:
    """Magnitude STFT of the mono downmix in dB, ``(bins, frames)``."""
    mono = torch.as_tensor(np.asarray(wav, dtype=np.float32)).reshape(-1, np.shape(wav)[-1]).mean(0)
    window = torch.hann_window(N_FFT)
    spec = torch.stft(mono, N_FFT, HOP, window=window, return_complex=True, center=True, pad_mode="constant")
    return (20 * torch.log10(spec.abs().clamp_min(1e-7))).numpy()


def spectrograms(path: Path, signals: dict[str, np.ndarray], sample_rate: int) -> Path:
    """One panel per signal, all on the mixture's colour scale, so what moved where is visible.

    The scale runs from the loudest bin of all signals down ``DYNAMIC_RANGE_DB``.
    """
    spectra = {name: magnitude_db(wav) for name, wav in signals.items()}
    top = max(float(s.max()) for s in spectra.values())
    seconds = np.shape(next(iter(signals.values())))[-1] / sample_rate
    figure, axes = plt.subplots(len(spectra), 1, figsize=(9, 2.2 * len(spectra)), sharex=True, squeeze=False)
    for axis, (name, spectrum) in zip(axes[:, 0], spectra.items()):
        image = axis.imshow(spectrum, origin="lower", aspect="auto", cmap="magma", vmin=top - DYNAMIC_RANGE_DB, vmax=top,
                            extent=(0, seconds, 0, sample_rate / 2000), interpolation="nearest")
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
