"""Time one steering step of each generator on CPU, next to the TagBox reference's numbers.

A step is what the Separator repeats: quantise the level-0 latents, decode them with the
level-0 decoder, backpropagate a scalar loss to the latents (parameters frozen). Encoding runs
once per clip and is not timed. ``jukebox-5b`` runs with random weights (speed does not depend
on their values); other generators are timed only where their weights are available.

Each configuration runs in a fresh process so that peak RSS (``ru_maxrss``) is its own. The
machine may be shared: CPU seconds per step are printed too, as they are less sensitive to
other jobs than wall time.

    OMP_NUM_THREADS=1 python bench/bench_generators.py [--durations 5 10] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

REFERENCE_TIMINGS = Path(
    os.environ.get("TAGBOX_SHARED", Path(__file__).resolve().parents[2] / "shared")
) / "reference" / "jukebox_vqvae" / "timings.json"
LEVEL = 0
# Timed with seeded random weights: speed does not depend on the values, and no download.
RANDOM_WEIGHTS = {"jukebox-5b"}


def bench_one(generator_id: str, policy: str, seconds: float, threads: int, reps: int) -> dict:
    """Median step timings of one configuration (runs in a child process)."""
    import torch

    from tagbox import generators

    torch.set_num_threads(threads)
    if generator_id in RANDOM_WEIGHTS:
        model = generators.build(generator_id).eval().requires_grad_(False)
    else:
        model = generators.load(generator_id)
    samples = int(seconds * model.sample_rate)
    x = 0.1 * torch.randn(1, 1, samples, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        latents = model.encode(x, LEVEL)
    latents.requires_grad_(True)
    session = model.codebook_session(policy, seed=0)

    def step() -> dict[str, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        _, zq = session.quantise(latents, LEVEL)
        quantised = time.perf_counter()
        audio = model.decode(zq, LEVEL)
        decoded = time.perf_counter()
        latents.grad = None
        audio.square().mean().backward()
        end = time.perf_counter()
        return {"step": end - wall, "quantise": quantised - wall, "decode": decoded - quantised,
                "backward": end - decoded, "cpu": time.process_time() - cpu}

    step()  # warm-up; for the tagbox policy this also re-initialises the codebook
    runs = [step() for _ in range(reps)]
    result = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["frames"] = latents.shape[-1]
    return result


def benchmarked_generators() -> list[str]:
    from tagbox import generators, weights
    from tagbox.errors import TagboxError

    chosen = []
    for name, spec in generators.GENERATORS.items():
        if name in RANDOM_WEIGHTS:
            chosen.append(name)
        elif spec.weights:
            reason = f"weights '{spec.weights}' not available locally"
            try:
                available = weights.is_available(spec.weights)
            except TagboxError as error:  # e.g. registered here before its weights entry
                available, reason = False, str(error)
            if available:
                chosen.append(name)
            else:
                print(f"skipping {name}: {reason}")
    return chosen


def reference_rows() -> list[str]:
    if not REFERENCE_TIMINGS.is_file():
        return [f"(reference timings not found at {REFERENCE_TIMINGS})"]
    timings = json.loads(REFERENCE_TIMINGS.read_text())
    machine = timings["machine"]["cpu"]
    rows = [f"Reference: official Jukebox code as TagBox runs it, 5 s clip, {machine}"]
    for run in [timings["primary"], timings["other_runs_summary"]["timings_t1"]]:
        parts = run["level0_only_with_bottleneck_breakdown_median_s"]
        rows.append(
            f"  {run['num_threads']} thread(s): level-0 step (train-mode bottleneck) "
            f"{run['level0_only_with_bottleneck_s']:.2f} s (quantise {parts['bottleneck']:.2f}, "
            f"decode {parts['decode']:.2f}, backward {parts['backward']:.2f}); "
            f"all-levels TagBox step {run['tagbox_step_all_levels_s']:.2f} s"
        )
    peak = timings["primary"]["peak_rss_MiB"]
    rows.append(f"  peak RSS {peak:.0f} MiB (2 threads, one process for all variants)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[5.0, 10.0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--policies", nargs="+", default=["frozen", "tagbox"])
    parser.add_argument("--reps", type=int, default=3, help="timed steps after one warm-up")
    args = parser.parse_args()

    header = (f"{'generator':<12} {'policy':<7} {'audio':>6} {'thr':>3} {'frames':>7} "
              f"{'step s':>7} {'quant':>6} {'decode':>7} {'backw':>6} {'cpu s':>6} {'RSS MiB':>8}")
    print(header)
    print("-" * len(header))
    for generator_id in benchmarked_generators():
        for policy in args.policies:
            for seconds in args.durations:
                for threads in args.threads:
                    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                        r = pool.submit(bench_one, generator_id, policy, seconds, threads,
                                        args.reps).result()
                    print(f"{generator_id:<12} {policy:<7} {seconds:>5.1f}s {threads:>3} "
                          f"{r['frames']:>7} {r['step']:>7.2f} {r['quantise']:>6.2f} "
                          f"{r['decode']:>7.2f} {r['backward']:>6.2f} {r['cpu']:>6.2f} "
                          f"{r['peak_rss_mib']:>8.0f}", flush=True)
    print(f"load average now: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (wall times scale with other jobs; cpu s less so)")
    for row in reference_rows():
        print(row)


if __name__ == "__main__":
    main()
