from __future__ import annotations

import torch
import torch.nn.functional as F

from tagbox.taggers.layers import TimbreBlock, flush_subnormals


def test_timbre_block_equals_the_reference_conv2d_formulation():
    torch.manual_seed(0)
    block = TimbreBlock(filters=6, freq_kernel=20).eval()
    block.bn.running_mean.uniform_(-1, 1)
    block.bn.running_var.uniform_(0.5, 2)
    block.bn.weight.data.uniform_(-2, 2)  # negative scales: max and BatchNorm do not commute
    spec = torch.randn(3, 96, 50)
    reference_in = spec.clone().requires_grad_(True)
    reference = F.relu(block.bn(block.conv(reference_in.unsqueeze(1)))).amax(2)
    fast_in = spec.clone().requires_grad_(True)
    fast = block(fast_in)
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=1e-5)
    upstream = torch.randn_like(fast)
    reference.backward(upstream)
    fast.backward(upstream)
    torch.testing.assert_close(fast_in.grad, reference_in.grad, atol=1e-5, rtol=1e-5)


def test_flush_subnormals_zeroes_only_subnormals():
    tiny = torch.finfo(torch.float32).tiny
    x = torch.tensor([tiny / 4, -tiny / 2, tiny, -1e-30, 0.0, 1.0])
    assert torch.equal(flush_subnormals(x), torch.tensor([0.0, 0.0, tiny, -1e-30, 0.0, 1.0]))
