"""Tag-steered audio's trade-off: how far a tag rises for a tagger that did not steer, against how far the audio moves.

Each excerpt (the first ``--seconds`` of up to ``--tracks`` tracks per dataset, mono) is steered
towards three targets in turn: a genre (``rock``), an instrument it has (a stem the steering
taggers can name) and one it lacks, by :func:`tagbox.steer.steer_audio` with the compact
generator at every (steering taggers, steps, stay close) of the grid, and once with the free mask
(the negative control). Per configuration the table gives the mean tag probability before and
after by the steering taggers and by the judge (a tagger that did not steer), the judge's lift
(mean after over mean before), the log-spectral distance from the input (beside the generator's
own, unsteered) and the seconds per 10 s of audio. ``--plot`` draws the judge's lift against
the distance per kind of target; ``--runs`` keeps every run (and summarises a kept file again).

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_steer.py ../shared/data/synth-dev \\
        ../shared/data/real-dev --plot docs/steer-tradeoff.png --runs steer.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tagbox.evaluation.datasets import detect_layout, load_track, track_sources
from tagbox.sources import source_tags
from tagbox.steer import steer_audio
from tagbox.taggers import TAGGERS

GENRE = "rock"
INSTRUMENTS = ("piano", "guitar", "violin", "drums", "flute", "synth", "vocals")


def targets(stems: list[str], tagger: str, rng: np.random.Generator) -> list[tuple[str, str]]:
    """(kind, name): the genre, an instrument the track has and one it lacks, as ``tagger`` can name them."""
    vocabulary = TAGGERS[tagger].vocabulary
    nameable = [name for name in INSTRUMENTS if source_tags(name, vocabulary)]
    has = [name for name in stems if name in nameable]
    lacks = [name for name in nameable if name not in stems]
    chosen = [("genre", GENRE)]
    if has:
        chosen.append(("present", has[int(rng.integers(len(has)))]))
    if lacks:
        chosen.append(("absent", lacks[int(rng.integers(len(lacks)))]))
    return chosen


KINDS = ("genre", "present", "absent")


def summary(group: list[dict]) -> dict:
    """Means over a group of runs; the judge's lift is mean after over mean before."""
    def mean(field: str, i: int) -> float:
        return float(np.mean([r[field][i] for r in group]))

    return {"steering": (mean("steering", 0), mean("steering", 1)), "judge": (mean("judge", 0), mean("judge", 1)),
            "lift": mean("judge", 1) / max(mean("judge", 0), 1e-6),
            "lsd": float(np.mean([r["lsd_db"] for r in group])),
            "unsteered": float(np.mean([r["reconstruction_lsd_db"] for r in group])),
            "speed": float(np.mean([r["seconds_per_10s"] for r in group])), "n": len(group)}


def steered(args: argparse.Namespace, grid: list[tuple]) -> list[dict]:
    """Every (excerpt, target, configuration) run, printed as it ends."""
    runs = []
    for root in args.roots:
        layout = detect_layout(root)
        for track_id, stems in list(track_sources(root, layout).items())[: args.tracks]:
            track = load_track(root, layout, track_id)
            audio = track.mixture.mean(0)[: int(args.seconds * track.sample_rate)]
            for kind, name in targets(list(stems), "mtat-musicnn", np.random.default_rng(len(runs))):
                for latent, taggers, steps, close in grid:
                    began = time.perf_counter()
                    result = steer_audio(audio, sample_rate=track.sample_rate, toward=[name], steps=steps,
                                         stay_close=close, latent=latent, taggers=taggers, judge=args.judge)
                    seconds = time.perf_counter() - began
                    by = result.tags[name]
                    steering = [by[t] for t in taggers if t in by]
                    runs.append({
                        "track": f"{root.name}/{track_id}", "kind": kind, "tag": name, "latent": latent,
                        "taggers": ",".join(taggers), "steps": steps, "stay_close": close,
                        "steering": [float(np.mean([b for b, _ in steering])), float(np.mean([a for _, a in steering]))],
                        "judge": list(by[args.judge]), "lsd_db": result.lsd_db,
                        "reconstruction_lsd_db": result.reconstruction_lsd_db,
                        "seconds_per_10s": 10 * seconds / (len(audio) / track.sample_rate),
                    })
                    print(json.dumps(runs[-1]), flush=True)
    return runs


def plot(path: Path, rows: list[dict], judge: str) -> None:
    """The judge's lift against the distance, one panel per kind of target, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(KINDS), figsize=(11, 3.6), sharey=True)
    for axis, kind in zip(axes, KINDS):
        for r in (r for r in rows if r["kind"] == kind):
            axis.scatter(r["lsd"], r["lift"], marker="x" if r["latent"] == "mask" else "o")
            label = "free mask" if r["latent"] == "mask" else f"{r['taggers'].replace('mtat-', '')}, stay {r['stay_close']:g}"
            axis.annotate(f"{label}, {r['steps']} steps", (r["lsd"], r["lift"]), fontsize=6, xytext=(3, 3),
                          textcoords="offset points")
        axis.axhline(3.0, color="grey", linestyle=":", linewidth=1)
        axis.axvline(rows[0]["unsteered"], color="grey", linestyle="--", linewidth=1)  # the generator's own
        axis.set(xscale="linear", yscale="log", title=f"towards {'a genre' if kind == 'genre' else f'an instrument {kind}'}",
                 xlabel="log-spectral distance from the input (dB)")
    axes[0].set_ylabel(f"lift by the judge ({judge}), after / before")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--tracks", type=int, default=2, help="excerpts per dataset")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--steps", type=int, nargs="+", default=[50])
    parser.add_argument("--stay-close", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--taggers", nargs="+", default=["mtat-musicnn", "mtat-musicnn,mtat-crnn"],
                        help="steering ensembles, comma-separated ids")
    parser.add_argument("--judge", default="mtat-fcn")
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--runs", type=Path, help="keep every run here; where the file exists, summarise it instead")
    args = parser.parse_args()
    grid = [("vqvae", tuple(t.split(",")), steps, close)
            for t in args.taggers for steps in args.steps for close in args.stay_close]
    grid.append(("mask", (args.taggers[0].split(",")[0],), max(args.steps), 0.0))
    if args.runs is not None and args.runs.exists():
        runs = json.loads(args.runs.read_text())
    else:
        runs = steered(args, grid)
        if args.runs is not None:
            args.runs.write_text(json.dumps(runs, indent=1) + "\n")
    configurations = list(dict.fromkeys((r["latent"], r["taggers"], r["steps"], r["stay_close"]) for r in runs))
    rows = [{"latent": c[0], "taggers": c[1], "steps": c[2], "stay_close": c[3], "kind": kind,
             **summary([r for r in runs if (r["latent"], r["taggers"], r["steps"], r["stay_close"]) == c and r["kind"] == kind])}
            for c in configurations for kind in KINDS if any(r["kind"] == kind for r in runs)]
    print(f"\n{len({(r['track'], r['kind']) for r in runs})} excerpt-targets; judge {args.judge}\n")
    print("| latent | steering taggers | steps | stay close | towards | steering before → after | judge before → after "
          "| judge lift | LSD dB (unsteered) | s per 10 s |")
    print("|---|---|---:|---:|---|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['latent']} | {r['taggers']} | {r['steps']} | {r['stay_close']:g} | {r['kind']} ({r['n']}) | "
              f"{r['steering'][0]:.3f} → {r['steering'][1]:.3f} | {r['judge'][0]:.3f} → {r['judge'][1]:.3f} | "
              f"{r['lift']:.1f}x | {r['lsd']:.1f} ({r['unsteered']:.1f}) | {r['speed']:.0f} |")
    if args.plot:
        plot(args.plot, rows, args.judge)


if __name__ == "__main__":
    main()
