"""The taggers as one judge: how audio reaches them and what they say about a source.

Everything between a signal and a tag probability lives here, so the separator, ``tagbox
eval``'s fooling check, ``tagbox tag`` and the recognisability bench give the same audio the same
number: the mono downmix, resampling to 16 kHz, filling windows (``wrap``: a clip shorter than
a window is repeated to fill it, as FCN and CRNN hear 29 s and barely respond to a padded 10 s
clip; ``pad``: silence, as the reference does), and, while steering, random windows, gain
jitter and a random subset of taggers per step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import torch

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.resample import Resampler, resample
from tagbox.sources import source_tags
from tagbox.taggers.base import Tagger
from tagbox.taggers.frontend import SAMPLE_RATE
from tagbox.taggers.registry import TAGGERS, load_tagger
from tagbox.taggers.windows import frame, predict, wrap_to_windows

SHORT_AUDIO = ("wrap", "pad")
# When the ensemble may be extended and has no tag for a source (MTAT cannot name bass), the same
# pair of architectures trained on the first vocabulary that can is added for that source.
FALLBACK_ARCHITECTURES = ("musicnn", "fcn")


def fallback_pair(source: str) -> list[str]:
    """The taggers an ensemble adds for a source its own cannot name: the fallback architectures
    of the first pretrained vocabulary that can name it ([] if none can)."""
    for vocabulary in dict.fromkeys(spec.vocabulary for spec in TAGGERS.values() if spec.pretrained):
        names = [f"{vocabulary}-{arch}" for arch in FALLBACK_ARCHITECTURES if f"{vocabulary}-{arch}" in TAGGERS]
        if names and source_tags(source, vocabulary):
            return names
    return []


class TaggerEnsemble:
    """Frozen taggers and the rules by which they hear audio.

    Args:
        taggers: loaded taggers (:meth:`load` builds them from ids).
        windows: windows per tagger per steering step, at random offsets; None takes every
            non-overlapping window (the reference's framing).
        short_audio: how audio shorter than a window fills it, ``wrap`` or ``pad``.
        gain_jitter: while steering, each estimate is heard at a random gain within +-this many
            dB, so that loudness alone cannot win.
        taggers_per_step: how many taggers judge each steering step, drawn at random (None: all).
    """

    def __init__(
        self,
        taggers: Sequence[Tagger],
        *,
        windows: int | None = 2,
        short_audio: str = "wrap",
        gain_jitter: float = 0.0,
        taggers_per_step: int | None = None,
    ):
        if not taggers:
            raise TagboxError("at least one tagger is needed")
        if short_audio not in SHORT_AUDIO:
            raise UnknownNameError(f"unknown short_audio '{short_audio}'; choose 'wrap' or 'pad'")
        if taggers_per_step is not None and taggers_per_step < 1:
            raise TagboxError(f"taggers_per_step must be at least 1, got {taggers_per_step}")
        self.taggers = list(taggers)
        self._chosen = len(self.taggers)  # the taggers asked for; :meth:`add` appends fallbacks
        self.windows = windows
        self.short_audio = short_audio
        self.gain_jitter = gain_jitter
        self.taggers_per_step = taggers_per_step
        self._resamplers: dict[int, Resampler] = {}

    @classmethod
    def load(cls, tagger_ids: str | Sequence[str], device: str | torch.device = "cpu", **options) -> "TaggerEnsemble":
        """The ensemble of ``tagger_ids`` (one id or several), loaded on ``device``."""
        ids = [tagger_ids] if isinstance(tagger_ids, str) else list(tagger_ids)
        unknown = [name for name in ids if name not in TAGGERS]
        if unknown:
            raise UnknownNameError(f"unknown tagger '{unknown[0]}'; known taggers: {', '.join(TAGGERS)}")
        return cls([load_tagger(name, device=device) for name in ids], **options)

    def add(self, tagger_ids: Sequence[str]) -> None:
        """Load the taggers of ``tagger_ids`` not yet in the ensemble, on its device."""
        loaded = set(self.ids)
        self.taggers += [load_tagger(name, device=self.device) for name in tagger_ids if name not in loaded]

    def naming(self, source: str, *, extend: bool, warn: Callable[[str], None]) -> list[Tagger]:
        """The taggers that judge ``source``: those loaded first, or with ``extend``, for a source
        they cannot name, the fallback pair of the first vocabulary that can (loaded once, used for
        that source only, so other sources are judged as before)."""
        chosen = self.taggers[: self._chosen]
        if not extend or any(source_tags(source, t.vocabulary) for t in chosen):
            return chosen
        names = fallback_pair(source)
        if names:
            warn(f"the default taggers have no tag for '{source}'; adding {', '.join(names)}, which can")
            self.add(names)
            return [t for t in self.taggers if t.id in names]
        return chosen

    @property
    def ids(self) -> list[str]:
        return [tagger.id for tagger in self.taggers]

    @property
    def device(self) -> torch.device:
        return self.taggers[0].spec_bn.running_mean.device

    # ------------------------------------------------------------------ hearing whole clips

    def to_tagger_rate(self, audio: torch.Tensor, rate: int) -> torch.Tensor:
        """``audio (..., samples)`` at 16 kHz; differentiable, with the kernel kept per rate."""
        if rate not in self._resamplers:
            self._resamplers[rate] = Resampler(rate, SAMPLE_RATE).to(self.device)
        return self._resamplers[rate](audio)

    @torch.no_grad()
    def probabilities(self, mono: torch.Tensor, rate: int, tagger_ids: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
        """Each tagger's probabilities ``(tags,)``, the mean over every window of ``mono (samples,)``;
        for clips ``(clips, samples)``, ``(clips, tags)``."""
        wanted = set(self.ids if tagger_ids is None else tagger_ids)
        audio = resample(mono.to(self.device), rate, SAMPLE_RATE)
        wrap = self.short_audio == "wrap"
        return {tagger.id: predict(tagger, audio, wrap=wrap) for tagger in self.taggers if tagger.id in wanted}

    def tag(self, mono: torch.Tensor, rate: int, tagger_ids: Iterable[str] | None = None) -> dict[str, torch.Tensor] | None:
        """:meth:`probabilities`, or None for silence (which holds no source)."""
        if mono.abs().max() <= 0:
            return None
        return self.probabilities(mono, rate, tagger_ids)

    def short_audio_note(self, seconds: float, tagger_ids: Iterable[str]) -> str | None:
        """What happens to audio shorter than the longest window of ``tagger_ids``, if it is: the
        normal case for FCN's 29 s window, worth a debug line, not a warning."""
        used = set(tagger_ids)
        window = max(t.input_length for t in self.taggers if t.id in used) / SAMPLE_RATE
        if self.windows is None or seconds >= window:
            return None
        fill = "repeating it" if self.short_audio == "wrap" else "padding with silence"
        return f"audio is {seconds:.2f} s, shorter than a {window:.2f} s tagger window: {fill}"

    # ------------------------------------------------------------------ judging steering steps

    def judge(
        self, audio: torch.Tensor, able: set[str], rng: torch.Generator
    ) -> Iterator[tuple[Tagger, torch.Tensor]]:
        """Each judging tagger and its probabilities ``(batch, tags)`` for ``audio (batch, samples)``
        at 16 kHz, averaged over its windows: the gain jitter first, then the taggers of this step
        (among those in ``able``), then each one's windows, all drawn from ``rng`` in that order."""
        audio = self._jitter(audio, rng)
        for tagger in self._judges(able, rng):
            windows = self._windows(audio, tagger.input_length, rng)
            count = windows.shape[1]
            probs = tagger(windows.reshape(-1, tagger.input_length))
            yield tagger, probs.reshape(audio.shape[0], count, -1).mean(1)

    def _jitter(self, audio: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        if not self.gain_jitter:
            return audio
        decibels = (torch.rand(audio.shape[0], 1, generator=rng) * 2 - 1) * self.gain_jitter
        return audio * (10 ** (decibels / 20)).to(audio.device)

    def _judges(self, able: set[str], rng: torch.Generator) -> list[Tagger]:
        """The taggers that judge this step: those that can express a source, or a random few."""
        candidates = [tagger for tagger in self.taggers if tagger.id in able]
        if self.taggers_per_step is None or self.taggers_per_step >= len(candidates):
            return candidates
        chosen = torch.randperm(len(candidates), generator=rng)[: self.taggers_per_step].sort().values
        return [candidates[i] for i in chosen.tolist()]

    def _windows(self, audio: torch.Tensor, length: int, rng: torch.Generator) -> torch.Tensor:
        """Tagger windows ``(batch, count, length)``: random offsets, or every window in turn.

        Where whole windows are framed (audio shorter than a window, or ``windows=None``), the last
        one is filled by wrapping the audio around with ``short_audio='wrap'``, from a random
        point when windows are drawn at random, so that each step hears a different seam.
        """
        if self.windows is None or audio.shape[-1] <= length:
            if self.short_audio == "wrap":
                if self.windows is not None:
                    audio = audio.roll(int(torch.randint(0, audio.shape[-1], (1,), generator=rng)), -1)
                audio = wrap_to_windows(audio, length)
            return frame(audio, length)
        offsets = torch.randint(0, audio.shape[-1] - length + 1, (self.windows,), generator=rng)
        return torch.stack([audio[:, o: o + length] for o in offsets.tolist()], dim=1)
