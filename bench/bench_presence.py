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


def labelled(roots: list[Path], sources: list[str]) -> list[dict]:
    """Every query's dataset, source, whether it plays and its features averaged over the runs."""
    separator = Separator(progress=False)
    tools = Tools(separator.ensemble)
    removal = separator.config.labelling.removal_weight
    queries = []
    for root in roots:
        layout = detect_layout(root)
        for track_id, stems in track_sources(root, layout).items():
            track = load_track(root, layout, track_id)
            segment = build(separator.config, separator.request(sources), track.sample_rate).before("refine").run(
                torch.as_tensor(track.mixture), 0, tools=tools)
            features = torch.stack([run_features(run, segment, removal) for run in segment.runs]).mean(0)
            queries += [{"set": root.name, "track": track_id, "source": source, "present": source in stems,
                         "features": row.tolist()}
                        for source, row in zip(sources, features) if source in stems or not related(source, stems)]
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--sources", nargs="+", default=list(SOURCES))
    parser.add_argument("--features", type=Path,
                        help="keep every query's features here; where the file exists, score it with the bundled heads "
                        "instead of labelling again (after refitting them)")
    args = parser.parse_args()
    if args.features is not None and args.features.exists():
        queries = json.loads(args.features.read_text())
    else:
        queries = labelled(args.roots, list(args.sources))
        if args.features is not None:
            args.features.write_text(json.dumps(queries) + "\n")
    rows = []  # set, source, present, features, presence
    for query in queries:
        head, features = PresenceHead.of(query["source"]), torch.tensor(query["features"])
        rows.append((query["set"], query["source"], query["present"], features.numpy(),
                     float(head(features)) if head else 1.0))
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
