"""Tag-steered audio: move a generator's latents until the taggers hear the tags asked for.

The original TagBox's headline ("VQGAN+CLIP for music"): the song is encoded by a generator
(the compact VQ-VAE offline, Jukebox 5b where its checkpoint is present), and Adam moves the
unquantised latents so that the decoded audio itself, with no mask on the input, sounds more like
the ``toward`` tags and less like the ``away`` ones, as frozen taggers hear it. "Stay close" pulls
the latents back towards the input's after every step (a fraction ``stay_close`` of their distance
goes), so the audio changes as much as the tags need and no more; a penalty in the loss would not
do it, since Adam's steps do not grow with the gradient. Because taggers can be fooled, the result is also judged by a tagger that did
not steer (``judge``): a tag that rises for it changed the music, not just the steering taggers'
opinion. The free mask (``latent="mask"``, a gain per time-frequency bin of the input) is the
negative control: it lifts the steering taggers' tags with little audible change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from tagbox import generators
from tagbox.apply import overlap_add
from tagbox.errors import TagboxError
from tagbox.inputs import audio_input
from tagbox.latents import FreeMaskLatent, FreeMaskOptions, LatentSpace, VQVAELatent, VQVAEOptions
from tagbox.metrics import si_sdr
from tagbox.objectives import TagTarget
from tagbox.resample import resample
from tagbox.sources import canonical_name, source_tags
from tagbox.steering import steer
from tagbox.taggers.base import Tagger
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.training.losses import log_spectral_distance

SEGMENT = 30.0  # seconds steered at once; longer input is cross-faded segment by segment
LATENTS = ("vqvae", "mask")  # what steer_audio moves: a generator's latents, or the negative control's free mask


@dataclass
class SteeredAudio:
    """What :func:`steer_audio` returns: the steered audio ``(channels, samples)`` at the input's
    rate, each tag's probability before and after (``{name: {tagger: (before, after)}}``, the
    judging tagger's too), how far the audio moved, and every step's record."""

    audio: torch.Tensor
    sample_rate: int
    lr: float  # the learning rate used (the latent's own unless given)
    tags: dict[str, dict[str, tuple[float, float]]]
    lsd_db: float  # log-spectral distance from the input, dB (0: unchanged)
    si_sdr_db: float  # SI-SDR of the steered audio against the input, dB (high: little changed)
    reconstruction_lsd_db: float  # the same for the generator's own reconstruction: what it moves unsteered
    history: list[dict] = field(default_factory=list)


def checked_names(toward: Sequence[str], away: Sequence[str]) -> list[str]:
    """The canonical names of ``toward`` then ``away`` (source names or raw tags; an unknown one is
    refused naming the closest known ones); the same name on both sides, or no name, is refused."""
    names = [canonical_name(name) for name in (*toward, *away)]
    both = set(names[: len(toward)]) & set(names[len(toward):])
    if both:
        raise TagboxError(f"'{sorted(both)[0]}' is both a --toward and an --away tag")
    if not names:
        raise TagboxError("nothing to steer towards or away from: give --toward or --away")
    return names


def tag_targets(ensemble: TaggerEnsemble, toward: Sequence[str], away: Sequence[str]) -> dict[str, TagTarget]:
    """Per steering tagger: the ``toward`` tags pushed to 1, the ``away`` tags to 0, every other tag
    left alone. A name no steering tagger can express is refused."""
    names = checked_names(toward, away)
    for name in names:
        if not any(source_tags(name, tagger.vocabulary) for tagger in ensemble.taggers):
            raise TagboxError(f"no steering tagger has a tag for '{name}' ({', '.join(ensemble.ids)})")
    targets = {}
    for tagger in ensemble.taggers:
        up = {tag for name in names[: len(toward)] for tag in source_tags(name, tagger.vocabulary)}
        down = {tag for name in names[len(toward):] for tag in source_tags(name, tagger.vocabulary)}
        if up or down:
            targets[tagger.id] = TagTarget(
                target=torch.tensor([1.0 if tag in up else 0.0 for tag in tagger.tags], device=ensemble.device),
                weight=torch.tensor([1.0 if tag in up | down else 0.0 for tag in tagger.tags], device=ensemble.device),
                positives=torch.tensor([i for i, tag in enumerate(tagger.tags) if tag in up | down], device=ensemble.device))
    return targets


def tag_indices(ensemble: TaggerEnsemble, names: Sequence[str]) -> dict[str, dict[Tagger, list[int]]]:
    """Where each name's tags sit in the output of each tagger of ``ensemble`` that can express it."""
    return {name: {tagger: [tagger.tags.index(tag) for tag in tags] for tagger in ensemble.taggers
                   if (tags := source_tags(name, tagger.vocabulary))} for name in names}


def tag_probabilities(ensemble: TaggerEnsemble, mono: torch.Tensor, rate: int, names: Sequence[str]) -> dict:
    """Each name's mean tag probability by each tagger that can express it: ``{name: {tagger: p}}``."""
    heard = ensemble.probabilities(mono, rate)
    return {name: {tagger.id: float(heard[tagger.id][tags].mean()) for tagger, tags in by.items()}
            for name, by in tag_indices(ensemble, names).items()}


def steer_audio(
    wav: torch.Tensor | np.ndarray, *, sample_rate: int, toward: Sequence[str] = (), away: Sequence[str] = (),
    steps: int = 50, lr: float | None = None, stay_close: float = 0.1, latent: str = "vqvae",
    generator: str = "compact", level: int = 0, taggers: Sequence[str] = ("mtat-musicnn",), judge: str | None = "mtat-fcn",
    seed: int = 0, device: str | torch.device = "cpu", on_step: Callable[[dict], None] | None = None,
) -> SteeredAudio:
    """Steer ``wav`` (any layout tagbox takes) towards the ``toward`` tags and away from the
    ``away`` ones; see the module docstring. Fails before any steering where a tag, a tagger or the
    generator's weights are missing. ``lr`` defaults to the latent's own; the default steps and
    stay close were picked from the trade-off in docs/decisions.md."""
    if latent not in LATENTS:
        raise TagboxError(f"unknown latent '{latent}'; choose one of: {', '.join(LATENTS)}")
    lr = lr if lr is not None else (VQVAELatent if latent == "vqvae" else FreeMaskLatent).default_lr
    if steps < 1 or not lr > 0 or not 0 <= stay_close < 1:
        raise TagboxError(f"steps must be at least 1, lr positive and stay_close in [0, 1); got {steps}, {lr}, {stay_close}")
    ensemble = TaggerEnsemble.load(list(taggers), device=device)
    targets = tag_targets(ensemble, toward, away)
    names = checked_names(toward, away)
    indices = tag_indices(ensemble, names)
    judging = TaggerEnsemble.load([*taggers, judge] if judge and judge not in taggers else list(taggers), device=device)
    mixture = audio_input(wav, sample_rate).to(device)
    if latent == "vqvae":
        model = generators.load(generator, device=device)
        options = VQVAEOptions(generator=generator, level=level, mask=False)
        rate = model.sample_rate

        def space(piece: torch.Tensor) -> LatentSpace:
            return VQVAELatent(piece, rate, options, model=model, seed=seed)
    else:
        rate = sample_rate

        def space(piece: torch.Tensor) -> LatentSpace:
            return FreeMaskLatent(piece, rate, FreeMaskOptions())
    mono = resample(mixture.mean(0, keepdim=True), sample_rate, rate)
    history: list[dict] = []

    def one_segment(piece: torch.Tensor, index: int) -> torch.Tensor:
        peak = piece.abs().max().clamp_min(1e-8)
        piece = piece / peak
        steered = space(piece[0]).to(device)
        moved = [p for p in steered.parameters() if p.requires_grad]
        start = [p.detach().clone() for p in moved]
        rng = torch.Generator(device="cpu").manual_seed(seed + index)

        def loss(step: int, estimates: torch.Tensor, rest: torch.Tensor | None) -> tuple[torch.Tensor, dict[str, float]]:
            audio = ensemble.to_tagger_rate(estimates.reshape(1, -1), rate)
            heard = dict(ensemble.judge(audio, set(targets), rng))
            terms = [targets[tagger.id].loss(probs).mean() for tagger, probs in heard.items()]
            return torch.stack(terms).mean(), {name: float(np.mean([float(heard[tagger][0, tags].detach().mean())
                                                                  for tagger, tags in indices[name].items()]))
                                               for name in names}

        def record(step: int, value: float, probabilities: dict[str, float]) -> None:
            with torch.no_grad():  # after Adam's step: keep 1 - stay_close of the way from the input's latents
                for parameter, first in zip(moved, start):
                    parameter.copy_(first + (1 - stay_close) * (parameter - first))
            history.append({"segment": index, "step": step, "loss": value, "probabilities": probabilities})
            if on_step is not None:
                on_step(history[-1])

        reconstruction = steered.apply(piece)
        steer(steered, loss, steps=steps, lr=lr, on_step=record)
        return torch.cat([steered.apply(piece), reconstruction]) * peak

    both = overlap_add(one_segment, mono, rate, outputs=2, segment=SEGMENT, overlap=0.25)[:, 0]
    steered, reconstruction = resample(both, rate, sample_rate)[:, : mixture.shape[-1]]
    before = tag_probabilities(judging, mixture.mean(0), sample_rate, names)
    after = tag_probabilities(judging, steered, sample_rate, names)
    reference = mixture.mean(0).cpu()
    return SteeredAudio(
        audio=steered.expand_as(mixture).clone().cpu(), sample_rate=sample_rate, lr=lr,
        tags={name: {tagger: (before[name][tagger], after[name][tagger]) for tagger in before[name]} for name in names},
        lsd_db=log_spectral_distance(reference[None], steered.cpu()[None]),
        si_sdr_db=si_sdr(reference.numpy(), steered.cpu().numpy()),
        reconstruction_lsd_db=log_spectral_distance(reference[None], reconstruction.cpu()[None]), history=history)
