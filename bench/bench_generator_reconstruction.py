"""Reconstruction quality of a generator on synth-dev mixtures, next to low-passing at 8 kHz.

The taggers hear 16 kHz, so "keep only what a 16 kHz model could give back" (an ideal
low-pass at 8 kHz) is the baseline a full-band generator has to beat. Metrics: SI-SDR (dB,
higher is better) and multi-resolution log-spectral distance (dB, lower is better), both from
:mod:`tagbox.training`. Reconstruction = encode, nearest code of the model's own
codebook, decode (level 0).

    OMP_NUM_THREADS=1 python bench/bench_generator_reconstruction.py [--generator compact]
        [--checkpoint /work/train-runs/compact/best.pt] [--data ../shared/data/synth-dev]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from tagbox.audio import load_audio
from tagbox.checkpoints import read_checkpoint
from tagbox.generators import GENERATORS, VQVAE, load
from tagbox.training.losses import reconstruct, reconstruction_metrics

SHARED = Path(os.environ.get("TAGBOX_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CUTOFF_HZ = 8000.0


def lowpass(x: torch.Tensor, sample_rate: int, cutoff: float = CUTOFF_HZ) -> torch.Tensor:
    """Ideal (FFT brick-wall) low-pass along the last dimension."""
    spectrum = torch.fft.rfft(x)
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / sample_rate)
    return torch.fft.irfft(spectrum * (freqs <= cutoff), x.shape[-1])


def generator(name: str, checkpoint: Path | None) -> VQVAE:
    if checkpoint is None:
        return load(name)
    model = VQVAE(GENERATORS[name].config)
    model.load_weights(read_checkpoint(checkpoint, trusted=True), name=str(checkpoint))
    return model.eval().requires_grad_(False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", default="compact")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="weights file or training checkpoint instead of the bundled weights")
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "synth-dev")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = generator(args.generator, args.checkpoint)

    rows = []
    print(f"| track | low-pass 8 kHz SI-SDR | {args.generator} SI-SDR | low-pass LSD | "
          f"{args.generator} LSD |")
    print("|---|---|---|---|---|")
    for track in sorted(p for p in args.data.iterdir() if (p / "mixture.flac").is_file()):
        wav, rate = load_audio(track / "mixture.flac")
        if rate != model.sample_rate:
            raise SystemExit(f"{track}: {rate} Hz, the generator wants {model.sample_rate} Hz")
        x = torch.from_numpy(wav.mean(axis=0)).view(1, 1, -1)
        base = reconstruction_metrics(x, lowpass(x, rate))
        ours = reconstruction_metrics(x, reconstruct(model, x))
        rows.append((base["si_sdr"], ours["si_sdr"], base["lsd"], ours["lsd"]))
        print(f"| {track.name} | {base['si_sdr']:.2f} | {ours['si_sdr']:.2f} | "
              f"{base['lsd']:.2f} | {ours['lsd']:.2f} |")
    mean = np.mean(rows, axis=0)
    print(f"| **mean** | {mean[0]:.2f} | {mean[1]:.2f} | {mean[2]:.2f} | {mean[3]:.2f} |")


if __name__ == "__main__":
    main()
