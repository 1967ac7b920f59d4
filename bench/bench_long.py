"""Long files: wall time, CPU time, peak RSS and where the time goes, for ``tagbox separate``.

For each length (default 60 s and 10 min) a stereo 44.1 kHz file is synthesised from the
synth-dev mixtures (10 s mono each): every 10 s block is another track, at a random gain, with
its right channel delayed by a random few milliseconds and scaled differently, so no block
repeats the last. Each length then runs ``tagbox separate FILE -s drums`` (default settings
unless ``--steps``) in a fresh process, so peak RSS is that run's own; the stages are timed by
wrapping the functions that do them (time in a nested stage counts only for the inner one):

- read: checking the input file before the models load (one pass over it);
- decomposition: the NMF latent's STFT and KL-NMF of each segment;
- labelling: the tagged start's listening to each component (forward passes only);
- steering: the steering steps of each segment (taggers forward and backward, Adam);
- apply: rendering each segment's final masks on every channel;
- tagging: tagging the mixture and the estimate (absence check, probabilities reported);
- writing: keeping the estimates on disk as segments finish, then writing the stems;
- other: the rest (reading each segment, overlap-add, loading the models).

Run it alone on the machine, one thread:

    TAGBOX_WEIGHTS_MIRROR=../shared/weights OMP_NUM_THREADS=1 python bench/bench_long.py [--steps 2] [--seconds 60 600]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

SHARED = Path(os.environ.get("TAGBOX_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SYNTH_DEV = SHARED / "data" / "synth-dev"
RATE = 44100
STAGES = ("read", "decomposition", "labelling", "steering", "apply", "tagging", "writing", "other")


def synthesise(path: Path, seconds: float, seed: int = 0) -> None:
    """Write ``seconds`` of stereo made of varied synth-dev blocks, block by block (flat memory)."""
    mixtures = sorted(SYNTH_DEV.glob("*/mixture.flac"))
    rng = np.random.default_rng(seed)
    total = round(seconds * RATE)
    with sf.SoundFile(path, "w", RATE, 2, subtype="PCM_16") as out:
        written = 0
        while written < total:
            mono, rate = sf.read(mixtures[rng.integers(len(mixtures))], dtype="float32")
            assert rate == RATE and mono.ndim == 1
            delay = int(rng.integers(0, round(0.004 * RATE)))
            right = np.roll(mono, delay) * rng.uniform(0.6, 1.0)
            block = np.stack([mono, right], axis=1) * rng.uniform(0.5, 0.9)
            block = block[: total - written]
            out.write(block)
            written += len(block)


class StageClock:
    """Exclusive wall and CPU seconds per stage: a nested stage's time is not its parent's."""

    def __init__(self):
        self.totals = defaultdict(lambda: [0.0, 0.0])
        self.stack: list[list[float]] = []  # per open stage: time spent in its children

    def wrap(self, owner, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            self.stack.append([0.0, 0.0])
            start = (time.perf_counter(), time.process_time())
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - start[0], time.process_time() - start[1])
                children = self.stack.pop()
                for i in (0, 1):
                    self.totals[stage][i] += elapsed[i] - children[i]
                    if self.stack:
                        self.stack[-1][i] += elapsed[i]

        setattr(owner, name, timed)


def child(path: Path, out: Path, steps: int | None) -> dict:
    """One ``tagbox separate`` run in this process; its timings and peak RSS."""
    import torch

    import tagbox.cli.separate as command
    from tagbox import latents, steering, stems
    from tagbox.batch import tasks
    from tagbox.cli import main
    from tagbox.pipeline.labelling import Heard
    from tagbox.taggers.ensemble import TaggerEnsemble

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    clock = StageClock()
    clock.wrap(command, "check_file", "read")
    clock.wrap(stems.StemStream, "write", "writing")
    clock.wrap(latents.NMFLatent, "__init__", "decomposition")
    clock.wrap(Heard, "listen", "labelling")
    clock.wrap(steering, "steer", "steering")
    clock.wrap(latents.MaskedLatent, "apply", "apply")
    clock.wrap(TaggerEnsemble, "tag", "tagging")
    clock.wrap(tasks, "check_file", "read")
    clock.wrap(tasks, "save_blocks", "writing")
    argv = ["separate", str(path), "-s", "drums", "-o", str(out), "--force"]
    if steps is not None:
        argv += ["--steps", str(steps)]
    start = (time.perf_counter(), time.process_time())
    code = main(argv)
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    if code != 0:
        raise SystemExit(f"tagbox separate failed with exit code {code}")
    stages = {stage: clock.totals[stage] for stage in STAGES[:-1]}
    stages["other"] = [total - sum(v[i] for v in stages.values()) for i, total in enumerate((wall, cpu))]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {"wall": wall, "cpu": cpu, "peak_rss": peak, "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--steps", type=int, help="steering steps (default: the separator's own)")
    parser.add_argument("--child", nargs=2, metavar=("AUDIO", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), args.steps)))
        return

    print(f"tagbox separate FILE -s drums{f' --steps {args.steps}' if args.steps else ''}; stereo 44.1 kHz; "
          f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| length | wall s | CPU s | peak RSS GB | " + " | ".join(STAGES) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(STAGES))
    with tempfile.TemporaryDirectory() as folder:
        for seconds in args.seconds:
            path = Path(folder) / f"long-{seconds:g}s.wav"
            synthesise(path, seconds)
            command = [sys.executable, __file__, "--child", str(path), str(Path(folder) / "out")]
            if args.steps:
                command += ["--steps", str(args.steps)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(done.stderr)
            run = json.loads(done.stdout.strip().splitlines()[-1])
            shares = " | ".join(f"{100 * run['stages'][s][0] / run['wall']:.0f} %" for s in STAGES)
            print(f"| {seconds:g} s | {run['wall']:.1f} | {run['cpu']:.1f} | {run['peak_rss'] / 1e9:.2f} | {shares} |",
                  flush=True)
    print("\nstage shares are of the wall time; peak RSS is the run's own process (ru_maxrss)")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
