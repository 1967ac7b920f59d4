"""Does the presence stage tell present sources from absent ones? False positives and negatives per threshold.

For every track of the datasets, the default's stages up to the start gains label every source
the taggers can name at once (its runs and competitors; a source's evidence does not depend on the
others'), and the presence heads give each source's probability of playing from the features
averaged over the runs, as the presence stage does (:mod:`tagbox.pipeline.presence`).
A source with a stem is present, any other nameable source absent but for one that shares a tag
with a stem (strings beside a violin, guitar beside an electric guitar), which is left out. The
table gives, per threshold, the false positives (absent sources kept) and false negatives
(present ones silenced), overall, per dataset and per source, and the false positives' energy (the part of the
mixture the labelled start gives an absent source that is kept: the estimate of a source that
takes no refinement step), beside the mixture's tag alone.

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_presence.py ../shared/data/synth-dev \\
        ../shared/data/synth-dev2 ../shared/data/real-dev
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from tagbox.errors import UnknownNameError
from tagbox.evaluation.datasets import detect_layout, load_track, track_sources
from tagbox.pipeline import Tools, build
from tagbox.pipeline.presence import FEATURES, PresenceHead, run_features
from tagbox.separator import Separator
from tagbox.sources import shares_tags

SOURCES = ("bass", "cello", "drums", "electric_guitar", "flute", "guitar", "piano", "strings", "synth", "violin")
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def rates(present: np.ndarray, kept: np.ndarray) -> tuple[float, float]:
    """False positive and false negative rates of ``kept`` decisions against ``present``."""
    return float(kept[~present].mean()) if (~present).any() else np.nan, float((~kept[present]).mean()) if present.any() else np.nan


def related(source: str, stems: tuple[str, ...]) -> bool:
    """Whether ``source`` shares a tag with one of the track's (nameable) stems."""
    for stem in stems:
        try:
            if stem != source and shares_tags(source, stem):
                return True
        except UnknownNameError:  # bassoon, accompaniment: no tagger names them
            continue
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--sources", nargs="+", default=list(SOURCES))
    parser.add_argument("--json", type=Path, help="keep every query's features and presence here")
    args = parser.parse_args()
    separator = Separator(progress=False)
    tools = Tools(separator.ensemble)
    rows: list[tuple[str, str, bool, np.ndarray, float]] = []  # set, source, present, features, presence
    for root in args.roots:
        layout = detect_layout(root)
        for track_id, stems in track_sources(root, layout).items():
            track = load_track(root, layout, track_id)
            request = separator.request(list(args.sources))
            segment = build(separator.config, request, track.sample_rate).before("refine").run(
                torch.as_tensor(track.mixture), 0, tools=tools)
            removal = separator.config.labelling.removal_weight
            features = torch.stack([run_features(run, segment, removal) for run in segment.runs]).mean(0)
            for source, row in zip(args.sources, features):
                if source not in stems and related(source, stems):
                    continue
                head = PresenceHead.of(source)
                rows.append((root.name, source, source in stems, row.numpy(), float(head(row)) if head else 1.0))
    if args.json:
        args.json.write_text(json.dumps([{"set": r[0], "source": r[1], "present": r[2], "features": r[3].tolist(),
                                          "presence": r[4]} for r in rows], indent=1) + "\n")
    present = np.array([r[2] for r in rows])
    sets = list(dict.fromkeys(r[0] for r in rows))
    print(f"{len(rows)} queries: {int(present.sum())} present, {int((~present).sum())} absent\n")
    share = np.array([r[3][FEATURES.index("share")] for r in rows])
    print("| rule | threshold | FP | FP energy | FN | " + " | ".join(f"FP/FN {name}" for name in [*sets, *args.sources]) + " |")
    print("|---|---:|---:|---:|---:|" + "---:|" * (len(sets) + len(args.sources)))

    def line(rule: str, threshold: float, scores: np.ndarray) -> None:
        kept = scores >= threshold
        fp, fn = rates(present, kept)
        per = defaultdict(list)
        for (name, source, *_), k, p in zip(rows, kept, present):
            per[name].append((k, p))
            per[source].append((k, p))
        cells = []
        for group in [*sets, *args.sources]:
            k, p = map(np.array, zip(*per[group]))
            f, n = rates(p, k)
            cells.append(f"{f:.0%}/{n:.0%}".replace("nan%", "–"))
        energy = float((share * kept)[~present].mean())  # the labelled start's part of the mixture, where kept
        print(f"| {rule} | {threshold:g} | {fp:.0%} | {energy:.1%} | {fn:.0%} | " + " | ".join(cells) + " |")

    for threshold in THRESHOLDS:
        line("presence heads", threshold, np.array([r[4] for r in rows]))
    mixture = np.array([1 / (1 + np.exp(-r[3][FEATURES.index("mixture")])) for r in rows])
    for threshold in (0.02, 0.05, 0.1, 0.2):
        line("mixture's tag alone", threshold, mixture)


if __name__ == "__main__":
    main()
