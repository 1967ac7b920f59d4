"""Time tagbox's differentiable resampler against soxr on 10 s of audio.

The steering loop resamples the generator's 44.1 kHz output to the taggers' 16 kHz on every
step, forward and backward, so this cost is paid thousands of times per clip.

    OMP_NUM_THREADS=1 python bench/bench_resample.py [--threads 1] [--repeats 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import soxr
import torch

from tagbox.resample import Resampler

PAIRS = [(44100, 16000), (48000, 16000), (22050, 16000), (16000, 44100)]


def best_ms(step, repeats: int) -> float:
    step()  # warm-up: allocations, kernel cast
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(f"{args.seconds:g} s of audio, {args.threads} torch thread(s), best of {args.repeats} (ms)")
    print(f"{'rates':>14} | {'forward':>8} | {'fwd+bwd':>8} | {'soxr HQ':>8} | {'soxr VHQ':>8}")
    for orig_sr, new_sr in PAIRS:
        signal = np.random.default_rng(0).standard_normal(round(args.seconds * orig_sr)).astype(np.float32)
        x = torch.from_numpy(signal)
        resampler = Resampler(orig_sr, new_sr)
        with torch.no_grad():
            forward = best_ms(lambda: resampler(x), args.repeats)
        leaf = x.clone().requires_grad_(True)

        def forward_backward():
            resampler(leaf).square().sum().backward()
            leaf.grad = None

        both = best_ms(forward_backward, args.repeats)
        hq = best_ms(lambda: soxr.resample(signal, orig_sr, new_sr, quality="HQ"), args.repeats)
        vhq = best_ms(lambda: soxr.resample(signal, orig_sr, new_sr, quality="VHQ"), args.repeats)
        print(f"{orig_sr:>6}->{new_sr:<6} | {forward:8.1f} | {both:8.1f} | {hq:8.1f} | {vhq:8.1f}")


if __name__ == "__main__":
    main()
