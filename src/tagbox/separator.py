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
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from tagbox.apply import segment_count
from tagbox.audio import load_audio
from tagbox.config import SeparatorConfig
from tagbox.config import preset as named_preset
from tagbox.device import resolve_device
from tagbox.inputs import audio_input
from tagbox.latents import LATENTS, check_joint
from tagbox.ranges import remove_below_range
from tagbox.recognisability import weak_recognition_warning
from tagbox.resample import resample
from tagbox.result import SeparationResult
from tagbox.run import MixtureRun, file_reader, run_segments
from tagbox.steering import Steered, steer_segment, steered_source
from tagbox.taggers.ensemble import TaggerEnsemble

logger = logging.getLogger(__name__)


class Separator:
    """Separate sources named by tags, steering a latent space with pretrained taggers.

    Configured by a :class:`~tagbox.config.SeparatorConfig` (``config``, default the default
    preset) with any of its fields overridden by keyword (``Separator(steps=50)``). ``device``,
    ``progress`` and ``callback`` (called with each step's record) change how it runs, not what
    it returns. Unusable settings fail here, before any model is loaded. The ``separate_*`` and
    ``stream_file`` methods take the audio first and everything else by keyword, as librosa
    does: ``separate_tensor(wav, sample_rate=44100, source="drums")``.
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
        self.lr = config.resolved_lr()
        self.progress, self.callback = progress, callback
        self.model = self.space.load_model(config.latent_options, self.device)
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
        return self.space.model_name(self.config.latent_options) or self.config.latent

    def separate_file(self, path: str | Path, *, source: str) -> SeparationResult:
        """Separate ``source`` from the audio file at ``path``, at the file's own sample rate."""
        wav, sample_rate = load_audio(path)
        return self._separate(wav, sample_rate, [source], what=str(path))[0]

    def separate_tensor(
        self, wav: torch.Tensor | np.ndarray, *, sample_rate: int, source: str
    ) -> SeparationResult:
        """Separate ``source`` from ``wav``: float or integer samples, ``(channels, samples)``,
        ``(samples, channels)`` or ``(samples,)`` (see :mod:`tagbox.inputs`).

        The result's tensors are ``(channels, samples)`` float32 and sum to the input.
        """
        return self._separate(wav, sample_rate, [source])[0]

    def separate_joint(
        self, wav: torch.Tensor | np.ndarray, *, sample_rate: int, sources: Sequence[str]
    ) -> dict[str, SeparationResult]:
        """Estimate several sources in one optimisation, plus ``rest``: the stems sum to the mix.

        Each source is pushed towards its own tags and, through the objective's negatives and
        the shared masks, away from the others'.
        """
        check_joint(self.config.latent, sources)
        results = self._separate(wav, sample_rate, list(sources))
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
        mixture = audio_input(wav, sample_rate, what=what).to(self.device)
        rate = self.space.working_rate(sample_rate, self.model)
        channels = mixture if rate == sample_rate else resample(mixture, sample_rate, rate)
        targets = torch.zeros(len(names), *channels.shape, device=self.device)

        def keep(offset: int, region: torch.Tensor) -> None:
            targets[..., offset: offset + region.shape[-1]] = region

        run = self._run(lambda offset, count: channels[:, offset: offset + count], channels.shape[-1], rate,
                        names, keep)
        if rate != sample_rate:
            targets = resample(targets, rate, sample_rate)[..., : mixture.shape[-1]]
        return [run.result(i, sample_rate, self.config.absent_threshold, mixture, t) for i, t in enumerate(targets)]

    def stream_file(
        self, path: str | Path, *, sources: Sequence[str], sink: Callable[[int, torch.Tensor], None]
    ) -> list[SeparationResult]:
        """Separate ``sources`` from the file at ``path``, reading and releasing a segment at a time.

        Each finished region of the estimates, ``(sources, channels, n)`` at the file's rate, goes
        to ``sink(offset, region)`` as soon as no later segment overlaps it, so memory stays flat
        in the file's length. The estimates precede the absence rule: a result with ``absent``
        set stands for silence. The results carry no audio. A latent space working at another
        rate than the file's (``vqvae``) reads the whole file.
        """
        if len(sources) > 1:
            check_joint(self.config.latent, sources)
        with sf.SoundFile(path) as handle:
            sample_rate, samples = handle.samplerate, handle.frames
            if self.space.working_rate(sample_rate, self.model) != sample_rate:
                results = self._separate(*load_audio(path), list(sources), what=str(path))
                sink(0, torch.stack([result.target for result in results]))
                return [dataclasses.replace(result, target=None, residual=None) for result in results]
            run = self._run(file_reader(handle, self.device), samples, sample_rate, list(sources), sink)
        return [run.result(index, sample_rate, self.config.absent_threshold) for index in range(len(sources))]

    def _run(
        self, read: Callable[[int, int], torch.Tensor], samples: int, rate: int, names: list[str],
        sink: Callable[[int, torch.Tensor], None],
    ) -> MixtureRun:
        """Steer the mixture read by ``read(offset, count)`` at ``rate``, segment by segment
        (:func:`tagbox.run.run_segments`); finished regions of the estimates go to ``sink``."""
        rivals = self.config.competitors_for(names)
        everyone = [*names, *rivals]
        steered = [self.steered(name, everyone) for name in names]
        # A competitor is steered by its taggers of the shortest window, as the labelling hears:
        # drums steered by MTAT musicnn alone cost 0.07 +- 0.05 dB on the 33 stems they compete
        # for (two seeds) against musicnn and FCN, at 15.3 s instead of 24.1 for 10 s of violin.
        competitors = [self.steered(name, everyone).shortest_window(self.ensemble) for name in rivals]
        used = {tagger_id for s in steered for tagger_id in s.targets}
        run = MixtureRun(steered, warnings=[])
        for message in [self.ensemble.short_audio_warning(samples / rate, used),
                        self.space.crowding_warning(self.config.latent_options, len(names)),
                        *(weak_recognition_warning(list(s.targets), s.source) for s in steered)]:
            if message:
                self._warn_once(message)
                run.warnings.append(message)
        segments = segment_count(samples, rate, self.config.segment, self.config.overlap)
        steps = [self.config.steps_for(name) for name in everyone]
        most = self.config.most_steps(names)
        runs = self.config.runs_for(names)
        # From a start that is already an estimate (0 steps), progress counts segments instead; a
        # run whose competitors were not heard takes fewer steps than planned.
        with tqdm(total=segments * runs * (most or 1), desc="+".join(names), unit="step" if most else "segment",
                  disable=not self.progress, leave=False) as bar:
            def on_step(index: int, repeat: int, step: int, value: float, probability: float) -> None:
                record = {"segment": index, "run": repeat, "step": step, "loss": value, "probability": probability}
                run.history.append(record)
                bar.update(1)
                bar.set_postfix(loss=f"{value:.3f}", p=f"{probability:.2f}")
                if self.callback is not None:
                    self.callback(record)

            def one_run(piece: torch.Tensor, index: int, repeat: int) -> torch.Tensor:
                taken = len(run.history)
                estimate = steer_segment(
                    piece, rate, steered, space=self.space, options=self.config.latent_options, model=self.model,
                    ensemble=self.ensemble, seed=self.config.seed + repeat, segment_index=index, steps=steps,
                    lr=self.lr, average=self.config.average, judge_rest=self.config.judge_rest,
                    competitors=competitors, competitor_threshold=self.config.competitor_threshold,
                    on_step=lambda *step: on_step(index, repeat, *step),
                )
                bar.update((most or 1) - (len(run.history) - taken))
                return estimate

            def one_segment(piece: torch.Tensor, index: int) -> torch.Tensor:
                # Runs differ in their seed (decomposition and tagger windows); their mean is the estimate.
                estimate = torch.stack([one_run(piece, index, repeat) for repeat in range(runs)]).mean(0)
                return remove_below_range(estimate, rate, names) if self.config.ranges else estimate

            return run_segments(read, samples, rate, run, ensemble=self.ensemble, steer_piece=one_segment,
                                segment=self.config.segment, overlap=self.config.overlap, sink=sink)

    def steered(self, source: str, names: Sequence[str] = ()) -> Steered:
        """Targets of ``source`` per judging tagger (the default's fallback pair if needed); other ``names`` are excluded."""
        taggers = self.ensemble.naming(source, extend=self.config.taggers is None, warn=self._warn_once)
        return steered_source(taggers, source, names, self.config.objective, self.config.exclude,
                              device=self.device, warn=self._warn_once)

    def _warn_once(self, message: str) -> None:
        """Log a warning the first time this separator meets it (results still carry every one)."""
        if message not in self._warned:
            self._warned.add(message)
            logger.warning(message)
