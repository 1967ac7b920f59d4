import pytest
import torch

from tagbox.masks import STFT, ratio_mask


@pytest.mark.parametrize("n_fft", [512, 1024, 2048])
def test_stft_reconstructs_exactly(n_fft):
    x = torch.randn(2, 10001, generator=torch.Generator().manual_seed(0))
    stft = STFT(n_fft)
    spec = stft(x)
    assert spec.shape[:2] == (2, n_fft // 2 + 1)
    torch.testing.assert_close(stft.inverse(spec, x.shape[-1]), x, atol=1e-5, rtol=0)


def test_ratio_mask_bounds_and_identity():
    mix = torch.rand(5, 7) + 0.1
    estimate = torch.rand(5, 7) * 2
    mask = ratio_mask(estimate, mix)
    assert mask.min() >= 0 and mask.max() <= 1
    torch.testing.assert_close(ratio_mask(mix, mix), torch.ones_like(mix), atol=1e-6, rtol=0)
    quieter = ratio_mask(mix / 4, mix)
    torch.testing.assert_close(quieter, torch.full_like(mix, 0.25), atol=1e-6, rtol=0)
