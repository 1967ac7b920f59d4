"""Real use: a stereo recording, several sources at once; wall time, CPU time, real-time factor,
peak RSS and where the time goes, for ``tagbox separate``.

A stereo 44.1 kHz file of the requested length is made from the stereo excerpts of
``../shared/data/real-dev`` (SiSEC 2011, MUSDB18 previews: recordings, non-commercial research
licences), block after block at random gains, so that no stretch repeats the last. Each request
(default: vocals; vocals+drums; vocals+drums+bass+guitar on 60 s, and the four on 180 s) runs
``tagbox separate FILE -s ...`` jointly, with default settings, in a fresh process, so that peak
RSS is that run's own. The stages are timed by wrapping what does them (a nested stage's time
counts for the inner one only):

- read: checking the input before the models load;
- decompose: each run's latent (the KL-NMF of the segment);
- listen: the taggers hearing the components, the mixture without each, and the competitors;
- evidence: evidence, fragment and register priors, sharing, start gains;
- steer: the steering steps (taggers forward and backward, Adam);
- apply: the final masks on every channel, the range floor;
- tag: tagging the mixture and the estimates (the numbers reported, the absent rule);
- write: keeping finished regions on disk, then writing the stems;
- other: the rest (reading segments, overlap-add, loading the models).

Run it alone on the machine (``--threads`` as ``tagbox separate``'s):

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_realtime.py [--runs 60:vocals 180:vocals,drums,bass,guitar]
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
REAL_DEV = SHARED / "data" / "real-dev"
RATE = 44100
STAGES = ("read", "decompose", "listen", "evidence", "steer", "apply", "tag", "write", "other")
FOUR = "vocals,drums,bass,guitar"
RUNS = ("60:vocals", "60:vocals,drums", f"60:{FOUR}", f"180:{FOUR}")


def record(path: Path, seconds: float, seed: int = 0) -> None:
    """Write ``seconds`` of stereo recordings, block by block (flat memory)."""
    excerpts = [p for p in sorted(REAL_DEV.glob("*/mixture.flac")) if sf.info(str(p)).channels == 2]
    rng = np.random.default_rng(seed)
    total = round(seconds * RATE)
    with sf.SoundFile(path, "w", RATE, 2, subtype="PCM_16") as out:
        written = 0
        while written < total:
            block, rate = sf.read(excerpts[rng.integers(len(excerpts))], dtype="float32")
            assert rate == RATE
            block = block[: total - written] * rng.uniform(0.6, 1.0)
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


def child(path: Path, out: Path, sources: list[str], threads: int | None) -> dict:
    """One ``tagbox separate`` run in this process; its timings and peak RSS."""
    import tagbox.cli.separate as command
    from tagbox import stems
    from tagbox.batch import tasks
    from tagbox.cli import main
    from tagbox.pipeline import labelling, priors, spatial, stages
    from tagbox.taggers.ensemble import TaggerEnsemble

    clock = StageClock()
    for owner, name, stage in [
        (command, "check_file", "read"), (tasks, "check_file", "read"),
        (stages.Decompose, "__call__", "decompose"),
        (labelling.Listen, "__call__", "listen"), (stages.Competitors, "__call__", "listen"),
        *((kind, "__call__", "evidence") for kind in (labelling.Evidence, labelling.Share, labelling.StartGains,
                                                      priors.FragmentPrior, priors.RegisterPrior, spatial.PositionPrior)),
        (stages.Refine, "__call__", "steer"), (stages.Apply, "__call__", "apply"), (stages.RangeFloor, "__call__", "apply"),
        (TaggerEnsemble, "tag", "tag"), (stems.StemStream, "write", "write"), (tasks, "save_blocks", "write"),
    ]:
        clock.wrap(owner, name, stage)
    argv = ["separate", str(path), *(f"-s{source}" for source in sources), "-o", str(out), "--force", "-q"]
    if threads:
        argv += ["--threads", str(threads)]
    start = (time.perf_counter(), time.process_time())
    code = main(argv)
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    if code != 0:
        raise SystemExit(f"tagbox separate failed with exit code {code}")
    timed = {stage: clock.totals[stage] for stage in STAGES[:-1]}
    timed["other"] = [total - sum(v[i] for v in timed.values()) for i, total in enumerate((wall, cpu))]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {"wall": wall, "cpu": cpu, "peak_rss": peak, "stages": timed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), metavar="SECONDS:SOURCE[,SOURCE...]")
    parser.add_argument("--threads", type=int, help="torch threads (default: tagbox separate's own)")
    parser.add_argument("--child", nargs=3, metavar=("AUDIO", "OUT", "SOURCES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), args.child[2].split(","), args.threads)))
        return

    print(f"tagbox separate FILE -s ... (jointly, default settings); stereo 44.1 kHz recordings; "
          f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| audio | sources | wall s | CPU s | real-time factor | peak RSS GB | " + " | ".join(STAGES) + " |")
    print("|---|---|---:|---:|---:|---:|" + "---:|" * len(STAGES))
    with tempfile.TemporaryDirectory() as folder:
        for run in args.runs:
            seconds, sources = float(run.split(":")[0]), run.split(":")[1]
            path = Path(folder) / f"recording-{seconds:g}s.wav"
            if not path.exists():
                record(path, seconds)
            command = [sys.executable, __file__, "--child", str(path), str(Path(folder) / "out"), sources]
            if args.threads:
                command += ["--threads", str(args.threads)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(done.stderr)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            shares = " | ".join(f"{result['stages'][s][0]:.1f}" for s in STAGES)
            print(f"| {seconds:g} s | {sources.replace(',', '+')} | {result['wall']:.1f} | {result['cpu']:.1f} | "
                  f"{result['wall'] / seconds:.2f} | {result['peak_rss'] / 1e9:.2f} | {shares} |", flush=True)
    print("\nstage columns: wall seconds; peak RSS is the run's own process (ru_maxrss)")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
