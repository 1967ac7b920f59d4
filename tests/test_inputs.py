"""tagbox.inputs: one gate for every array, tensor and file, before any model is loaded."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf
import torch

from tagbox.errors import AudioError
from tagbox.inputs import MAX_CHANNELS, MIN_SECONDS, audio_input, check_file


def stereo(seconds: float = 1.0, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.stack([0.5 * np.sin(2 * np.pi * 220 * t), 0.25 * np.sin(2 * np.pi * 330 * t)]).astype(np.float32)


@pytest.mark.parametrize("dtype,full_scale,zero", [(np.int16, 32768, 0), (np.int32, 2**31, 0), (np.uint8, 128, 128)])
def test_integers_are_scaled_by_their_types_range(dtype, full_scale, zero):
    x = stereo()
    ints = np.round(x * (full_scale - 1) + zero).astype(dtype)
    for given in (ints, torch.from_numpy(ints)):
        got = audio_input(given, 8000)
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, torch.from_numpy(x), atol=1.0 / full_scale, rtol=0)


def test_samples_channels_arrays_are_transposed_and_mono_vectors_get_a_channel():
    x = stereo()
    torch.testing.assert_close(audio_input(x.T, 8000), torch.from_numpy(x))  # as soundfile.read returns it
    torch.testing.assert_close(audio_input(x, 8000), torch.from_numpy(x))
    assert audio_input(x[0], 8000).shape == (1, x.shape[1])
    assert audio_input(x.astype(np.float64).tolist(), 8000).shape == x.shape  # anything numpy reads


@pytest.mark.parametrize("shape,layout", [((8000, 8000), (8000, 8000)), ((MAX_CHANNELS + 1, 8000), (MAX_CHANNELS + 1, 8000)),
                                          ((8000, MAX_CHANNELS + 1), (MAX_CHANNELS + 1, 8000))])
def test_ambiguous_shapes_follow_the_rule_with_a_warning(shape, layout, caplog):
    with caplog.at_level(logging.WARNING):
        got = audio_input(np.full(shape, 0.1, dtype=np.float32), 8000, what="clip.wav")
    assert tuple(got.shape) == layout
    [record] = caplog.records
    assert "clip.wav" in record.message and "ambiguous" in record.message


def test_plain_layouts_do_not_warn(caplog):
    with caplog.at_level(logging.WARNING):
        audio_input(np.full((MAX_CHANNELS, 8000), 0.1, dtype=np.float32), 8000)
        audio_input(stereo().T, 8000)
    assert not caplog.records


@pytest.mark.parametrize(
    "wav,message",
    [
        (np.full((2, 8000), np.nan, dtype=np.float32), "song.wav contains NaN or infinite samples"),
        (np.r_[np.ones(7999), np.inf][None], "song.wav contains NaN or infinite samples"),
        (np.zeros((2, 8000), dtype=np.int16), "song.wav is silent"),
        (np.full(8000, 128, dtype=np.uint8), "song.wav is silent"),
        (np.full((2, 400), 0.1), f"song.wav is 0.050 s long; tagbox needs at least {MIN_SECONDS} s"),
        (np.zeros((1, 0)), "song.wav is empty"),
        (np.ones((2, 2, 8000)), "song.wav: expected (channels, samples), (samples, channels) or (samples,)"),
        (np.ones((2, 8000), dtype=bool), "song.wav: expected real samples"),
        (np.ones((2, 8000), dtype=np.complex64), "song.wav: expected real samples"),
        ({"not": "audio"}, "song.wav: expected a numpy array or tensor of samples, got dict"),
    ],
)
def test_bad_audio_is_one_line_naming_its_source(wav, message):
    with pytest.raises(AudioError) as error:
        audio_input(wav, 8000, what="song.wav")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_the_minimum_is_stated_and_met_exactly():
    with pytest.raises(AudioError, match="taggers judge windows of 3 s"):
        audio_input(np.full(int(MIN_SECONDS * 8000) - 1, 0.1), 8000)
    assert audio_input(np.full(int(MIN_SECONDS * 8000), 0.1), 8000).shape[-1] == MIN_SECONDS * 8000


@pytest.mark.parametrize("rate", [0, -8000, 8000.5, True])
def test_bad_sample_rates_are_refused(rate):
    with pytest.raises(AudioError, match="sample rate must be a positive integer"):
        audio_input(stereo(), rate)


def test_check_file_names_the_file(tmp_path):
    path = tmp_path / "quiet.flac"
    sf.write(path, np.zeros(8000), 8000)
    with pytest.raises(AudioError, match=f"^{path} is silent"):
        check_file(path)
    sf.write(path, stereo().T, 8000)
    check_file(path)
