"""Separation methods compared by ``tagbox eval``: tagbox itself, a floor, a ceiling and peers.

Every method is ``method(mixture, sample_rate, source, track) -> Estimate``: the mixture is
float32 (channels, samples), the estimate's audio has the same shape, and its ``info`` carries
what the method decided on the way (tagbox: whether it declared the source absent, and the
target-tag probability before and after steering). ``mixture`` (identity) is the floor every
SI-SDRi is measured from; ``silence`` (all zeros) is the anchor of the BSSEval SDR, which
rewards quiet output; ``oracle`` (ideal ratio mask from the true stems) is the ceiling for a
mask on this STFT. The classical unsupervised peers (HPSS, REPET-SIM) split the mixture into
two parts that know nothing of the requested source, so the part closest to the true stem is
picked with the reference (an *oracle choice*): upper bounds for those methods used blindly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import librosa
import numpy as np

from tagbox import weights
from tagbox.errors import UnknownNameError
from tagbox.evaluation.datasets import Track
from tagbox.metrics import si_sdr

N_FFT = 2048
HOP = 512
REPET_WIDTH_S = 2.0


@dataclass
class Estimate:
    """A method's answer: the estimated stem, and what the method reports about it."""

    audio: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


Method = Callable[[np.ndarray, int, str, Track], Estimate]
# Options of a tagbox method that change how it runs, not what it returns (not Separator settings).
RUNTIME_OPTIONS = ("device", "progress")
# Options of the eval method itself: ``joint`` estimates all of a track's nameable stems in one
# optimisation (``Separator.separate_joint``) and scores each, instead of one source at a time.
METHOD_OPTIONS = ("joint",)
# Parts of the package that neither separate nor score: a change there keeps cached results.
ENGINE_EXCLUDED = ("cli", "batch", "report", "training")


@dataclass(frozen=True)
class MethodSpec:
    """A named method instance: ``kind`` picks the builder, ``options`` configure it.

    ``seed`` is set for the kinds in SEEDED only (it is the Separator's ``seed``): one spec per
    seed shares the label, and results are paired by it.
    """

    label: str
    kind: str
    options: tuple[tuple[str, Any], ...] = ()
    seed: int | None = None

    def key(self) -> dict:
        """What determines this method's output (the label is only a name).

        Options left out take the Separator's defaults, which change as tagbox is tuned, so
        those are part of the key; so is the hash of a generator's weights, which change as it
        trains (the taggers' are fixed upstream files).
        """
        key = {"kind": self.kind, "options": [list(item) for item in self.options]}
        if self.seed is not None:
            key["seed"] = self.seed
        if self.kind == "tagbox":
            key["defaults"] = _separator_defaults()
        generator = self.steered_generator()
        if generator is not None:
            key["generator_sha256"] = weights.expected_sha256(weights.entry(generator))
        return key

    def steered_generator(self) -> str | None:
        """The generator a ``tagbox`` method decodes every step, if its latent steers one."""
        if self.kind != "tagbox":
            return None
        from tagbox.latents import LATENTS

        config = self.separator_config()
        return LATENTS[config.latent].model_name(config.latent_options)

    def can_name(self, source: str) -> bool:
        """Whether a ``tagbox`` method's taggers have a tag for ``source`` (it refuses others).

        The default ensemble (``taggers`` unset) adds the taggers of another vocabulary for a
        source it cannot name, so it can name what any pretrained tagger can.
        """
        return nameable(self.separator_config().steering.taggers, source)

    def separator_config(self):
        """The :class:`~tagbox.config.SeparatorConfig` of a ``tagbox`` method: its preset (default:
        ``default``) with its options; an option that is no setting is an error naming the settings."""
        from tagbox.config import preset

        options = {k: v for k, v in self.options if k not in RUNTIME_OPTIONS + METHOD_OPTIONS}
        return preset(options.pop("preset", "default")).replace(**options)


def nameable(taggers: tuple[str, ...] | None, source: str) -> bool:
    """Whether ``taggers`` (None: the default ensemble, which adds any pretrained tagger's
    vocabulary for a source it cannot name) have a tag for ``source``."""
    from tagbox.sources import source_tags
    from tagbox.taggers import TAGGERS

    if taggers is None:
        taggers = tuple(tagger for tagger, config in TAGGERS.items() if config.pretrained)
    try:
        return any(source_tags(source, TAGGERS[tagger].vocabulary) for tagger in taggers)
    except (UnknownNameError, KeyError):
        return False


def _separator_defaults() -> dict[str, str]:
    """What decides a configuration's output beyond its options: the presets, and the code and
    data of everything a separation and its scoring run (hashed), so a result computed by other
    code, or under other defaults, is never served from the cache."""
    from tagbox.config import PRESETS

    return {"presets": repr(sorted(PRESETS.items())), "engine": _engine_fingerprint()}


@lru_cache(maxsize=1)
def _engine_fingerprint() -> str:
    return fingerprint(Path(__file__).resolve().parents[1])


def fingerprint(package: Path) -> str:
    """A hash of the package's code and bundled data, but for the parts that neither separate
    nor score (:data:`ENGINE_EXCLUDED`)."""
    digest = hashlib.sha256()
    for path in sorted([*package.rglob("*.py"), *package.glob("data/*.json")]):
        if path.relative_to(package).parts[0] not in ENGINE_EXCLUDED:
            digest.update(str(path.relative_to(package)).encode() + path.read_bytes())
    return digest.hexdigest()


def stft(signal: np.ndarray) -> np.ndarray:
    return librosa.stft(signal, n_fft=N_FFT, hop_length=HOP, window="hann")


def istft(spectrogram: np.ndarray, length: int) -> np.ndarray:
    return librosa.istft(spectrogram, n_fft=N_FFT, hop_length=HOP, window="hann", length=length).astype(np.float32)


def oracle_choice(candidates: dict[str, np.ndarray], reference: np.ndarray) -> str:
    """The name of the candidate with the best SI-SDR against the true stem."""
    return max(candidates, key=lambda name: si_sdr(reference, candidates[name]))


def hpss_candidates(mixture: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """librosa's median-filtering harmonic/percussive separation, margin 1."""
    harmonic, percussive = librosa.decompose.hpss(stft(mixture), margin=1.0)
    length = mixture.shape[-1]
    return {"harmonic": istft(harmonic, length), "percussive": istft(percussive, length)}


def repet_candidates(mixture: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """REPET-SIM as in librosa's vocal-separation example: nearest-neighbour median filtering.

    Frames are replaced by the median of their most similar frames (cosine, at least 2 s apart);
    what repeats is the background, the rest the foreground. Soft masks with margins 2 / 10.
    Excerpts under about 4 s use a shorter minimum distance.
    """
    spectrogram = stft(mixture)
    magnitude = np.abs(spectrogram)
    # Short excerpts cannot hold frames 2 s apart on both sides: shrink the gap to what fits.
    width = int(librosa.time_to_frames(REPET_WIDTH_S, sr=sample_rate, hop_length=HOP))
    width = min(width, (magnitude.shape[-1] - 1) // 2 - 1)
    background = np.stack(
        [
            np.minimum(channel, librosa.decompose.nn_filter(channel, aggregate=np.median, metric="cosine", width=width))
            for channel in magnitude
        ]
    )
    mask_background = librosa.util.softmask(background, 2 * (magnitude - background), power=2)
    mask_foreground = librosa.util.softmask(magnitude - background, 10 * background, power=2)
    length = mixture.shape[-1]
    return {
        "foreground": istft(mask_foreground * spectrogram, length),
        "background": istft(mask_background * spectrogram, length),
    }


def _oracle_choice_method(candidates: Callable[[np.ndarray, int], dict[str, np.ndarray]]) -> Callable[..., Method]:
    def build() -> Method:
        def run(mixture: np.ndarray, sample_rate: int, source: str, track: Track) -> Estimate:
            parts = candidates(mixture, sample_rate)
            choice = oracle_choice(parts, track.stems[source])
            return Estimate(parts[choice], {"choice": choice})

        return run

    return build


def _mixture() -> Method:
    return lambda mixture, sample_rate, source, track: Estimate(mixture)


def _silence() -> Method:
    """All zeros: SI-SDR is undefined for it (NaN, counted apart), BSSEval SDR is museval's limit."""
    return lambda mixture, sample_rate, source, track: Estimate(np.zeros_like(mixture))


def _oracle_irm() -> Method:
    """Ideal ratio mask |S_source| / sum_k |S_k| on the mixture STFT (uses the true stems)."""

    def run(mixture: np.ndarray, sample_rate: int, source: str, track: Track) -> Estimate:
        magnitudes = {name: np.abs(stft(stem)) for name, stem in track.stems.items()}
        total = np.maximum(sum(magnitudes.values()), np.finfo(np.float32).tiny)
        return Estimate(istft(magnitudes[source] / total * stft(mixture), mixture.shape[-1]))

    return run


def _tagbox(preset: str | None = None, joint: bool = False, **options: Any) -> Method:
    """``tagbox.Separator`` (from a preset when ``preset`` is given), built once per process and
    imported when first used; its own progress bar is off unless the options turn it on.

    With ``joint`` a present source is estimated together with the track's other nameable stems
    (one joint run per track, reused for each of them); a source asked alone stays alone.
    The mixture goes in as numpy (the Separator moves it to its device) and the estimate comes
    back to the CPU, so a ``device=cuda`` configuration works unchanged."""
    separators = []
    options = {"progress": False, **options}
    joint_runs: dict[tuple, dict] = {}

    def separate(separator, mixture: np.ndarray, sample_rate: int, source: str, track: Track):
        together = [name for name in track.stems if nameable(separator.config.steering.taggers, name)] if joint else []
        if source not in together or len(together) < 2:
            return separator.separate_tensor(mixture, sample_rate=sample_rate, source=source)
        key = (track.name, tuple(together))
        if key not in joint_runs:
            joint_runs.clear()  # one track at a time: the runner finishes a track before the next
            joint_runs[key] = separator.separate_joint(mixture, sample_rate=sample_rate, sources=together)
        return joint_runs[key][source]

    def run(mixture: np.ndarray, sample_rate: int, source: str, track: Track) -> Estimate:
        if not separators:
            from tagbox import Separator

            separators.append(Separator.from_preset(preset, **options) if preset else Separator(**options))
        separator = separators[0]
        result = separate(separator, mixture, sample_rate, source, track)
        target = result.target.detach().cpu().numpy() if hasattr(result.target, "detach") else result.target
        info = {"absent": bool(result.absent), "p_before": float(result.probability_before),
                "p_after": float(result.probability_after), "presence": [float(p) for p in result.presence],
                "absent_threshold": float(separator.config.output.absent_threshold)}
        return Estimate(np.asarray(target, dtype=np.float32).reshape(mixture.shape), info)

    return run


def _nmf_oracle(**options: Any) -> Method:
    from tagbox.evaluation.oracles import nmf_oracle

    return nmf_oracle(**options)


METHODS: dict[str, Callable[..., Method]] = {
    "tagbox": _tagbox,
    "mixture": _mixture,
    "silence": _silence,
    "oracle": _oracle_irm,
    "nmf-oracle": _nmf_oracle,
    "hpss": _oracle_choice_method(hpss_candidates),
    "repet": _oracle_choice_method(repet_candidates),
}
# Kinds whose output depends on a seed (run once per --seeds value; the others run once) and
# kinds that can answer "this source is not here" (asked for absent sources too).
SEEDED = frozenset({"tagbox", "nmf-oracle"})
DECIDES_ABSENCE = frozenset({"tagbox"})


def build_method(spec: MethodSpec, device: str = "cpu") -> Method:
    """The callable for ``spec``; unknown kinds list the known ones.

    A ``tagbox`` method that sets no device of its own runs on ``device``.
    """
    if spec.kind not in METHODS:
        raise UnknownNameError(f"unknown method '{spec.kind}'; known methods: {', '.join(METHODS)}")
    options = dict(spec.options)
    if spec.kind == "tagbox":
        options.setdefault("device", device)
    if spec.seed is not None:
        options["seed"] = spec.seed
    return METHODS[spec.kind](**options)
