"""Train a VQ-VAE generator on a folder of music, the way Jukebox trains its VQ-VAE.

Losses (Jukebox-style): waveform L2 (relative to the crop's energy, so loud and quiet crops
weigh alike), a multi-resolution STFT loss (spectral convergence + log-magnitude L1: the L2
alone ignores the quiet high band) and the commitment loss. The codebook is not learnt by
gradient: it is an EMA of the latents assigned to each code, with dead codes restarted from
random current latents, exactly the update of the ``reference`` codebook policy
(:class:`~tagbox.generators.codebook.ReferenceCodebooks`), which is reused here.

Data: ``DATA_DIR/train/**`` and ``DATA_DIR/valid/**`` audio files (FLAC/WAV/OGG), whole pieces
per split (``scripts/prepare_training_data.py`` makes such a folder). Training reads random
crops; validation scores fixed excerpts of the held-out pieces with the frozen codebook.

Checkpoints (``OUT/last.pt``, ``OUT/best.pt``) hold model, optimiser, codebook EMA state, step,
RNG states and the validation history; they are written atomically, so a run killed at any
moment resumes from its last checkpoint. :func:`export_weights` writes the small
inference-only file that :func:`tagbox.generators.load` reads.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from tagbox.audio import resample
from tagbox.errors import TagboxError
from tagbox.generators.codebook import EMAState, ReferenceCodebooks
from tagbox.generators.vqvae import VQVAE, VQVAEConfig
from tagbox.metrics import si_sdr

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".flac", ".wav", ".ogg")
STFT_SIZES = (2048, 1024, 512, 256, 128)
LSD_SIZES = (2048, 1024, 512)
LSD_FLOOR_DB = 80.0
LAST, BEST = "last.pt", "best.pt"
_SILENCE_RMS = 1e-3
_CROP_TRIES = 20


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


# ------------------------------------------------------------------------------------ data


def audio_files(folder: Path) -> list[Path]:
    """Readable audio files under ``folder``; unreadable ones are skipped with a warning."""
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
        try:
            if sf.info(path).frames > 0:
                files.append(path)
        except (sf.LibsndfileError, RuntimeError, OSError) as error:
            logger.warning("skipping unreadable %s: %s", path, error)
    return files


def training_files(data_dir: Path) -> tuple[list[Path], list[Path]]:
    """(train, valid) files of a data folder; raises a one-line error when there is no data."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir() or not os.access(data_dir, os.R_OK | os.X_OK):
        raise TagboxError(f"training data folder {data_dir} does not exist or cannot be read")
    train = audio_files(data_dir / "train")
    if not train:
        raise TagboxError(
            f"no readable audio under {data_dir / 'train'}: a training data folder holds "
            f"train/ and valid/ folders of audio files (see scripts/prepare_training_data.py)"
        )
    return train, audio_files(data_dir / "valid")


def read_mono(path: Path, sample_rate: int, start: int = 0, frames: int = -1) -> np.ndarray:
    """Samples [start, start+frames) of a file as mono float32 at ``sample_rate``."""
    with sf.SoundFile(path) as handle:
        rate = handle.samplerate
        if rate != sample_rate and frames > 0:
            start, frames = start * rate // sample_rate, math.ceil(frames * rate / sample_rate)
        handle.seek(start)
        wav = handle.read(frames, dtype="float32", always_2d=True).mean(axis=1)
    if rate != sample_rate:
        wav = resample(torch.from_numpy(wav), rate, sample_rate).numpy()
    return wav


class RandomCrops:
    """Random non-silent crops, each file drawn in proportion to its length, peak-normalised
    to a random level (TagBox peak-normalises its input, so the model sees that range)."""

    def __init__(self, files: list[Path], sample_rate: int, crop: int):
        self.files = files
        self.sample_rate = sample_rate
        self.crop = crop
        frames = np.array([sf.info(f).duration * sample_rate for f in files])
        self.frames = frames.astype(np.int64)
        weights = np.maximum(frames - crop, 1.0)
        self.weights = weights / weights.sum()

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(_CROP_TRIES):
            index = rng.choice(len(self.files), p=self.weights)
            start = int(rng.integers(0, max(self.frames[index] - self.crop, 0) + 1))
            wav = read_mono(self.files[index], self.sample_rate, start, self.crop)
            wav = np.pad(wav[: self.crop], (0, max(self.crop - len(wav), 0)))
            if np.sqrt(np.mean(wav**2)) > _SILENCE_RMS:
                return wav / np.abs(wav).max() * rng.uniform(0.3, 1.0)
        raise TagboxError(f"found only silence in {_CROP_TRIES} random crops of the training data")

    def batch(self, rng: np.random.Generator, size: int) -> Tensor:
        return torch.from_numpy(np.stack([self.sample(rng) for _ in range(size)])).unsqueeze(1)


def validation_excerpts(files: list[Path], sample_rate: int, count: int, seconds: float,
                        hop: int) -> list[Tensor]:
    """Fixed excerpts spread over the held-out pieces: the middle of each piece first, then
    more points per piece until ``count`` excerpts are taken."""
    length = int(seconds * sample_rate) // hop * hop
    excerpts = []
    per_piece = max(1, math.ceil(count / max(len(files), 1)))
    for path in files:
        total = int(sf.info(path).duration * sample_rate)
        for j in range(per_piece):
            if len(excerpts) >= count or total < length:
                break
            start = int((total - length) * (j + 0.5) / per_piece)
            wav = read_mono(path, sample_rate, start, length)[:length]
            peak = np.abs(wav).max()
            if len(wav) == length and np.sqrt(np.mean(wav**2)) > _SILENCE_RMS:
                excerpts.append(torch.from_numpy(wav / peak).view(1, 1, -1))
    return excerpts


# ---------------------------------------------------------------------------------- losses


def stft_magnitude(x: Tensor, n_fft: int) -> Tensor:
    """|STFT| of (N, 1, T) audio with a Hann window and 75 % overlap: (N, bins, frames)."""
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(x.reshape(-1, x.shape[-1]), n_fft, n_fft // 4, window=window,
                      return_complex=True)
    return spec.abs()


def spectral_loss(x: Tensor, y: Tensor, sizes: tuple[int, ...] = STFT_SIZES) -> Tensor:
    """Multi-resolution STFT loss: spectral convergence + mean |log magnitude| difference."""
    total = x.new_zeros(())
    for n_fft in sizes:
        sx, sy = stft_magnitude(x, n_fft), stft_magnitude(y, n_fft)
        convergence = torch.linalg.norm(sx - sy) / torch.linalg.norm(sx).clamp_min(1e-7)
        log_l1 = (torch.log(sx.clamp_min(1e-5)) - torch.log(sy.clamp_min(1e-5))).abs().mean()
        total = total + convergence + log_l1
    return total / len(sizes)


def waveform_loss(x: Tensor, y: Tensor) -> Tensor:
    """L2 of the waveform relative to each crop's energy (10**(-SNR/10), averaged)."""
    error = (x - y).pow(2).mean(dim=(1, 2))
    return (error / x.pow(2).mean(dim=(1, 2)).clamp_min(1e-8)).mean()


def log_spectral_distance(x: Tensor, y: Tensor, sizes: tuple[int, ...] = LSD_SIZES) -> float:
    """Multi-resolution log-spectral distance in dB of ``y`` from the reference ``x``: per
    frame, the RMS over bins of the difference of power spectra in dB, averaged over frames
    and resolutions. Both spectra are floored at ``LSD_FLOOR_DB`` below the reference's
    loudest bin, so inaudibly quiet bins do not dominate."""
    distances = []
    for n_fft in sizes:
        px = stft_magnitude(x, n_fft).pow(2).clamp_min(1e-20).log10() * 10
        py = stft_magnitude(y, n_fft).pow(2).clamp_min(1e-20).log10() * 10
        floor = px.amax(dim=(-2, -1), keepdim=True) - LSD_FLOOR_DB
        px, py = torch.maximum(px, floor), torch.maximum(py, floor)
        distances.append((px - py).pow(2).mean(dim=-2).sqrt().mean())
    return float(torch.stack(distances).mean())


def reconstruction_metrics(reference: Tensor, estimate: Tensor) -> dict[str, float]:
    """SI-SDR (dB, higher is better) and multi-resolution LSD (dB, lower is better)."""
    n = min(reference.shape[-1], estimate.shape[-1])
    reference, estimate = reference[..., :n], estimate[..., :n]
    return {
        "si_sdr": si_sdr(reference.reshape(-1).numpy(), estimate.reshape(-1).numpy()),
        "lsd": log_spectral_distance(reference, estimate),
    }


@torch.no_grad()
def reconstruct(model: VQVAE, x: Tensor) -> Tensor:
    """Encode, quantise with the model's own (frozen) codebook, decode: level 0."""
    _, zq = model.quantise(model.encode(x, 0), 0)
    return model.decode(zq, 0)


@torch.no_grad()
def validate(model: VQVAE, excerpts: list[Tensor]) -> dict[str, float]:
    """Mean reconstruction metrics over the validation excerpts."""
    was_training = model.training
    model.eval()
    scores = [reconstruction_metrics(x, reconstruct(model, x)) for x in excerpts]
    model.train(was_training)
    return {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}


# ----------------------------------------------------------------------------- checkpoints


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
