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
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from tagbox.latents.nmf import NMFLatent, NMFOptions
from tagbox.pipeline.labelling import log_odds
from tagbox.taggers.ensemble import TaggerEnsemble

RATE = 44100
SECONDS = 10.0
COMPONENTS = 16
TAGGER = "mtat-musicnn"
OUT = Path(__file__).resolve().parents[1] / "src" / "tagbox" / "data" / "fragments.json"


@dataclass(frozen=True)
class Instrument:
    """A General MIDI program, the MIDI notes it plays here, whether it plays chords, and the
    tagbox source it renders (None: heard only as another instrument)."""

    program: int
    low: int
    high: int
    chords: bool = False
    source: str | None = None
    drums: bool = False


INSTRUMENTS = [
    Instrument(0, 36, 96, True, "piano"), Instrument(1, 36, 96, True, "piano"),
    Instrument(24, 40, 76, True, "guitar"), Instrument(25, 40, 76, True, "guitar"),
    Instrument(26, 40, 79, True, "electric_guitar"), Instrument(27, 40, 79, True, "electric_guitar"),
    Instrument(29, 40, 79, True, "electric_guitar"), Instrument(30, 40, 79, True, "electric_guitar"),
    Instrument(40, 55, 96, False, "violin"), Instrument(42, 36, 76, False, "cello"),
    Instrument(48, 36, 88, True, "strings"), Instrument(49, 36, 88, True, "strings"),
    Instrument(73, 60, 96, False, "flute"),
    Instrument(80, 36, 84, False, "synth"), Instrument(81, 36, 84, False, "synth"),
    Instrument(88, 36, 84, True, "synth"), Instrument(90, 36, 84, True, "synth"),
    Instrument(32, 28, 55, False, "bass"), Instrument(33, 28, 55, False, "bass"),
    Instrument(34, 28, 55, False, "bass"), Instrument(38, 28, 55, False, "bass"),
    # Others a mixture holds, which the heads must tell apart from the sources.
    Instrument(16, 36, 84, True), Instrument(19, 36, 84, True), Instrument(4, 36, 88, True),
    Instrument(11, 53, 89), Instrument(46, 36, 96, True), Instrument(52, 48, 79, True),
    Instrument(56, 55, 82), Instrument(61, 48, 80, True), Instrument(65, 49, 80), Instrument(66, 44, 76),
    Instrument(68, 58, 91), Instrument(71, 50, 89), Instrument(41, 48, 84), Instrument(43, 28, 55),
    Instrument(0, 35, 81, drums=True),
]
DRUM_NOTES = (36, 38, 42, 46, 45, 48, 49, 51)


def phrase(instrument: Instrument, rng: np.random.Generator, seconds: float = SECONDS) -> list[tuple[float, float, int, int]]:
    """Random notes ``(start, end, pitch, velocity)`` for ``seconds``: a random walk through the
    instrument's notes at a random tempo, chords now and then where it plays them; for drums a
    random pattern on a sixteenth-note grid."""
    beat = rng.uniform(0.3, 0.7)
    notes = []
    if instrument.drums:
        step = beat / 4
        for i in range(int(seconds / step)):
            for pitch, chance in zip(DRUM_NOTES, (0.35, 0.25, 0.5, 0.1, 0.05, 0.05, 0.03, 0.15)):
                if rng.random() < chance:
                    notes.append((i * step, i * step + step, pitch, int(rng.integers(60, 120))))
        return notes
    time, pitch = 0.0, int(rng.integers(instrument.low, instrument.high + 1))
    while time < seconds:
        length = beat * float(rng.choice([0.25, 0.5, 1.0, 1.0, 2.0]))
        pitch = int(np.clip(pitch + rng.integers(-5, 6) + (rng.integers(-12, 13) if rng.random() < 0.1 else 0),
                            instrument.low, instrument.high))
        chord = [0] + (list(rng.choice([3, 4, 5, 7, 9, 12], size=int(rng.integers(1, 3)), replace=False))
                       if instrument.chords and rng.random() < 0.4 else [])
        velocity = int(rng.integers(60, 120))
        for interval in chord:
            if pitch + interval <= instrument.high:
                notes.append((time, min(time + length * rng.uniform(0.7, 1.0), seconds), pitch + int(interval), velocity))
        time += length
    return notes


def render(instrument: Instrument, notes: list[tuple[float, float, int, int]], soundfont: str) -> np.ndarray:
    """``notes`` played by ``instrument`` with ``soundfont``: mono float32 at :data:`RATE`, peak 1."""
    synth, font = _synth(soundfont)
    channel = 9 if instrument.drums else 0
    synth.program_select(channel, font, 128 if instrument.drums else 0, instrument.program)
    events = sorted([(start, 1, pitch, velocity) for start, _, pitch, velocity in notes]
                    + [(end, 0, pitch, 0) for _, end, pitch, _ in notes])
    chunks, now = [], 0
    for seconds, on, pitch, velocity in events:
        frame = int(seconds * RATE)
        if frame > now:
            chunks.append(synth.get_samples(frame - now))
            now = frame
        if on:
            synth.noteon(channel, pitch, velocity)
        else:
            synth.noteoff(channel, pitch)
    total = int(SECONDS * RATE)
    if total > now:
        chunks.append(synth.get_samples(total - now))
    for pitch in range(128):  # silence, and let the tails die out before the next clip
        synth.noteoff(channel, pitch)
    synth.get_samples(2 * RATE)
    audio = np.concatenate(chunks).astype(np.float32).reshape(-1, 2).mean(1)[:total]
    peak = np.abs(audio).max()
    return audio / peak if peak > 0 else audio


@lru_cache(maxsize=None)
def _synth(soundfont: str):
    """One synthesiser per process and soundfont: loading a compressed soundfont takes seconds."""
    import fluidsynth

    synth = fluidsynth.Synth(samplerate=float(RATE), gain=0.4)
    return synth, synth.sfload(soundfont)


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


def fit_logistic(features: torch.Tensor, labels: torch.Tensor, *, l2: float) -> tuple[torch.Tensor, float]:
    """Weights ``(features,)`` and bias of a logistic regression, positives and negatives weighted
    equally, with an L2 penalty of ``l2`` on the weights (LBFGS to convergence)."""
    x, y = features.double(), labels.double()
    balance = torch.where(y > 0, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    weights = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([weights, bias], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(x @ weights + bias, y, reduction="none")
                * balance).mean() + l2 * weights.pow(2).sum() / len(y)
        loss.backward()
        return loss

    optimiser.step(closure)
    return weights.detach().float(), float(bias.detach())


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
    with tempfile.NamedTemporaryFile("w", dir=args.out.parent, delete=False, suffix=".tmp") as handle:
        json.dump(document, handle, indent=1)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
