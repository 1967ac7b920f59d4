"""Metrics on signals whose answers are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from tagbox.metrics import bss_available, bss_sdr, si_sdr, si_sdr_improvement

RATE = 8000
needs_museval = pytest.mark.skipif(not bss_available(), reason="museval (the musdb extra) is not installed")


@pytest.fixture
def reference() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((1, 4 * RATE))


def noise_at_snr(reference: np.ndarray, snr_db: float, seed: int = 2) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(reference.shape)
    noise -= noise.mean()
    return noise * np.sqrt(np.sum(reference**2) / np.sum(noise**2) / 10 ** (snr_db / 10))


def test_identical_estimate_scores_very_high(reference):
    assert si_sdr(reference, reference) > 100


def test_scaled_copies_score_the_same(reference):
    estimate = reference + noise_at_snr(reference, 5.0)
    expected = si_sdr(reference, estimate)
    for gain in (0.01, 0.5, 3.0, -2.0):
        assert si_sdr(reference, gain * estimate) == pytest.approx(expected, abs=1e-6)
    assert si_sdr(reference, 0.2 * reference) > 100


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0, 20.0])
def test_white_noise_at_known_snr(reference, snr_db):
    assert si_sdr(reference, reference + noise_at_snr(reference, snr_db)) == pytest.approx(snr_db, abs=0.1)


def test_mean_offsets_are_ignored(reference):
    estimate = reference + noise_at_snr(reference, 10.0)
    assert si_sdr(reference + 0.5, estimate - 0.3) == pytest.approx(si_sdr(reference, estimate), abs=1e-9)


def test_channels_are_scored_as_one_signal(reference):
    stereo = np.concatenate([reference, 0.5 * reference])
    estimate = stereo + np.concatenate([noise_at_snr(reference, 10.0), np.zeros_like(reference)])
    # All the error sits in the left channel: 10 dB there, relative to both channels' energy 1.25x.
    assert si_sdr(stereo, estimate) == pytest.approx(10.0 + 10 * np.log10(1.25), abs=0.1)


def test_improvement_of_the_mixture_itself_is_zero(reference):
    mixture = reference + np.random.default_rng(3).standard_normal(reference.shape)
    assert si_sdr_improvement(reference, mixture, mixture) == 0.0
    assert si_sdr_improvement(reference, reference + noise_at_snr(reference, 10.0), mixture) > 9


@needs_museval
def test_bss_sdr_of_white_noise_at_known_snr(reference):
    # BSSEval v4 (images) SDR is the reference-to-error energy ratio; with stationary signals every
    # 1 s frame has about the global SNR.
    assert bss_sdr(reference, reference + noise_at_snr(reference, 10.0), RATE) == pytest.approx(10.0, abs=0.3)


@needs_museval
def test_bss_sdr_is_not_scale_invariant_and_rewards_silence(reference):
    assert bss_sdr(reference, 0.5 * reference, RATE) == pytest.approx(20 * np.log10(2), abs=0.01)
    assert bss_sdr(reference, 1e-6 * reference, RATE) == pytest.approx(0.0, abs=0.01)


@needs_museval
def test_bss_sdr_of_silence_is_the_limit_museval_approaches(reference):
    # museval refuses exact zeros; an estimate 180 dB down is as close as it goes.
    faded = 1e-9 * np.random.default_rng(4).standard_normal(reference.shape)
    assert bss_sdr(reference, np.zeros_like(reference), RATE) == pytest.approx(bss_sdr(reference, faded, RATE), abs=1e-6)
    assert bss_sdr(reference, np.zeros_like(reference), RATE) == 0.0
    assert np.isnan(bss_sdr(np.zeros_like(reference), np.zeros_like(reference), RATE))


@needs_museval
def test_bss_sdr_skips_silent_reference_frames(reference):
    reference = reference.copy()
    reference[:, : 2 * RATE] = 0  # frames 0 and 1 are silent; only frames 2 and 3 count
    estimate = reference + noise_at_snr(reference, 10.0)
    estimate[:, : 2 * RATE] = 1.0
    assert bss_sdr(reference, estimate, RATE) == pytest.approx(10.0 + 10 * np.log10(2), abs=0.3)


def test_silent_estimate_has_no_si_sdr(reference):
    assert np.isnan(si_sdr(reference, np.zeros_like(reference)))
