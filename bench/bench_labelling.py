"""How much each stage of the tagged start adds: forward-only labelling of NMF components.

For every stem the default taggers can name, the mixture's KL-NMF components are heard alone and
the mixture without each (:class:`tagbox.latents.labelling.Heard`), and each stage's start is
scored as an estimate (no steering step): SI-SDRi of ``sum_k gain_k * component_k`` against the
stem. The oracle grouping (each component to the stem holding most of its energy) is the ceiling
of the decomposition. The table is per stage: mean and median over stems, per dataset, per source.

    TAGBOX_WEIGHTS_MIRROR=../shared/weights python bench/bench_labelling.py ../shared/data/synth-dev ../shared/data/synth-dev2
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from tagbox.evaluation.alignment import oracle_components
from tagbox.evaluation.datasets import detect_layout, load_track, track_sources
from tagbox.latents import NMFLatent, NMFOptions
from tagbox.latents.fragments import FragmentHead, with_fragments
from tagbox.latents.labelling import BOUND, Heard, share, start_logits
from tagbox.latents.register import Register, in_register
from tagbox.metrics import si_sdr
from tagbox.pitch import fundamentals
from tagbox.separator import Separator
from tagbox.steering import Steered

SOURCES = "cello drums electric_guitar flute guitar piano strings synth violin".split()
OPTIONS = NMFOptions(start="tagged")


# What is known of the source beyond its tags: where each component sounds (its fundamental,
# Hz), the register the source is expected in, and the head learned from its isolated renders.
Prior = tuple[torch.Tensor, Register | None, FragmentHead | None]


def _standardised(heard: Heard, prior: Prior, temperature: float = 0.0, register_weight: float = 0.0,
                  fragment_weight: float = 0.0) -> torch.Tensor:
    evidence = with_fragments(heard.evidence(removal_weight=OPTIONS.removal_weight), heard.tags, [prior[2]],
                              weight=fragment_weight)
    evidence = share(evidence, heard.tags, temperature=temperature)
    evidence = in_register(evidence, prior[0], [prior[1]], weight=register_weight)
    return torch.softmax(start_logits(evidence, slope=OPTIONS.start_slope, offset=OPTIONS.start_offset), 0)[0]


# stage -> (taggers heard, gains from what they heard and what is known of the source)
STAGES: dict[str, tuple[str, Callable[[Heard, Prior], torch.Tensor]]] = {
    "alone vs mixture, raw": ("both", lambda h, p: torch.sigmoid(h.evidence(removal_weight=0)[0].clamp(-BOUND, BOUND))),
    "+ mixture vs without it, raw": ("both", lambda h, p: torch.sigmoid(
        h.evidence(removal_weight=OPTIONS.removal_weight)[0].clamp(-BOUND, BOUND))),
    "+ standardised per segment": ("both", _standardised),
    "the same, FCN alone": ("mtat-fcn", _standardised),
    "the same, musicnn alone": ("mtat-musicnn", _standardised),
    "+ shared between components heard alike": ("mtat-musicnn", lambda h, p: _standardised(h, p, OPTIONS.share_temperature)),
    "+ lowered out of the source's register": ("mtat-musicnn", lambda h, p: _standardised(
        h, p, OPTIONS.share_temperature, OPTIONS.register_weight)),
    "+ a head learned from isolated renders (the tagged start)": ("mtat-musicnn", lambda h, p: _standardised(
        h, p, OPTIONS.share_temperature, OPTIONS.register_weight, OPTIONS.fragment_weight)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--sources", nargs="+", default=SOURCES)
    parser.add_argument("--max-tracks", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="NMF seed")
    parser.add_argument("-d", "--device", default="cpu")
    args = parser.parse_args()
    separator = Separator(device=args.device, progress=False)
    ensemble = separator.ensemble
    scores: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for root in args.roots:
        layout = detect_layout(root)
        for track_id, stems in list(track_sources(root, layout).items())[: args.max_tracks]:
            wanted = [s for s in stems if s in args.sources]
            if not wanted:
                continue
            track = load_track(root, layout, track_id)
            mono = torch.as_tensor(track.mixture.mean(0))
            peak = mono.abs().max()
            space = NMFLatent(mono / peak, track.sample_rate, NMFOptions(start="flat"), seed=args.seed)
            parts = space.components()
            pitched = fundamentals(space.W, space.stfts[0].frequencies(track.sample_rate))
            clips = {"whole": (mono / peak)[None], "alone": parts, "without": (mono / peak)[None] - parts}
            tags = {name: ensemble.probabilities(audio, track.sample_rate) for name, audio in clips.items()}
            stem_audio = {name: torch.as_tensor(track.stems[name].mean(0)) / peak for name in stems}
            names = sorted(stems)
            for source in wanted:
                targets = separator.steered(source).targets
                stem = stem_audio[source].numpy()
                base = si_sdr(stem, (mono / peak).numpy())

                def heard(taggers: str) -> Heard:
                    listener = Steered(source, {t: target for t, target in targets.items() if taggers in ("both", t)})
                    return Heard(**{name: listener.probability(tags[name])[None] for name in clips},
                                 tags={t: tags["alone"][t] for t in listener.targets})

                gains = {"oracle grouping (ceiling)": oracle_components(
                    space, [stem_audio[n] for n in names], names.index(source)).float()}
                prior = (pitched, Register.of(source), FragmentHead.of(source))
                gains.update({stage: rule(heard(taggers), prior) for stage, (taggers, rule) in STAGES.items()})
                for stage, gain in gains.items():
                    estimate = (gain @ parts).numpy()
                    scores[stage].append((root.name, source, si_sdr(stem, estimate) - base))
    sets = sorted({s for rows in scores.values() for s, _, _ in rows})
    print(f"| stage | stems | mean | median | {' | '.join(sets)} | {' | '.join(args.sources)} |")
    print("|---|---:|---:|---:|" + "---:|" * (len(sets) + len(args.sources)))
    for stage, rows in scores.items():
        values = np.array([v for _, _, v in rows])
        per_set = [np.mean([v for s, _, v in rows if s == name]) for name in sets]
        per_source = [np.mean([v for _, s, v in rows if s == name]) if any(s == name for _, s, _ in rows) else np.nan
                      for name in args.sources]
        cells = " | ".join(f"{v:+.2f}" for v in per_set) + " | " + " | ".join(
            "" if np.isnan(v) else f"{v:+.1f}" for v in per_source)
        print(f"| {stage} | {values.size} | {values.mean():+.2f} | {np.median(values):+.2f} | {cells} |")


if __name__ == "__main__":
    main()
