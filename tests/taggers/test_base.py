from __future__ import annotations

import pytest
import torch

from tagbox.errors import AudioError
from tagbox.taggers import build_tagger


@pytest.fixture(scope="module")
def tagger():
    return build_tagger("debug-tiny")


@pytest.mark.parametrize("shape", [(16000,), (2, 15999), (1, 2, 16000)])
def test_wrong_shape_is_an_audio_error(tagger, shape):
    with pytest.raises(AudioError, match=r"takes a \(batch, 16000\) tensor"):
        tagger(torch.zeros(shape))


def test_integer_audio_is_an_audio_error(tagger):
    with pytest.raises(AudioError, match="floating-point"):
        tagger(torch.zeros(1, 16000, dtype=torch.int16))


def test_differentiable_with_respect_to_the_input(tagger):
    x = (torch.randn(2, 16000) * 0.1).requires_grad_(True)
    tagger(x)[:, 3].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
