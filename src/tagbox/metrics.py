"""Separation metrics: SI-SDR (our lead metric) and BSSEval v4 SDR with museval's conventions.

SI-SDR follows Le Roux et al. 2019 (zero-mean, scale-invariant): it cannot be gamed by turning
the estimate down, so it is the number to compare methods by. SI-SDRi subtracts the SI-SDR of
the mixture itself, so the identity method scores 0 dB.

BSSEval v4 SDR is computed by museval's own ``metrics.bss_eval`` (images mode, distortion
filters over the whole track, 1 s windows and hop, median over frames), the number published
for MUSDB18. In that mode SDR is the energy ratio of the reference to the estimate's error, so
it rewards quiet output: a near-silent estimate scores about 0 dB, which on a typical mixture is
*above* the mixture's own SDR. museval refuses an estimate that is exactly all zeros (its system
is underdetermined); we report the limit museval approaches as the estimate fades out, 0 dB (a
test checks it against museval on an estimate 180 dB down), so the ``silence`` anchor and a
source declared absent are scored as museval scores near-silence. Frames where the reference or
the estimate is silent are NaN (skipped), as in museval.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from types import ModuleType

import numpy as np

from tagbox.errors import TagboxError

BSS_WINDOW_S = 1.0
BSS_FILTER_LENGTH = 512


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SDR in dB of ``estimate`` against ``reference``, both (C, T) or (T,).

    Channels are concatenated after removing each channel's mean, so a stereo pair is scored as
    one signal with one scale factor. NaN for a silent estimate (or reference): the summary
    counts those apart instead of averaging them in.
    """
    reference, estimate = _as_channels(reference), _as_channels(estimate)
    if reference.shape != estimate.shape:
        raise ValueError(f"shapes differ: reference {reference.shape}, estimate {estimate.shape}")
    reference = (reference - reference.mean(axis=-1, keepdims=True)).ravel()
    estimate = (estimate - estimate.mean(axis=-1, keepdims=True)).ravel()
    reference_energy = np.dot(reference, reference)
    if reference_energy == 0:
        return float("nan")
    target = np.dot(estimate, reference) / reference_energy * reference
    noise = estimate - target
    if not np.any(estimate):
        return float("nan")  # silence has no direction, so no scale-invariant score
    with np.errstate(divide="ignore"):
        return float(10 * np.log10(np.dot(target, target) / np.dot(noise, noise)))


def si_sdr_improvement(reference: np.ndarray, estimate: np.ndarray, mixture: np.ndarray) -> float:
    """SI-SDR of the estimate minus SI-SDR of the mixture (0 dB for the identity)."""
    return si_sdr(reference, estimate) - si_sdr(reference, mixture)


def bss_sdr(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """BSSEval v4 SDR in dB: museval, 1 s windows and hop, median over the non-silent frames."""
    reference, estimate = _as_channels(reference), _as_channels(estimate)
    if not np.any(estimate):
        # Every frame's error is then the reference itself: SDR 10 log10(|s|^2 / |s|^2) = 0 dB.
        return 0.0 if np.any(reference) else float("nan")
    window = int(round(BSS_WINDOW_S * sample_rate))
    # museval wants (sources, samples, channels).
    sdr, _isr, _sir, _sar, _perm = _museval_metrics().bss_eval(
        reference.T[None].astype(np.float64),
        estimate.T[None].astype(np.float64),
        window=window,
        hop=window,
        filters_len=BSS_FILTER_LENGTH,
        framewise_filters=False,
        bsseval_sources_version=False,
    )
    frames = sdr[0][np.isfinite(sdr[0])]
    return float(np.median(frames)) if frames.size else float("nan")


def bss_available() -> bool:
    """Whether museval is installed (the ``musdb`` extra)."""
    return importlib.util.find_spec("museval") is not None


@lru_cache(maxsize=1)
def _museval_metrics() -> ModuleType:
    """museval's ``metrics`` module, loaded on its own.

    ``import museval`` imports musdb, whose audio backend refuses to import without ffmpeg on the
    PATH; the metrics module needs only numpy and scipy, so it is loaded from its file directly.
    """
    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        raise TagboxError("BSSEval SDR needs museval: pip install 'tagbox[musdb]'")
    location = f"{spec.submodule_search_locations[0]}/metrics.py"
    module_spec = importlib.util.spec_from_file_location("museval_metrics", location)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _as_channels(signal: np.ndarray) -> np.ndarray:
    signal = np.asarray(signal, dtype=np.float64)
    return signal[None] if signal.ndim == 1 else signal
