"""Tag-steered audio, with a tiny random generator and taggers (fast; what they hear means nothing)."""

from __future__ import annotations

import pytest
import torch

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.steer import checked_names, steer_audio
from tests.test_separator import music

TINY = dict(generator="debug-tiny", taggers=("debug-tiny",), judge="debug-tiny-jamendo", lr=0.5)


def test_steering_moves_the_audio_and_reports_each_tag_by_every_tagger():
    x = music(44100, 1.0, channels=2)
    records = []
    result = steer_audio(x, sample_rate=44100, toward=["piano"], away=["drums"], steps=3, on_step=records.append, **TINY)
    assert result.audio.shape == x.shape and torch.equal(result.audio[0], result.audio[1])  # the generator is mono
    assert set(result.tags) == {"piano", "drums"} and set(result.tags["piano"]) == {"debug-tiny", "debug-tiny-jamendo"}
    assert all(0 <= p <= 1 for by in result.tags.values() for pair in by.values() for p in pair)
    assert [r["step"] for r in records] == [0, 1, 2] and records == result.history
    assert result.lsd_db > 0 and result.reconstruction_lsd_db > 0


def test_staying_close_keeps_the_audio_near_the_generators_reconstruction():
    x = music(44100, 1.0)
    free = steer_audio(x, sample_rate=44100, toward=["piano"], steps=4, stay_close=0.0, **{**TINY, "lr": 5.0})
    close = steer_audio(x, sample_rate=44100, toward=["piano"], steps=4, stay_close=0.9, **{**TINY, "lr": 5.0})
    assert abs(close.lsd_db - close.reconstruction_lsd_db) < abs(free.lsd_db - free.reconstruction_lsd_db)


def test_names_are_checked_before_any_work():
    assert checked_names(["Electric guitar", "rock"], ["drums"]) == ["electric_guitar", "rock", "drums"]
    with pytest.raises(TagboxError, match="'drums' is both a --toward and an --away tag"):
        checked_names(["drums"], ["Drums"])
    with pytest.raises(TagboxError, match="nothing to steer"):
        checked_names([], [])
    with pytest.raises(UnknownNameError, match="pianoo"):
        checked_names(["pianoo"], [])
    with pytest.raises(TagboxError, match="no steering tagger has a tag for 'bass'"):
        steer_audio(music(44100, 1.0), sample_rate=44100, toward=["bass"], steps=1, **TINY)  # MTAT has no bass


def test_the_free_mask_control_only_turns_the_input_down():
    x = music(44100, 1.0)
    result = steer_audio(x, sample_rate=44100, toward=["piano"], steps=3, latent="mask",
                         **{key: value for key, value in TINY.items() if key != "generator"})
    assert result.audio.shape == x.shape and result.lr == 0.5
    assert float(result.audio.square().sum()) <= float(torch.as_tensor(x).square().sum())  # gains under 1: nothing added
    assert result.lsd_db < result.reconstruction_lsd_db + 5 and result.tags["piano"]["debug-tiny"][1] >= 0
    with pytest.raises(TagboxError, match="unknown latent 'nmf'"):
        steer_audio(x, sample_rate=44100, toward=["piano"], steps=1, latent="nmf", **TINY)
