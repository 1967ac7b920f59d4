"""Learn what a fragment of each source sounds like to the taggers, from isolated renders.

An NMF component of a cello is one note or a few, and MTAT musicnn, which knows whole
recordings, hears it as guitar or strings more often than as cello. This script renders short
phrases of General MIDI instruments one at a time with a soundfont (never the dev sets' own:
FluidR3 and TimGM6mb), decomposes each alone as the ``nmf`` latent does, lets MTAT musicnn hear
each component alone, and fits per source a logistic regression from the components' tag
log-odds to "a component of this source" against the components of every other instrument
(bass too, which MTAT has no tag for: its head reads MTAT musicnn while Jamendo musicnn labels it).
The heads (50 weights and a bias per source) are written to ``tagbox/data/fragments.json``,
which :mod:`tagbox.pipeline.priors` reads. Only isolated recordings are used: no mixture, no
separation target.

    pip install -e ".[fragments]"   # and libfluidsynth and a soundfont (Debian: fluidsynth, csound-soundfont)
    TAGBOX_WEIGHTS_MIRROR=../shared/weights python scripts/train_fragment_heads.py \
        --soundfont /usr/share/sounds/sf2/sf_GMbank.sf2 --clips 8 -j 2
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from tagbox.batch.manifest import atomic_write_text
from tagbox.latents.nmf import NMFLatent, NMFOptions
from tagbox.pipeline.labelling import log_odds
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.training.logistic import fit_logistic
from tagbox.training.renders import INSTRUMENTS, RATE, phrase, render

COMPONENTS = 16
TAGGER = "mtat-musicnn"
OUT = Path(__file__).resolve().parents[1] / "src" / "tagbox" / "data" / "fragments.json"


@lru_cache(maxsize=None)
def _ensemble() -> TaggerEnsemble:
    """The tagger, loaded once per worker process."""
    return TaggerEnsemble.load([TAGGER])


def component_tags(audio: np.ndarray, seed: int) -> torch.Tensor:
    """MTAT musicnn's tags ``(components, 50)`` of each NMF component of ``audio`` heard alone,
    decomposed as the ``nmf`` latent decomposes a mixture."""
    latent = NMFLatent(torch.from_numpy(audio), RATE, NMFOptions(start="flat", components=COMPONENTS), seed=seed)
    return _ensemble().probabilities(latent.components(), RATE)[TAGGER]


def _clip(job: tuple[int, int, int, str]) -> tuple[int, torch.Tensor]:
    index, clip, seed, soundfont = job
    torch.set_num_threads(1)
    instrument = INSTRUMENTS[index]
    audio = render(instrument, phrase(instrument, np.random.default_rng(seed)), soundfont)
    return index, component_tags(audio, seed) if np.abs(audio).max() > 0 else torch.empty(0, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", required=True, help="an .sf2/.sf3 soundfont other than the dev sets' own")
    parser.add_argument("--clips", type=int, default=8, help="phrases per instrument")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the heads (sklearn's 1/C)")
    parser.add_argument("--seed", type=int, default=0, help="draws the phrases (and the NMF's start) of every clip")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--features", type=Path, help="cache of the components' tags (reused if present)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists (the bundled heads by default)")
    args = parser.parse_args()
    if not Path(args.soundfont).is_file():
        sys.exit(f"error: no soundfont at {args.soundfont}")
    if args.out.exists() and not args.force:
        sys.exit(f"error: {args.out} exists; --force overwrites it")
    cached = args.features is not None and args.features.exists()
    if not cached:
        try:
            import fluidsynth  # noqa: F401
        except (ImportError, OSError) as error:  # the module, or the libfluidsynth it loads
            sys.exit(f"error: rendering needs pyfluidsynth and libfluidsynth ({error}); pip install -e '.[fragments]'")
    if cached:
        heard = torch.load(args.features)
    else:
        jobs = [(i, c, 100_000 * args.seed + 1000 * i + c, args.soundfont)
                for i in range(len(INSTRUMENTS)) for c in range(args.clips)]
        heard = {i: [] for i in range(len(INSTRUMENTS))}
        with ProcessPoolExecutor(args.jobs) as pool:
            for index, tags in tqdm(pool.map(_clip, jobs), total=len(jobs), unit="clip"):
                heard[index].append(tags)
        if args.features:
            torch.save(heard, args.features)
    features = torch.cat([log_odds(t) for i in heard for t in heard[i]])
    owners = [INSTRUMENTS[i].source for i in heard for t in heard[i] for _ in range(len(t))]
    heads = {}
    for source in sorted({inst.source for inst in INSTRUMENTS if inst.source}):
        labels = torch.tensor([owner == source for owner in owners], dtype=torch.float32)
        weights, bias = fit_logistic(features, labels, l2=args.l2)
        heads[source] = {"weights": [round(w, 5) for w in weights.tolist()], "bias": round(bias, 5)}
        print(f"{source}: {int(labels.sum())} components of {len(labels)}")
    document = {
        "_comment": "What a fragment (an NMF component heard alone) of each source sounds like to the tagger: per source "
        "a logistic regression from the component's tag log-odds, fitted on isolated renders of General MIDI "
        "instruments. Written by scripts/train_fragment_heads.py; read by tagbox.pipeline.priors.",
        "tagger": TAGGER, "soundfont": Path(args.soundfont).name, "clips_per_instrument": args.clips, "l2": args.l2,
        "seed": args.seed,
        "instruments": [vars(inst) for inst in INSTRUMENTS],
        "heads": heads,
    }
    atomic_write_text(args.out, json.dumps(document, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
