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

from tagbox.apply import segment_count
from tagbox.audio import load_audio
from tagbox.config import SeparatorConfig
from tagbox.config import preset as named_preset
from tagbox.device import resolve_device
from tagbox.inputs import audio_input
from tagbox.latents import LATENTS, check_joint
from tagbox.pipeline import Request, Tools, build, resolve
from tagbox.progress import Progress
from tagbox.recognisability import weak_recognition_warning
from tagbox.resample import resample
from tagbox.result import SeparationResult
from tagbox.run import MixtureRun, file_reader, run_segments
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
        self.lr = config.resolved_lr()  # the learning rate, the latent's own where unset
        self.progress, self.callback = progress, callback
        self.model = self.space.load_model(config.latent_options, self.device)
        steering = config.steering
        self.ensemble = TaggerEnsemble.load(
            steering.tagger_ids, device=self.device, windows=steering.windows, short_audio=steering.short_audio,
            gain_jitter=steering.gain_jitter, taggers_per_step=steering.taggers_per_step,
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
        self, wav: torch.Tensor | np.ndarray, sample_rate: int, names: list[str], what: str = "audio",
        on_step: Callable[[dict], None] | None = None,
    ) -> list[SeparationResult]:
        mixture = audio_input(wav, sample_rate, what=what).to(self.device)
        rate = self.space.working_rate(sample_rate, self.model)
        channels = mixture if rate == sample_rate else resample(mixture, sample_rate, rate)
        targets = torch.zeros(len(names), *channels.shape, device=self.device)

        def keep(offset: int, region: torch.Tensor) -> None:
            targets[..., offset: offset + region.shape[-1]] = region

        run = self._run(lambda offset, count: channels[:, offset: offset + count], channels.shape[-1], rate,
                        names, keep, on_step)
        if rate != sample_rate:
            targets = resample(targets, rate, sample_rate)[..., : mixture.shape[-1]]
        return [run.result(i, sample_rate, self.config.output, mixture, t) for i, t in enumerate(targets)]

    def stream_file(
        self, path: str | Path, *, sources: Sequence[str], sink: Callable[[int, torch.Tensor], None],
        on_step: Callable[[dict], None] | None = None,
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
                results = self._separate(*load_audio(path), list(sources), what=str(path), on_step=on_step)
                sink(0, torch.stack([result.target for result in results]))
                return [dataclasses.replace(result, target=None, residual=None) for result in results]
            run = self._run(file_reader(handle, self.device), samples, sample_rate, list(sources), sink, on_step)
        return [run.result(index, sample_rate, self.config.output) for index in range(len(sources))]

    def request(self, names: Sequence[str]) -> Request:
        """The profiles of ``names`` separated together, and of the competitors that may join them."""
        return resolve(self.config, self.ensemble, names, warn=self._warn_once)

    def _run(
        self, read: Callable[[int, int], torch.Tensor], samples: int, rate: int, names: list[str],
        sink: Callable[[int, torch.Tensor], None], on_step: Callable[[dict], None] | None = None,
    ) -> MixtureRun:
        """Separate the mixture read by ``read(offset, count)`` at ``rate``: the request's pipeline
        on each segment, cross-faded (:func:`tagbox.run.run_segments`); finished regions go to ``sink``."""
        request = self.request(names)
        pipeline = build(self.config, request, rate)
        common, own = self._warnings(request, samples / rate)
        run = MixtureRun([source.steered for source in request.sources], warnings=common, source_warnings=own)
        output = self.config.output
        progress = Progress(seconds=samples / rate, segments=segment_count(samples, rate, output.segment, output.overlap),
                            label="+".join(names), enabled=self.progress, callback=on_step or self.callback)
        with progress.shown():
            tools = Tools(self.ensemble, self.model, on_step=progress.step, on_stage=progress.stage)
            run_segments(read, samples, rate, run, pipeline=pipeline, tools=tools, segment=output.segment,
                         overlap=output.overlap, sink=sink, progress=progress)
        run.history = progress.history
        return run

    def _warnings(self, request: Request, seconds: float) -> tuple[list[str], dict[str, list[str]]]:
        """What the user should know before trusting this request's results: about every source,
        and about each (each logged once)."""
        note = self.ensemble.short_audio_note(seconds, {t for source in request.sources for t in source.steered.targets})
        if note and note not in self._warned:
            self._warned.add(note)
            logger.debug(note)
        common = [self.space.crowding_warning(self.config.latent_options, len(request.sources))]
        own = {source.name: [weak_recognition_warning(list(source.steered.targets), source.name)]
               for source in request.sources}
        for message in [*common, *(message for messages in own.values() for message in messages)]:
            if message:
                self._warn_once(message)
        return [m for m in common if m], {name: [m for m in messages if m] for name, messages in own.items()}

    def _warn_once(self, message: str) -> None:
        """Log a warning the first time this separator meets it (results still carry every one)."""
        if message not in self._warned:
            self._warned.add(message)
            logger.warning(message)
