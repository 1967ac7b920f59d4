"""``tagbox train-generator DATA_DIR``: train a compact VQ-VAE generator on a folder of music."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from tagbox.errors import TagboxError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train-generator",
        help="train a single-level VQ-VAE generator (resumable; Ctrl-C saves a checkpoint)",
        description="Train a single-level VQ-VAE on DATA_DIR/train/** audio, validating on the "
        "held-out pieces in DATA_DIR/valid/** (scripts/prepare_training_data.py makes such a "
        "folder). Checkpoints go to OUT/last.pt and OUT/best.pt; an existing run resumes.",
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", type=Path, nargs="?",
                        help="training data folder (not needed with --export)")
    parser.add_argument("--out", type=Path, default=Path("runs/generator"),
                        help="checkpoint folder (default: %(default)s)")
    parser.add_argument("--config", default="compact",
                        help="architecture, a single-level entry of tagbox.generators.GENERATORS "
                        "(default: %(default)s)")
    parser.add_argument("--steps", type=int, default=None, help="train until this step")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--crop-seconds", type=float, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--valid-every", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--no-resume", dest="resume", action="store_false",
                        help="start over instead of resuming OUT/last.pt (needs --force)")
    parser.add_argument("--force", action="store_true", help="allow overwriting OUT/last.pt")
    parser.add_argument("--export", type=Path, metavar="PATH", default=None,
                        help="only write the inference weights of OUT/best.pt (or last.pt) to PATH")
    parser.add_argument("--half", action="store_true", help="export float16 weights")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tagbox.generators import GENERATORS
    from tagbox.training import (
        BEST,
        LAST,
        TrainOptions,
        export_weights,
        train,
    )

    if args.export is not None:
        source = next((args.out / n for n in (BEST, LAST) if (args.out / n).is_file()), None)
        if source is None:
            raise TagboxError(f"no checkpoint to export in {args.out}")
        if args.export.exists() and not args.force:
            raise TagboxError(f"{args.export} exists; pass --force to overwrite it")
        path = export_weights(source, args.export, half=args.half)
        print(f"exported {source} -> {path} ({path.stat().st_size / 1e6:.2f} MB)")
        return 0

    if args.data_dir is None:
        raise TagboxError("DATA_DIR is required to train (only --export works without it)")
    if args.config not in GENERATORS:
        raise TagboxError(f"unknown --config '{args.config}'; known: {', '.join(GENERATORS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    chosen = {
        "steps": args.steps, "batch_size": args.batch_size, "crop_seconds": args.crop_seconds,
        "lr": args.lr, "checkpoint_every": args.checkpoint_every,
        "valid_every": args.valid_every, "seed": args.seed,
    }
    options = TrainOptions(**{k: v for k, v in chosen.items() if v is not None})
    result = train(args.data_dir, args.out, GENERATORS[args.config].config, options,
                   resume=args.resume, force=args.force)
    done = result.step - result.start_step
    state = "interrupted" if result.interrupted else "stopped"
    print(f"{state} at step {result.step}/{options.steps} ({done} steps this run, "
          f"{result.seconds / 3600:.2f} h of training in total); checkpoint: {result.out_dir / LAST}")
    if result.last_loss is not None:
        print(f"last training loss {result.last_loss:.4f}")
    if result.validation:
        v = result.validation
        print(f"validation at step {v['step']}: SI-SDR {v['si_sdr']:.2f} dB, LSD {v['lsd']:.2f} dB")
    return 0
