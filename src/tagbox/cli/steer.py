"""``tagbox steer``: move a song towards tags (and away from others) by steering a generator's latents."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tagbox.audio import load_audio, save_audio
from tagbox.batch.manifest import FORMAT, atomic_write_text, earlier_entries
from tagbox.cli import _threads
from tagbox.cli._taggers import check_taggers
from tagbox.device import resolve_device
from tagbox.errors import TagboxError
from tagbox.generators import GENERATORS
from tagbox.inputs import check_file
from tagbox.latents import FreeMaskLatent, VQVAELatent
from tagbox.report import write_report
from tagbox.steer import LATENTS, checked_names, steer_audio
from tagbox.threads import use_threads
from tagbox.weights import is_available


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "steer",
        help="make a song sound more like some tags (and less like others) by steering a generator",
        description="Encode each INPUT with a generator (the compact VQ-VAE, or jukebox-5b) and move its latents "
        "until the taggers hear the --toward tags more and the --away tags less in the decoded audio: the audio "
        "itself changes (no mask, unlike separate). Writes <out>/<track>/steered.wav and summary.json: each tag's "
        "probability before and after, by the steering taggers and by a --judge tagger that did not steer (a tag "
        "that rises for it changed the music, not just the steering taggers' opinion), and how far the audio moved.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="INPUT", help="audio files")
    parser.add_argument("--toward", action="append", default=[], metavar="TAG",
                        help="tag or source name to hear more of (repeatable), e.g. rock, piano")
    parser.add_argument("--away", action="append", default=[], metavar="TAG", help="tag or source name to hear less of")
    parser.add_argument("-o", "--out", type=Path, default=Path("steered"), help="output folder (default steered/)")
    parser.add_argument("--steps", type=int, default=50, help="Adam steps per 30 s segment (default 50)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default: the latent's own, "
                        f"{VQVAELatent.default_lr:g} for vqvae, {FreeMaskLatent.default_lr:g} for mask)")
    parser.add_argument("--stay-close", type=float, default=0.1, metavar="W",
                        help="after every step, pull the latents back this fraction of their way from the input's, "
                        "in [0, 1) (default 0.1; 0: no pull, the audio moves much further)")
    parser.add_argument("--latent", default="vqvae", choices=LATENTS,
                        help="what moves: vqvae, the generator's latents (default), or mask, a free gain per "
                        "time-frequency bin of the input: the negative control, which fools the steering taggers "
                        "with little audible change")
    parser.add_argument("--generator", default="compact", choices=sorted(GENERATORS),
                        help="compact (bundled) or jukebox-5b (`tagbox download jukebox-5b`)")
    parser.add_argument("--level", type=int, default=0, help="generator level to steer, 0 the finest")
    parser.add_argument("--tagger", dest="taggers", action="append", metavar="ID",
                        help="steering tagger (repeatable; default mtat-musicnn)")
    parser.add_argument("--judge", default="mtat-fcn", metavar="ID",
                        help="a tagger that does not steer and judges the result (default mtat-fcn; 'none' for none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-d", "--device", default="cpu", help="torch device: cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--force", action="store_true", help="replace earlier outputs")
    parser.add_argument("--report", action="store_true",
                        help="write an HTML report to <out>/report/: players, spectrograms, the tags over the steps")
    _threads.add_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    use_threads(args.threads)
    taggers = args.taggers or ["mtat-musicnn"]
    judge = None if args.judge == "none" else args.judge
    check_taggers([*taggers, *([judge] if judge else [])])
    checked_names(args.toward, args.away)
    entry = GENERATORS[args.generator].weights
    if args.latent == "vqvae" and entry is not None and not is_available(entry):
        raise TagboxError(f"the {args.generator} generator's weights are not here: run `tagbox download {entry}`")
    resolve_device(args.device)
    for path in args.files:
        check_file(path)
        if (args.out / path.stem / "steered.wav").exists() and not args.force:
            raise TagboxError(f"{args.out / path.stem / 'steered.wav'} exists: use --force to replace it, or another -o")
    manifest = args.out / "manifest.json"
    entries = earlier_entries(manifest)
    for path in args.files:
        wav, rate = load_audio(path)
        result = steer_audio(wav, sample_rate=rate, toward=args.toward, away=args.away, steps=args.steps, lr=args.lr,
                             stay_close=args.stay_close, latent=args.latent, generator=args.generator, level=args.level,
                             taggers=taggers, judge=judge, seed=args.seed, device=args.device)
        folder = args.out / path.stem
        save_audio(folder / "steered.wav", result.audio, rate, force=True)
        summary = {"input": str(path), "output": str((folder / "steered.wav").relative_to(args.out)),
                   "toward": args.toward, "away": args.away, "tags": result.tags,
                   "lsd_db": result.lsd_db, "si_sdr_db": result.si_sdr_db,
                   "reconstruction_lsd_db": result.reconstruction_lsd_db, "steps": args.steps, "lr": result.lr,
                   "stay_close": args.stay_close, "latent": args.latent, "generator": args.generator, "taggers": taggers,
                   "judge": judge, "history": result.history}
        atomic_write_text(folder / "summary.json", json.dumps(summary, indent=1) + "\n")
        entries[str(path)] = summary
        atomic_write_text(manifest, json.dumps({"format": FORMAT, "command": "steer", "files": list(entries.values())},
                                               indent=1) + "\n")
        for name, by in result.tags.items():
            heard = ", ".join(f"{tagger} {before:.2f} -> {after:.2f}" for tagger, (before, after) in by.items())
            print(f"{path.name}: {name}: {heard}")
        print(f"{path.name}: moved {result.lsd_db:.1f} dB log-spectral distance ({result.reconstruction_lsd_db:.1f} dB "
              f"unsteered, the generator's own; SI-SDR to the input {result.si_sdr_db:.1f} dB); wrote {folder / 'steered.wav'}")
    if args.report:
        print(f"report {write_report(manifest, args.out / 'report')}")
    return 0
