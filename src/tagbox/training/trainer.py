"""One training run, checkpointed atomically and resumable; and the export of its weights."""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from tagbox.errors import TagboxError
from tagbox.generators.codebook import EMAState, ReferenceCodebooks
from tagbox.generators.vqvae import VQVAE, VQVAEConfig
from tagbox.training.data import RandomCrops, training_files, validation_excerpts
from tagbox.training.losses import spectral_loss, validate, waveform_loss

logger = logging.getLogger(__name__)

LAST, BEST = "last.pt", "best.pt"


@dataclass
class TrainOptions:
    """What a run does; stored in every checkpoint."""

    steps: int = 200_000
    batch_size: int = 4
    crop_seconds: float = 1.0
    lr: float = 5e-4
    spectral_weight: float = 1.0
    checkpoint_every: int = 50
    valid_every: int = 250
    valid_excerpts: int = 16
    valid_seconds: float = 4.0
    seed: int = 0


@dataclass
class TrainResult:
    step: int
    start_step: int
    seconds: float
    interrupted: bool
    last_loss: float | None
    validation: dict | None
    out_dir: Path
    history: list = field(default_factory=list)




def _atomic_save(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Trainer:
    """One training run: model, optimiser, EMA codebook, data and RNGs, all checkpointable."""

    def __init__(self, config: VQVAEConfig, options: TrainOptions, data_dir: Path, out_dir: Path):
        if config.levels != 1:
            raise TagboxError("train-generator trains single-level VQ-VAEs only")
        train_files, valid_files = training_files(data_dir)
        self.config, self.options, self.out_dir = config, options, Path(out_dir)
        torch.manual_seed(options.seed)
        self.model = VQVAE(config).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=options.lr)
        self.codebook_rng = torch.Generator().manual_seed(options.seed)
        self.codebooks = ReferenceCodebooks(self.model.bottleneck, self.codebook_rng)
        self.rng = np.random.default_rng(options.seed)
        hop = config.hop_length(0)
        crop = max(hop, int(options.crop_seconds * config.sample_rate) // hop * hop)
        self.crops = RandomCrops(train_files, config.sample_rate, crop)
        self.excerpts = validation_excerpts(valid_files, config.sample_rate,
                                            options.valid_excerpts, options.valid_seconds, hop)
        if not self.excerpts:
            logger.warning("no validation pieces under %s/valid: validation is skipped", data_dir)
        self.step = 0
        self.seconds = 0.0
        self.history: list[dict] = []
        self.best: float | None = None

    # -- state

    def state(self) -> dict:
        ema = self.codebooks.states.get(0)
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "codebook": None if ema is None else asdict(ema),
            "step": self.step,
            "seconds": self.seconds,
            "history": self.history,
            "best": self.best,
            "config": asdict(self.config),
            "options": asdict(self.options),
            "rng": {
                "torch": torch.get_rng_state(),
                "codebook": self.codebook_rng.get_state(),
                "numpy": self.rng.bit_generator.state,
            },
        }

    def load_state(self, state: dict, source: Path) -> None:
        saved = VQVAEConfig(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in state["config"].items()})
        if saved != self.config:
            raise TagboxError(
                f"checkpoint {source} was trained with another configuration; use another "
                f"--out folder, or --no-resume --force to start again there"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state["codebook"] is not None:
            self.codebooks.states[0] = EMAState(**state["codebook"])
        self.step, self.seconds = state["step"], state["seconds"]
        self.history, self.best = state["history"], state["best"]
        torch.set_rng_state(state["rng"]["torch"])
        self.codebook_rng.set_state(state["rng"]["codebook"])
        self.rng.bit_generator.state = state["rng"]["numpy"]

    def save(self, name: str = LAST) -> Path:
        self._sync_codebook()
        path = self.out_dir / name
        _atomic_save(self.state(), path)
        return path

    def _sync_codebook(self) -> None:
        """Copy the EMA codebook into the model, so the model alone reconstructs."""
        ema = self.codebooks.states.get(0)
        if ema is not None:
            self.model.bottleneck.level_blocks[0].k.copy_(ema.k)

    # -- training

    def train_step(self) -> dict[str, float]:
        x = self.crops.batch(self.rng, self.options.batch_size)
        z = self.model.encode(x, 0)
        _, zq = self.codebooks.quantise(z, 0)
        commit = F.mse_loss(z, zq.detach())
        y = self.model.decode(zq, 0)
        l2 = waveform_loss(x, y)
        spectral = spectral_loss(x, y)
        loss = l2 + self.options.spectral_weight * spectral + self.config.commit * commit
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return {"loss": loss.item(), "l2": l2.item(), "spectral": spectral.item(),
                "commit": commit.item()}

    def run_validation(self) -> dict | None:
        if not self.excerpts:
            return None
        self._sync_codebook()
        metrics = {"step": self.step, **validate(self.model, self.excerpts)}
        self.history.append(metrics)
        if self.best is None or metrics["si_sdr"] > self.best:
            self.best = metrics["si_sdr"]
            self.save(BEST)
        with open(self.out_dir / "history.jsonl", "a") as log:
            log.write(json.dumps(metrics) + "\n")
        return metrics


def train(data_dir: str | os.PathLike, out_dir: str | os.PathLike, config: VQVAEConfig,
          options: TrainOptions, resume: bool = True, force: bool = False,
          progress: bool = True) -> TrainResult:
    """Train (or resume training) until ``options.steps``; Ctrl-C saves and returns.

    Nothing is written before the data folder has been checked, so bad input leaves no
    half-made run behind.
    """
    out_dir = Path(out_dir)
    trainer = Trainer(config, options, Path(data_dir), out_dir)
    checkpoint = out_dir / LAST
    if checkpoint.exists():
        if resume:
            trainer.load_state(torch.load(checkpoint, map_location="cpu", weights_only=False),
                               checkpoint)
            logger.info("resuming %s at step %d", checkpoint, trainer.step)
        elif not force:
            raise TagboxError(f"{checkpoint} exists; resume it (the default), pick another "
                              f"--out, or pass --force to start over")
    start_step = trainer.step
    out_dir.mkdir(parents=True, exist_ok=True)

    interrupted = False

    def _interrupt(signum, frame):
        nonlocal interrupted
        interrupted = True

    previous = signal.signal(signal.SIGINT, _interrupt)
    losses: dict[str, float] = {}
    validation = trainer.history[-1] if trainer.history else None
    try:
        with tqdm(total=options.steps, initial=trainer.step, desc="training", unit="step",
                  disable=not progress, mininterval=5.0) as bar:
            while trainer.step < options.steps and not interrupted:
                started = time.perf_counter()
                losses = trainer.train_step()
                trainer.seconds += time.perf_counter() - started
                bar.update(1)
                bar.set_postfix(loss=f"{losses['loss']:.3f}", refresh=False)
                if trainer.step % options.valid_every == 0:
                    validation = trainer.run_validation() or validation
                    if validation:
                        logger.info("step %d: validation SI-SDR %.2f dB, LSD %.2f dB",
                                    trainer.step, validation["si_sdr"], validation["lsd"])
                if trainer.step % options.checkpoint_every == 0:
                    trainer.save()
                    logger.info("step %d: loss %.4f (l2 %.4f, spectral %.4f, commit %.4f)",
                                trainer.step, *(losses[k] for k in ("loss", "l2", "spectral", "commit")))
        trainer.save()
    finally:
        signal.signal(signal.SIGINT, previous)
    return TrainResult(trainer.step, start_step, trainer.seconds, interrupted,
                       losses.get("loss"), validation, out_dir, trainer.history)


def export_weights(checkpoint: str | os.PathLike, path: str | os.PathLike,
                   half: bool = False) -> Path:
    """Write the inference-only weights of a training checkpoint (atomically).

    The file holds ``{"model": state_dict, "config": ..., "step": ...}``, which
    :func:`tagbox.checkpoints.read_checkpoint` reads. ``half`` stores float16 to halve the size.
    """
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = {k: v.half() if half and v.is_floating_point() else v.clone()
             for k, v in state["model"].items()}
    path = Path(path)
    _atomic_save({"model": model, "config": state["config"], "step": state["step"],
                  "training_seconds": state["seconds"], "history": state["history"]}, path)
    return path
