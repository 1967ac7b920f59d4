"""Time the default separation of stereo audio on one device: first call and warm, with peak memory.

The first call includes loading the taggers and the device's one-off costs (CUDA context,
kernel selection); the warm call reuses the same ``Separator``. Peak memory is the device's
allocator peak on CUDA and the process's peak RSS on the CPU. The audio is a synth-dev
mixture tiled to the requested length, made stereo with a slightly different right channel.

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_device.py --device cuda --seconds 10 180 600
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import torch

from tagbox.audio import load_audio
from tagbox.separator import Separator

SHARED = Path(os.environ.get("TAGBOX_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DEFAULT_TRACK = SHARED / "data" / "synth-dev" / "dev_002" / "mixture.flac"


def stereo(path: Path, seconds: float) -> tuple[torch.Tensor, int]:
    """The track tiled to ``seconds``, left as is and right delayed by 5 ms at 0.8 gain."""
    mono, rate = load_audio(path)
    mono = torch.as_tensor(mono).mean(0)
    length = int(seconds * rate)
    tiled = mono.repeat(length // mono.shape[-1] + 1)[:length]
    right = 0.8 * torch.roll(tiled, int(0.005 * rate))
    return torch.stack([tiled, right]), rate


def peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(separator: Separator, audio: torch.Tensor, rate: int, source: str) -> float:
    device = separator.device
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    separator.separate_tensor(audio, sample_rate=rate, source=source)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 180.0, 600.0])
    parser.add_argument("--source", default="drums")
    parser.add_argument("--track", type=Path, default=DEFAULT_TRACK)
    parser.add_argument("--steps", type=int, help="steering steps (default: the latent's own)")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"# default separation of stereo audio on {name}, source '{args.source}', torch {torch.__version__}\n")
    print("| audio | call | wall time (s) | x real time | peak memory (MiB) |")
    print("|---:|---|---:|---:|---:|")
    for seconds in args.seconds:
        audio, rate = stereo(args.track, seconds)
        start = time.perf_counter()
        separator = Separator(device=device, steps=args.steps, progress=False)
        load = time.perf_counter() - start
        for call in ("first", "warm"):
            wall = timed(separator, audio, rate, args.source) + (load if call == "first" else 0.0)
            print(
                f"| {seconds:g} s | {call} | {wall:.1f} | {seconds / wall:.1f} | {peak_memory_mib(device):.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
