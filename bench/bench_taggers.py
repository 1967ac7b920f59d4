"""Time the taggers' forward and forward+backward passes on CPU (what one steering step costs).

Each tagger gets the batch a steering step feeds it: 2 random 3-s windows for musicnn, one 29-s
window for FCN and CRNN. The input gradient is computed; parameters are frozen. Extra rows show
what the implementation choices buy: ``conv2d timbre`` runs musicnn's timbre branch as the
reference's direct Conv2d + BatchNorm + max, and ``subnormals kept`` reloads a checkpoint
without flushing its subnormal weights (jamendo and msd FCN/CRNN hold tens of thousands).

Uses the pretrained weights (speed depends on them: subnormal values are slow), resolved as
usual ($TAGBOX_WEIGHTS_MIRROR or the cache). The machine may be shared: CPU seconds are printed
next to wall time, and the load average before the run.

    OMP_NUM_THREADS=1 python bench/bench_taggers.py [--threads 1 2] [--reps 5] [--taggers mtat-musicnn ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import types

import torch
import torch.nn.functional as F

from tagbox import weights
from tagbox.checkpoints import read_checkpoint
from tagbox.taggers import TAGGERS, Tagger, load_tagger
from tagbox.taggers.layers import TimbreBlock

STEP_WINDOWS = {"musicnn": 2, "fcn": 1, "crnn": 1}


def conv2d_timbre(tagger: Tagger) -> Tagger:
    """The reference formulation: Conv2d over (frequency, time), BatchNorm, ReLU, max over frequency."""
    def forward(block: TimbreBlock, spec: torch.Tensor) -> torch.Tensor:
        return F.relu(block.bn(block.conv(spec.unsqueeze(1)))).amax(2)

    for block in tagger.modules():
        if isinstance(block, TimbreBlock):
            block.forward = types.MethodType(forward, block)
    return tagger


def subnormals_kept(tagger: Tagger) -> Tagger:
    tagger.load_state_dict(read_checkpoint(weights.resolve(tagger.id)))
    return tagger


VARIANTS = {
    "conv2d timbre": (conv2d_timbre, ("mtat-musicnn",)),
    "subnormals kept": (subnormals_kept, ("jamendo-crnn", "msd-fcn")),
}


def median_times(tagger: Tagger, windows: int, reps: int) -> tuple[float, float, float]:
    """Median wall seconds of a forward and a forward+backward pass, and CPU seconds of the latter."""
    x = 0.1 * torch.randn(windows, tagger.input_length, generator=torch.Generator().manual_seed(0))
    forward, step, cpu = [], [], []
    for rep in range(reps + 1):  # the first pass warms up and is not counted
        with torch.no_grad():
            start = time.perf_counter()
            tagger(x)
            forward.append(time.perf_counter() - start)
        inputs = x.clone().requires_grad_(True)
        start, cpu_start = time.perf_counter(), time.process_time()
        tagger(inputs)[:, 0].mean().backward()
        step.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return tuple(statistics.median(values[1:]) for values in (forward, step, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--taggers", nargs="+", default=[t for t, c in TAGGERS.items() if c.pretrained])
    args = parser.parse_args()

    rows = [(tagger_id, None) for tagger_id in args.taggers]
    rows += [(tagger_id, v) for v, (_, ids) in VARIANTS.items() for tagger_id in ids if tagger_id in args.taggers]
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; torch {torch.__version__}")
    header = f"{'tagger':16} {'variant':16} {'batch':>9} {'threads':>7} {'forward ms':>10} {'fwd+bwd ms':>10} {'fwd+bwd cpu ms':>14}"
    print(header)
    print("-" * len(header))
    for tagger_id, variant in rows:
        tagger = load_tagger(tagger_id)
        if variant:
            tagger = VARIANTS[variant][0](tagger)
        windows = STEP_WINDOWS[TAGGERS[tagger_id].architecture]
        batch = f"{windows}x{tagger.input_length / tagger.sample_rate:g}s"
        for threads in args.threads:
            torch.set_num_threads(threads)
            forward, step, cpu = median_times(tagger, windows, args.reps)
            print(f"{tagger_id:16} {variant or '-':16} {batch:>9} {threads:>7} {forward * 1e3:>10.0f} "
                  f"{step * 1e3:>10.0f} {cpu * 1e3:>14.0f}")


if __name__ == "__main__":
    main()
