"""Objective alignment check: does steering keep the oracle grouping and climb from the blind start?

For every stem of the datasets whose source the configuration's taggers can name, the ``nmf``
latent starts at the oracle grouping (``tagbox.evaluation.alignment``) and at the blind start,
runs each configuration's objective, and the table gives mean SI-SDRi before and after. An
objective is aligned when it loses under 1 dB from the oracle start and gains from the blind one.

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_alignment.py ../shared/data/synth-dev \
        --config reference= --config focused=objective=focused --config judge_rest=judge_rest=true \
        --oracle-steps 15 --blind-steps 50 [--max-stems 12] [-d cuda]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from tagbox.cli.eval import parse_config
from tagbox.errors import TagboxError
from tagbox.evaluation.alignment import check_alignment
from tagbox.evaluation.datasets import detect_layout, load_track, track_sources
from tagbox.separator import Separator

NAMEABLE = "cello drums electric_guitar flute guitar piano strings synth violin".split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--config", action="append", default=[], metavar="NAME=KEY=VALUE,...")
    parser.add_argument("--sources", nargs="+", default=NAMEABLE)
    parser.add_argument("--oracle-steps", type=int, default=15)
    parser.add_argument("--blind-steps", type=int, default=50)
    parser.add_argument("--max-stems", type=int, help="stop after this many stems per dataset")
    parser.add_argument("-d", "--device", default="cpu")
    args = parser.parse_args()
    configs = [parse_config(text) for text in args.config or ["reference="]]
    steps = {start: count for start, count in (("oracle", args.oracle_steps), ("blind", args.blind_steps)) if count > 0}
    rows: dict[tuple[str, str], list] = defaultdict(list)
    start = time.perf_counter()
    for name, options in configs:
        separator = Separator(device=args.device, progress=False, **dict(options))
        for root in args.roots:
            layout = detect_layout(root)
            done = 0
            for track_id, names in track_sources(root, layout).items():
                wanted = [s for s in names if s in args.sources]
                if not wanted or (args.max_stems and done >= args.max_stems):
                    continue
                track = load_track(root, layout, track_id)
                mixture = track.mixture.mean(0)
                stems = {s: stem.mean(0) for s, stem in track.stems.items()}
                for source in wanted:
                    try:
                        results = check_alignment(separator, mixture, track.sample_rate, stems, source, steps=steps)
                    except TagboxError as error:
                        print(f"skipped {root.name}/{track_id} {source}: {error}")
                        continue
                    for result in results:
                        rows[(name, result.start)].append(result)
                    done += 1
    print(f"\n# objective alignment ({time.perf_counter() - start:.0f} s, device {args.device})\n")
    print("| configuration | start | steps | stems | SI-SDRi before | after | change | stems that lose > 1 dB | p before -> after |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for (name, start_name), results in rows.items():
        before = np.array([r.before for r in results])
        after = np.array([r.after for r in results])
        p0 = np.nanmean([r.probability_before for r in results])
        p1 = np.nanmean([r.probability_after for r in results])
        print(
            f"| {name} | {start_name} | {results[0].steps} | {len(results)} | {before.mean():+.2f} | {after.mean():+.2f} | "
            f"{(after - before).mean():+.2f} | {int(((after - before) < -1).sum())} | {p0:.2f} -> {p1:.2f} |"
        )


if __name__ == "__main__":
    main()
