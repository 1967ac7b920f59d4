"""How much each labelling stage of the default adds: the tagged start scored as an estimate.

For every stem the default taggers can name, the default pipeline (one run, no competitor) runs
up to its evidence once; then each variant's remaining labelling stages (the default's, with
stages left out) make the start, which is scored as it is, with no steering step: SI-SDRi of
``sum_k gain_k * component_k`` against the stem. The oracle grouping (each component to the stem
holding most of its energy) is the ceiling of the decomposition. The table is per variant: mean
and median over stems, per dataset, per source.

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_labelling.py ../shared/data/synth-dev ../shared/data/synth-dev2
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from tagbox.evaluation.alignment import oracle_components
from tagbox.evaluation.datasets import detect_layout, load_track, track_sources
from tagbox.metrics import si_sdr
from tagbox.pipeline import Segment, Tools, build
from tagbox.separator import Separator

SOURCES = "cello drums electric_guitar flute guitar piano strings synth violin".split()
# variant -> the labelling stages it leaves out of the default
VARIANTS = {
    "evidence alone": ("fragment_prior", "share", "register_prior"),
    "+ shared between components heard alike": ("fragment_prior", "register_prior"),
    "+ lowered out of the source's register": ("fragment_prior",),
    "+ a head learned from isolated renders (the default)": (),
}


def labelled(segment: Segment, separator: Separator, without: tuple[str, ...], tools: Tools) -> torch.Tensor:
    """The gains ``(K,)`` of the first source after the default's stages from evidence to start
    gains, leaving out ``without``."""
    config = separator.config.replace(without=without)
    stages = build(config, separator.request([segment.sources[0].name]), segment.rate).before("refine").stages
    for stage in stages[[stage.name for stage in stages].index("evidence") + 1:]:
        segment = stage(segment, tools)
    return segment.runs[0].latent.gains()[0].detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--sources", nargs="+", default=SOURCES)
    parser.add_argument("--max-tracks", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="NMF seed")
    parser.add_argument("-d", "--device", default="cpu")
    args = parser.parse_args()
    separator = Separator(device=args.device, progress=False, runs=1, competitors="none", seed=args.seed)
    tools = Tools(separator.ensemble)
    scores: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for root in args.roots:
        layout = detect_layout(root)
        for track_id, stems in list(track_sources(root, layout).items())[: args.max_tracks]:
            track = load_track(root, layout, track_id)
            mono = torch.as_tensor(track.mixture.mean(0), device=separator.device)
            peak = mono.abs().max()
            names = sorted(stems)
            stem_audio = {name: torch.as_tensor(track.stems[name].mean(0), device=separator.device) / peak for name in names}
            for source in [s for s in stems if s in args.sources]:
                heard = build(separator.config, separator.request([source]), track.sample_rate).before("fragment_prior")
                segment = heard.run(mono[None], 0, tools=tools)
                space = segment.runs[0].latent
                parts, stem = space.components(), stem_audio[source].cpu().numpy()
                base = si_sdr(stem, (mono / peak).cpu().numpy())
                gains = {"oracle grouping (ceiling)": oracle_components(space, [stem_audio[n] for n in names],
                                                                        names.index(source)).float()}
                gains.update({variant: labelled(segment, separator, without, tools) for variant, without in VARIANTS.items()})
                for variant, gain in gains.items():
                    scores[variant].append((root.name, source, si_sdr(stem, (gain @ parts).cpu().numpy()) - base))
    sets = sorted({s for rows in scores.values() for s, _, _ in rows})
    print(f"| variant | stems | mean | median | {' | '.join(sets)} | {' | '.join(args.sources)} |")
    print("|---|---:|---:|---:|" + "---:|" * (len(sets) + len(args.sources)))
    for variant, rows in scores.items():
        values = np.array([v for _, _, v in rows])
        per_set = [np.mean([v for s, _, v in rows if s == name]) for name in sets]
        per_source = [np.mean([v for _, s, v in rows if s == name]) if any(s == name for _, s, _ in rows) else np.nan
                      for name in args.sources]
        cells = " | ".join(f"{v:+.2f}" for v in per_set) + " | " + " | ".join(
            "" if np.isnan(v) else f"{v:+.1f}" for v in per_source)
        print(f"| {variant} | {values.size} | {values.mean():+.2f} | {np.median(values):+.2f} | {cells} |")


if __name__ == "__main__":
    main()
