"""How far can the taggers' view of the mixture tell a present source from a missing one?

For every track of the datasets and every source, the probability the separator's default
ensemble gives the source's tags in the mixture (what the absent-source rule compares with
``absent_threshold`` before steering), split by whether the track has that stem. The table
gives, per threshold, the share of present sources that would be called absent (false
negatives) and of missing ones that would not (false positives; steering only raises the
probability further, so these are lower bounds for the rule). Forward passes only.

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_absent.py ../shared/data/synth-dev ../shared/data/synth-dev2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from tagbox.evaluation.datasets import detect_layout, load_track, track_sources
from tagbox.separator import Separator

SOURCES = "cello drums electric_guitar flute guitar piano strings synth violin bass".split()
THRESHOLDS = (0.005, 0.01, 0.02, 0.05, 0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--sources", nargs="+", default=SOURCES)
    parser.add_argument("-d", "--device", default="cpu")
    args = parser.parse_args()
    separator = Separator(device=args.device, progress=False)
    steered = {source: separator.request([source]).sources[0].steered for source in args.sources}
    present: dict[str, list[float]] = {s: [] for s in args.sources}
    missing: dict[str, list[float]] = {s: [] for s in args.sources}
    for root in args.roots:
        layout = detect_layout(root)
        for track_id, stems in track_sources(root, layout).items():
            track = load_track(root, layout, track_id)
            mono = torch.as_tensor(track.mixture.mean(0), device=separator.device)
            tags = separator.ensemble.tag(mono, track.sample_rate)
            for source, target in steered.items():
                (present if source in stems else missing)[source].append(target.heard(tags))
    print("| source | present | p in mixture, present: min / median | missing | missing: median / max |")
    print("|---|---:|---:|---:|---:|")
    for source in args.sources:
        p, m = np.array(present[source]), np.array(missing[source])
        if p.size and m.size:
            print(f"| {source} | {p.size} | {p.min():.3f} / {np.median(p):.3f} | {m.size} | {np.median(m):.3f} / {m.max():.3f} |")
    p = np.concatenate([present[s] for s in args.sources])
    m = np.concatenate([missing[s] for s in args.sources])
    print(f"\n| threshold | present called absent (of {p.size}) | missing not called absent (of {m.size}) |")
    print("|---:|---:|---:|")
    for threshold in THRESHOLDS:
        print(f"| {threshold:g} | {np.mean(p < threshold):.0%} | {np.mean(m >= threshold):.0%} |")


if __name__ == "__main__":
    main()
