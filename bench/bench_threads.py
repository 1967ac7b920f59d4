"""Threads and contention: the default separation of a short clip, alone and two jobs at once.

torch starts one OpenMP thread per core; two jobs that each take every core thrash (issue 11:
three separations on two cores took 627 s for 10 s of audio). ``tagbox`` commands now size
their threads to the free cores (``tagbox.threads``). Each case runs ``tagbox separate`` (the
default configuration, ``--steps`` steps) as separate processes and reports the wall time of
the slowest and the sum of CPU time:

- ``alone, 1 thread`` / ``alone, all cores``: one job on an idle machine;
- ``2 jobs, all cores each``: what happened before (every job takes every core);
- ``2 jobs, automatic``: the default sizing, started together.

    TAGBOX_WEIGHTS_MIRROR=/work/shared/weights python bench/bench_threads.py [--seconds 5] [--steps 20]

Run it on an otherwise idle machine: the automatic sizing reads the load, so other work changes
what it picks (that is its point).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from tagbox.threads import usable_cores

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "marine01-rock.flac"


def excerpt(folder: Path, seconds: float) -> Path:
    """The first ``seconds`` of the bundled example, as a WAV file."""
    audio, rate = sf.read(EXAMPLE, frames=int(seconds * sf.info(EXAMPLE).samplerate), always_2d=True)
    path = folder / "clip.wav"
    sf.write(path, audio, rate, subtype="FLOAT")
    return path


def run_jobs(clip: Path, out: Path, jobs: int, threads: int | None, steps: int) -> tuple[float, float]:
    """Start ``jobs`` separations together; (wall s of the slowest, CPU s of all children)."""
    environment = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    command = [sys.executable, "-m", "tagbox", "separate", str(clip), "-s", "drums", "--steps", str(steps), "--force"]
    if threads is not None:
        command += ["--threads", str(threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    processes = [
        subprocess.Popen([*command, "-o", str(out / f"job{i}")], cwd=REPO, env=environment,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for i in range(jobs)
    ]
    for process in processes:
        _, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"separation failed: {err.strip().splitlines()[-1] if err.strip() else process.returncode}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="clip length (default 5)")
    parser.add_argument("--steps", type=int, default=20, help="steering steps (default 20)")
    args = parser.parse_args()
    cores = usable_cores()
    cases = [
        ("alone, 1 thread", 1, 1),
        (f"alone, all cores ({cores})", 1, cores),
        (f"2 jobs, all cores each ({cores})", 2, cores),
        ("2 jobs, automatic", 2, None),
    ]
    print(f"default separation, {args.seconds:g} s stereo clip, {args.steps} steps, {cores} usable cores, "
          f"load {os.getloadavg()[0]:.2f}")
    print("| case | jobs | wall s (slowest) | CPU s (all jobs) |\n|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        clip = excerpt(Path(folder), args.seconds)
        for label, jobs, threads in cases:
            wall, cpu = run_jobs(clip, Path(folder), jobs, threads, args.steps)
            print(f"| {label} | {jobs} | {wall:.1f} | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    main()
