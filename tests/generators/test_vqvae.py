"""Building blocks of the VQ-VAE that replace stock PyTorch layers for speed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tagbox.generators import DEBUG_TINY, JUKEBOX_5B
from tagbox.generators.vqvae import PointwiseConv1d, PolyphaseConvTranspose1d, VQVAEConfig


def _same_forward_and_gradients(fast: nn.Module, stock: nn.Module, x: torch.Tensor):
    fast.load_state_dict(stock.state_dict())
    outputs, grads = [], []
    for module in (fast, stock):
        xi = x.clone().requires_grad_(True)
        y = module(xi)
        y.backward(torch.linspace(-1, 1, y.numel()).view_as(y))
        outputs.append(y.detach())
        grads.append([xi.grad] + [p.grad for p in module.parameters()])
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("stride", [2, 4, 6])
def test_polyphase_upsampling_equals_conv_transpose(stride):
    torch.manual_seed(stride)
    stock = nn.ConvTranspose1d(5, 3, 2 * stride, stride, stride // 2)
    fast = PolyphaseConvTranspose1d(5, 3, stride)
    _same_forward_and_gradients(fast, stock, torch.randn(2, 5, 37))


def test_pointwise_conv_equals_conv1d():
    torch.manual_seed(0)
    _same_forward_and_gradients(PointwiseConv1d(6, 4, 1), nn.Conv1d(6, 4, 1), torch.randn(3, 6, 50))


def test_hop_lengths_multiply_the_strides_of_all_blocks_up_to_the_level():
    assert [JUKEBOX_5B.hop_length(level) for level in range(3)] == [8, 32, 128]
    assert DEBUG_TINY.hop_length(0) == 8
    mixed = VQVAEConfig(sample_rate=16000, levels=2, downs_t=(2, 1), strides_t=(2, 4),
                        emb_width=4, l_bins=8, width=4, depth=1, multipliers=(1, 1))
    assert [mixed.hop_length(level) for level in range(2)] == [4, 16]
