"""Query-by-tag separation: steer a latent space until frozen taggers hear the source.

:class:`Separator` runs the TagBox loop (Manilow et al., ICASSP 2022) on a mono downmix at the
latent space's working rate: render estimates, resample them to 16 kHz, ask every tagger of
the ensemble, take the objective's cross-entropy, and let Adam move the latent. Nothing but the
latent is trained. The final state is then applied to every channel of the input, so the
target and the residual (mixture minus target) sum to the mixture exactly.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from tagbox import generators
from tagbox.apply import overlap_add, segment_count
from tagbox.audio import load_audio, resample
from tagbox.config import SeparatorConfig
from tagbox.config import preset as named_preset
from tagbox.device import resolve_device
from tagbox.errors import TagboxError
from tagbox.inputs import audio_input
from tagbox.latents import LATENTS, LatentOptions, LatentSpace
from tagbox.recognisability import weak_recognition_warning
from tagbox.result import SeparationResult, packaged
from tagbox.steering import Steered, steer, steered_source, steering_loss
from tagbox.taggers.ensemble import TaggerEnsemble

logger = logging.getLogger(__name__)


class Separator:
    """Separate sources named by tags, steering a latent space with pretrained taggers.

    Configured by a :class:`~tagbox.config.SeparatorConfig` (``config``, default the default
    preset) with any of its fields overridden by keyword (``Separator(steps=50)``). ``device``,
    ``progress`` and ``callback`` (called with each step's record) change how it runs, not what
    it returns. Unusable settings fail here, before any model is loaded.
    """

    def __init__(
        self,
        config: SeparatorConfig | None = None,
        *,
        device: str | torch.device = "cpu",
        progress: bool = True,
        callback: Callable[[dict], None] | None = None,
        **settings,
    ):
        self.config = config = (config or SeparatorConfig()).replace(**settings)
        self.device = resolve_device(device)
        self.space = LATENTS[config.latent]
        self.steps, self.lr = config.resolved_steps_lr()
        self.progress, self.callback = progress, callback
        self.options = LatentOptions(
            fft_sizes=config.fft_sizes, mask=config.mask, codebook=config.codebook,
            components=config.components, time_knots=config.time_knots, seed=config.seed,
        )
        if config.latent == "vqvae":
            self.options.generator = generators.load(config.generator, device=self.device)
        self.ensemble = TaggerEnsemble.load(
            config.tagger_ids, device=self.device, windows=config.windows, short_audio=config.short_audio,
            gain_jitter=config.gain_jitter, taggers_per_step=config.taggers_per_step,
        )
        self._warned: set[str] = set()

    @classmethod
    def from_preset(cls, preset: str, **overrides) -> "Separator":
        """A separator configured by a named preset (``faithful``, ``default``) plus overrides."""
        return cls(named_preset(preset), **overrides)

    @property
    def name(self) -> str:
        """Short name of the model behind the estimates, used for output folders."""
        return self.config.generator if self.config.latent == "vqvae" else self.config.latent

    def separate_file(self, path: str | Path, source: str) -> SeparationResult:
        wav, sample_rate = load_audio(path)
        return self._separate(wav, sample_rate, [source], what=str(path))[0]

    def separate_tensor(
        self, wav: torch.Tensor | np.ndarray, sample_rate: int, source: str
    ) -> SeparationResult:
        """Separate ``source`` from ``wav``: float or integer samples, ``(channels, samples)``,
        ``(samples, channels)`` or ``(samples,)`` (see :mod:`tagbox.inputs`).

        The result's tensors are ``(channels, samples)`` float32 and sum to the input.
        """
        return self._separate(wav, sample_rate, [source])[0]

    def separate_joint(
        self, wav: torch.Tensor | np.ndarray, sample_rate: int, names: Sequence[str]
    ) -> dict[str, SeparationResult]:
        """Estimate several sources in one optimisation, plus ``rest``: the stems sum to the mix.

        Each source is pushed towards its own tags and, through the objective's negatives and
        the shared masks, away from the others'.
        """
        if len(set(names)) != len(names):
            raise TagboxError("a source was requested twice")
        if not self.space.joint:
            raise TagboxError(f"joint separation needs the nmf latent, not '{self.config.latent}'")
        results = self._separate(wav, sample_rate, list(names))
        rest = results[0].target + results[0].residual - sum(r.target for r in results)
        by_source = {r.source: r for r in results}
        by_source["rest"] = SeparationResult(
            source="rest", target=rest, residual=results[0].target + results[0].residual - rest,
            sample_rate=sample_rate, seconds=results[0].seconds,
        )
        return by_source

    def _separate(
        self, wav: torch.Tensor | np.ndarray, sample_rate: int, names: list[str], what: str = "audio"
    ) -> list[SeparationResult]:
        start = time.perf_counter()
        mixture = audio_input(wav, sample_rate, what=what).to(self.device)
        steered = [self._steered(name, names) for name in names]
        rate = self.space.working_rate(sample_rate, self.options)
        used = {tagger_id for s in steered for tagger_id in s.targets}
        warnings = []
        for message in [self.ensemble.short_audio_warning(mixture.shape[-1] / sample_rate, used),
                        *(weak_recognition_warning(list(s.targets), s.source) for s in steered)]:
            if message:
                self._warn_once(message)
                warnings.append(message)
        channels = mixture if rate == sample_rate else resample(mixture, sample_rate, rate)
        options = dataclasses.replace(self.options, sources=len(names))
        history: list[dict] = []
        segments = segment_count(channels.shape[-1], rate, self.config.segment, self.config.overlap)
        with tqdm(total=segments * self.steps, desc="+".join(names), unit="step",
                  disable=not self.progress, leave=False) as bar:
            def one_segment(piece: torch.Tensor, index: int) -> torch.Tensor:
                return self._steer(piece, rate, options, steered, history, bar, index)

            targets = overlap_add(one_segment, channels, rate, outputs=len(names),
                                  segment=self.config.segment, overlap=self.config.overlap)
        if rate != sample_rate:
            targets = resample(targets, rate, sample_rate)[..., : mixture.shape[-1]]
        seconds = time.perf_counter() - start
        heard = self.ensemble.tag(mixture.mean(0), sample_rate, used)
        return [
            packaged(mixture, sample_rate, target, source, history, warnings, seconds, before=heard,
                     after=self.ensemble.tag(target.mean(0), sample_rate, source.targets),
                     absent_threshold=self.config.absent_threshold)
            for target, source in zip(targets, steered)
        ]

    def _steer(
        self, piece: torch.Tensor, rate: int, options: LatentOptions, steered: list[Steered],
        history: list[dict], bar: tqdm, segment_index: int,
    ) -> torch.Tensor:
        """Optimise one segment's latent and return each source's estimate ``(S, C, T)``."""
        mono = piece.mean(0)
        peak = mono.abs().max()
        if peak <= 0:
            return torch.zeros(len(steered), *piece.shape, device=self.device)
        space: LatentSpace = self.space(mono / peak, rate, options).to(self.device)
        rng = torch.Generator(device="cpu").manual_seed(self.config.seed + segment_index)

        def loss(estimates: torch.Tensor, rest: torch.Tensor | None) -> tuple[torch.Tensor, float]:
            return steering_loss(self.ensemble, estimates, rate, steered, rng, rest)

        def on_step(step: int, value: float, probability: float) -> None:
            record = {"segment": segment_index, "step": step, "loss": value, "probability": probability}
            history.append(record)
            bar.update(1)
            bar.set_postfix(loss=f"{value:.3f}", p=f"{probability:.2f}")
            if self.callback is not None:
                self.callback(record)

        steer(space, loss, steps=self.steps, lr=self.lr, average=self.config.average,
              judge_rest=self.config.judge_rest, on_step=on_step)
        # Masks are scale-invariant; the scale matters only for decoded audio (no-mask mode).
        return space.apply(piece / peak, last_view_only=self.config.output_views == "last") * peak

    def _steered(self, source: str, names: Sequence[str]) -> Steered:
        """Targets of ``source`` for each tagger; the other requested sources count as excluded."""
        taggers = self.ensemble.naming(source, extend=self.config.taggers is None, warn=self._warn_once)
        return steered_source(taggers, source, names, self.config.objective, self.config.exclude,
                              device=self.device, warn=self._warn_once)

    def _warn_once(self, message: str) -> None:
        """Log a warning the first time this separator meets it (results still carry every one)."""
        if message not in self._warned:
            self._warned.add(message)
            logger.warning(message)
