"""Learn when a source plays in a segment, from mixtures of isolated renders.

Random mixtures of two to four General MIDI instruments (the fragment heads' instruments, drums
included), each a random phrase rendered with a soundfont no dev set uses, are labelled by the
default's stages up to the start gains (one run, every source at once: a source's evidence does
not depend on the others'), and the presence features of each source
(:func:`tagbox.pipeline.presence.run_features`) are kept with whether it plays. Per source, a
balanced logistic regression over the standardised features is written to
``tagbox/data/presence.json``, which :mod:`tagbox.pipeline.presence` reads. No dev audio, no
separation target.

    pip install -e ".[fragments]"   # and libfluidsynth and csound's soundfont (Debian: fluidsynth, csound-soundfont)
    TAGBOX_WEIGHTS_MIRROR=../shared/weights python scripts/train_presence_head.py \
        --soundfont /usr/share/sounds/sf2/sf_GMbank.sf2 --mixtures 200 -j 2 --features presence-features/
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from tagbox.batch.manifest import atomic_write_text
from tagbox.pipeline import Tools, build
from tagbox.pipeline.presence import FEATURES, run_features
from tagbox.separator import Separator
from tagbox.training.logistic import fit_logistic
from tagbox.training.renders import INSTRUMENTS, RATE, phrase, render

SOURCES = ("bass", "cello", "drums", "electric_guitar", "flute", "guitar", "piano", "strings", "synth", "violin")
OUT = Path(__file__).resolve().parents[1] / "src" / "tagbox" / "data" / "presence.json"


def plays(index: int) -> str | None:
    """The source instrument ``index`` of :data:`INSTRUMENTS` renders (drums for the drum kit)."""
    instrument = INSTRUMENTS[index]
    return "drums" if instrument.drums else instrument.source


@lru_cache(maxsize=None)
def _separator() -> Separator:
    """The default, labelling every source at once: one run, no competitor (loaded once per worker)."""
    return Separator(runs=1, competitors="none", progress=False)


def mixture(seed: int, soundfont: str) -> tuple[np.ndarray, set[str]]:
    """Two to four instruments of different sources (at most one drum kit), each a phrase at a
    random level: mono, peak 1, and the sources that play in it."""
    rng = np.random.default_rng(seed)
    count, chosen = int(rng.integers(2, 5)), []
    for index in rng.permutation(len(INSTRUMENTS)):
        if plays(index) is None or plays(index) not in {plays(i) for i in chosen}:
            chosen.append(int(index))
        if len(chosen) == count:
            break
    audio = sum(rng.uniform(0.3, 1.0) * render(INSTRUMENTS[i], phrase(INSTRUMENTS[i], rng), soundfont) for i in chosen)
    return (audio / np.abs(audio).max()).astype(np.float32), {plays(i) for i in chosen} - {None}


def _features(job: tuple[int, str, Path | None]) -> tuple[torch.Tensor, torch.Tensor]:
    """One mixture's features ``(sources, features)`` and labels ``(sources,)``, kept in ``cache``
    (a folder) when given, so that an interrupted run resumes where it stopped."""
    seed, soundfont, cache = job
    kept = cache / f"{seed}.pt" if cache is not None else None
    if kept is not None and kept.exists():
        return torch.load(kept)
    torch.set_num_threads(1)
    audio, present = mixture(seed, soundfont)
    separator = _separator()
    request = separator.request(list(SOURCES))
    segment = build(separator.config, request, RATE).before("refine").run(torch.from_numpy(audio)[None], 0,
                                                                         tools=Tools(separator.ensemble))
    removal = separator.config.labelling.removal_weight
    done = run_features(segment.runs[0], segment, removal), torch.tensor([s in present for s in SOURCES], dtype=torch.float32)
    if kept is not None:
        torch.save(done, kept.with_suffix(".tmp"))
        os.replace(kept.with_suffix(".tmp"), kept)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", required=True, help="an .sf2/.sf3 soundfont other than the dev sets' own")
    parser.add_argument("--mixtures", type=int, default=200)
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the heads (sklearn's 1/C)")
    parser.add_argument("--seed", type=int, default=0, help="draws the mixtures")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--features", type=Path, help="folder caching each mixture's features (an interrupted run resumes)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists (the bundled heads by default)")
    args = parser.parse_args()
    if args.out.exists() and not args.force:
        sys.exit(f"error: {args.out} exists; --force overwrites it")
    if not Path(args.soundfont).is_file():
        sys.exit(f"error: no soundfont at {args.soundfont}")
    if args.features is not None:
        args.features.mkdir(parents=True, exist_ok=True)
    jobs = [(100_000 * args.seed + i, args.soundfont, args.features) for i in range(args.mixtures)]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(tqdm(pool.map(_features, jobs), total=len(jobs), unit="mixture"))
    features, labels = torch.stack([f for f, _ in done]), torch.stack([y for _, y in done])
    heads = {}
    for column, source in enumerate(SOURCES):
        x, y = features[:, column], labels[:, column]
        mean, spread = x.mean(0), x.std(0)
        scale = torch.where(spread > 1e-3, spread, torch.ones_like(spread))  # a constant feature (no head) stays 0
        weights, bias = fit_logistic((x - mean) / scale, y, l2=args.l2)
        heads[source] = {"mean": [round(v, 5) for v in mean.tolist()], "scale": [round(v, 5) for v in scale.tolist()],
                         "weights": [round(v, 5) for v in weights.tolist()], "bias": round(bias, 5)}
        predicted = torch.sigmoid((x - mean) / scale @ weights + bias) >= 0.5
        print(f"{source}: plays in {int(y.sum())} of {len(y)}; on its own mixtures, false positives "
              f"{float(predicted[y == 0].float().mean()):.0%}, false negatives {float((~predicted[y == 1]).float().mean()):.0%}")
    document = {
        "_comment": "When a source plays in a segment: per source a logistic regression over the standardised presence "
        "features, fitted on mixtures of isolated General MIDI renders. Written by scripts/train_presence_head.py; "
        "read by tagbox.pipeline.presence.",
        "features": list(FEATURES), "soundfont": Path(args.soundfont).name, "mixtures": len(labels), "l2": args.l2,
        "seed": args.seed, "heads": heads,
    }
    atomic_write_text(args.out, json.dumps(document, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
