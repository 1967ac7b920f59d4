"""GainOptions: the spaces whose masks start as one gain."""

import pytest
import torch

from tests.test_separator import fast, music


@pytest.mark.parametrize("latent", ["nmf", "mask"])
@pytest.mark.parametrize("gain", [0.3, 0.9])
def test_an_unsteered_mask_is_the_starting_gain(latent, gain):
    x = music(16000, 1.0, channels=2)
    target = fast(latent=latent, init_gain=gain, steps=1, lr=1e-9).separate_tensor(x, sample_rate=16000, source="drums").target
    torch.testing.assert_close(target, gain * x, atol=1e-4, rtol=1e-3)
