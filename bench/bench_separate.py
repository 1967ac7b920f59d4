"""Time ``Separator.separate_tensor`` on 10 s of mono music: per steering step and in total.

Configurations:

``default``
    ``Separator()`` as ``tagbox separate`` runs it without options; also run end to end with
    its real step count, so the extrapolation can be checked against a measurement.
``flat start``
    the ``nmf`` latent from the flat start (:class:`tagbox.latents.NMFOptions`), 150 steps.
``no competitors``
    the default without its drums competitor (``competitors="none"``): what a source that
    takes no step costs where no competitor is heard.
``one run of 32``
    the tagged start as the previous default ran it: 32 components, one run.
``musicnn only``
    the default without FCN, the cheaper ensemble of one.
``vqvae compact``
    the ``vqvae`` latent with the ``compact`` generator (skipped if its weights are missing).
``faithful``
    ``Separator.from_preset("faithful")``: Jukebox-5b with the reference's settings. Its weights
    are not downloaded for a benchmark: ``generators.load`` is patched here to return the
    seeded random-weight model (``generators.build``), as speed does not depend on the values.

Each configuration runs ``--steps`` steps; the step time is the median gap between the
Separator's per-step callbacks, and the total is extrapolated to the configuration's real
step count as (first step with setup) + (real steps - 1) x (median step) + (finish: applying
the masks and tagging the result); real steps count every run's. A source that takes no step
itself is timed end to end, with the steps its competitors took. With several runs each later
run's setup (its decomposition and labelling) falls inside one step gap and is not extrapolated:
the measured total is the number. The machine may be shared: CPU seconds per step and the load average are printed too.

    TAGBOX_WEIGHTS_MIRROR=/work/shared/weights OMP_NUM_THREADS=1 \
        python bench/bench_separate.py [--steps 20] [--threads 1 2] [--configurations default ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from tagbox import generators, weights
from tagbox.audio import load_audio
from tagbox.separator import Separator

SHARED = Path(os.environ.get("TAGBOX_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DEFAULT_TRACK = SHARED / "data" / "synth-dev" / "dev_002" / "mixture.flac"
RANDOM_WEIGHTS = {"jukebox-5b"}


@contextlib.contextmanager
def random_weight_generators() -> Iterator[None]:
    """Make ``generators.load`` build the ``RANDOM_WEIGHTS`` generators with seeded random weights."""
    original = generators.load

    def load(generator_id: str, device: str | torch.device = "cpu", path=None):
        if generator_id in RANDOM_WEIGHTS:
            return generators.build(generator_id).to(device).eval().requires_grad_(False)
        return original(generator_id, device=device, path=path)

    generators.load = load
    try:
        yield
    finally:
        generators.load = original


CONFIGURATIONS: dict[str, tuple[str, Callable[[], Separator]]] = {
    "default": ("Separator()", lambda: Separator(progress=False)),
    "flat start": ('Separator(start="flat")', lambda: Separator(start="flat", progress=False)),
    "no competitors": ('Separator(competitors="none")', lambda: Separator(competitors="none", progress=False)),
    "one run of 32": ("Separator(components=32, runs=1)", lambda: Separator(components=32, runs=1, progress=False)),
    "musicnn only": ('Separator(taggers="mtat-musicnn")',
                     lambda: Separator(taggers="mtat-musicnn", progress=False)),
    "vqvae compact": ('Separator(latent="vqvae", generator="compact")',
                      lambda: Separator(latent="vqvae", generator="compact", progress=False)),
    "faithful": ('from_preset("faithful"), jukebox-5b with random weights',
                 lambda: Separator.from_preset("faithful", progress=False)),
}


def skip_reason(name: str) -> str | None:
    if name == "vqvae compact" and not weights.is_available("compact"):
        return "compact generator weights not available"
    return None


def timed_run(separator: Separator, wav, sample_rate: int, source: str, steps: int) -> dict:
    """Run ``steps`` steps, timing each through the callback."""
    stamps: list[tuple[float, float]] = []
    separator.config = separator.config.replace(steps=steps)
    separator.callback = lambda record: stamps.append((time.perf_counter(), time.process_time()))
    start = (time.perf_counter(), time.process_time())
    separator.separate_tensor(wav, sample_rate=sample_rate, source=source)
    end = (time.perf_counter(), time.process_time())
    # Per clock (0 wall, 1 CPU): first step with setup, median step, finish, whole run.
    return {
        clock: {
            "first": stamps[0][index] - start[index],
            "step": statistics.median(b[index] - a[index] for a, b in zip(stamps, stamps[1:])),
            "finish": end[index] - stamps[-1][index],
            "measured": end[index] - start[index],
        }
        for index, clock in enumerate(("wall", "cpu"))
    }


def extrapolated(timing: dict, steps: int) -> float:
    return timing["first"] + (steps - 1) * timing["step"] + timing["finish"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=DEFAULT_TRACK, help="mixture to cut the excerpt from")
    parser.add_argument("--offset", type=float, default=0.0, help="excerpt start, seconds")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--source", default="drums")
    parser.add_argument("--steps", type=int, default=20, help="steps timed per configuration (at least 2)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--configurations", nargs="+", choices=list(CONFIGURATIONS), default=list(CONFIGURATIONS))
    parser.add_argument("--no-end-to-end", dest="end_to_end", action="store_false",
                        help="skip the full-length run of the default configuration")
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the step time is a gap between steps)")

    wav, sample_rate = load_audio(args.audio, offset=args.offset, duration=args.seconds)
    wav = wav.mean(0, keepdims=True)
    print(f"{wav.shape[-1] / sample_rate:.1f} s mono excerpt of {args.audio} at {sample_rate} Hz, source "
          f"'{args.source}'; load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| configuration | threads | steps timed | first step + setup s | step s | finish s | real steps "
          "| total s (extrapolated) | total s (measured) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.configurations:
        description, make = CONFIGURATIONS[name]
        reason = skip_reason(name)
        if reason is not None:
            print(f"| {name}: {description} | - | skipped: {reason} | | | | | | |")
            continue
        for threads in args.threads:
            torch.set_num_threads(threads)
            with random_weight_generators():
                separator = make()
            request = separator.request([args.source])
            real_steps = request.sources[0].steps * request.runs
            if real_steps == 0:  # the start is the estimate (steered only by competitors): timed end to end
                start = (time.perf_counter(), time.process_time())
                result = separator.separate_tensor(wav, sample_rate=sample_rate, source=args.source)
                wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
                steps = len(result.history)  # the competitors', where the taggers hear them in this excerpt
                print(f"| {name}: {description} | {threads} | 0 | | | | {steps} | | {wall:.1f} ({cpu:.1f}) |",
                      flush=True)
                continue
            timing = timed_run(separator, wav, sample_rate, args.source, args.steps)
            measured = "-"
            if name == "default" and args.end_to_end:
                full = timed_run(separator, wav, sample_rate, args.source, real_steps)
                measured = "{wall:.1f} ({cpu:.1f})".format(**{k: v["measured"] for k, v in full.items()})
            wall, cpu = timing["wall"], timing["cpu"]
            print(f"| {name}: {description} | {threads} | {args.steps} | {wall['first']:.2f} ({cpu['first']:.2f}) "
                  f"| {wall['step']:.3f} ({cpu['step']:.3f}) | {wall['finish']:.2f} ({cpu['finish']:.2f}) "
                  f"| {real_steps} | {extrapolated(wall, real_steps):.1f} ({extrapolated(cpu, real_steps):.1f}) "
                  f"| {measured} |", flush=True)
    print("\nwall seconds, CPU seconds of all threads in parentheses (less sensitive to other jobs)")
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
