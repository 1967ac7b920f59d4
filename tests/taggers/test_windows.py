from __future__ import annotations

import numpy as np
import pytest
import torch

from tagbox.errors import AudioError
from tagbox.taggers import (
    build_tagger,
    frame,
    predict,
    wrap_to_windows,
)


def test_frame_zero_pads_the_last_window():
    x = torch.arange(1, 11, dtype=torch.float32).expand(2, 10)
    windows = frame(x, 4)
    assert windows.shape == (2, 3, 4)
    assert windows[0, 2].tolist() == [9, 10, 0, 0]
    assert torch.equal(windows[..., :2, :].flatten(-2), x[:, :8])


def test_frame_keeps_exact_multiples_unpadded():
    assert frame(torch.ones(8), 4).shape == (2, 4)


def test_frame_rejects_empty_audio():
    with pytest.raises(AudioError, match="empty"):
        frame(torch.zeros(0), 4)


def test_wrap_to_windows_repeats_the_audio_up_to_whole_windows():
    x = torch.arange(1, 4, dtype=torch.float32).expand(2, 3)
    assert wrap_to_windows(x, 8).tolist() == [[1, 2, 3, 1, 2, 3, 1, 2]] * 2
    assert wrap_to_windows(torch.ones(8), 4).shape == (8,)
    assert wrap_to_windows(torch.arange(5.0), 4).tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    with pytest.raises(AudioError, match="empty"):
        wrap_to_windows(torch.zeros(0), 4)


def test_predict_wraps_short_audio_instead_of_padding_when_asked():
    tagger = build_tagger("debug-tiny")
    wav = torch.randn(6000) * 0.1
    wrapped = predict(tagger, wav, wrap=True)
    torch.testing.assert_close(wrapped, predict(tagger, wav.repeat(3)[:16000]))
    assert not torch.allclose(wrapped, predict(tagger, wav))


def test_predict_is_the_mean_over_windows_and_differentiable():
    tagger = build_tagger("debug-tiny")
    wav = (torch.randn(40000) * 0.1).requires_grad_(True)
    probs = predict(tagger, wav)
    torch.testing.assert_close(probs, tagger(frame(wav, 16000)).mean(0))
    probs[0].backward()
    assert wav.grad.shape == (40000,) and wav.grad.abs().sum() > 0


def test_predict_accepts_numpy_and_tags_a_batch_clip_by_clip():
    tagger = build_tagger("debug-tiny")
    assert predict(tagger, np.zeros(100, dtype=np.float64)).shape == (50,)
    clips = torch.randn(3, 20000) * 0.1
    batched = predict(tagger, clips, wrap=True)
    assert batched.shape == (3, 50)
    for clip, probs in zip(clips, batched):
        torch.testing.assert_close(probs, predict(tagger, clip, wrap=True))
    with pytest.raises(AudioError, match="mono"):
        predict(tagger, torch.zeros(2, 2, 16000))
