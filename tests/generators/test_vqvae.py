"""VQ-VAE geometry for configurations other than Jukebox's (golden tests cover the 5b one)."""

from __future__ import annotations

import torch

from tagbox.generators.vqvae import VQVAE, VQVAEConfig

MIXED = VQVAEConfig(sample_rate=16000, levels=2, downs_t=(2, 1), strides_t=(2, 4), emb_width=4,
                    l_bins=8, width=4, depth=1, multipliers=(1, 2), channels=2)


def test_hop_lengths_multiply_the_strides_of_all_blocks_up_to_the_level():
    assert [MIXED.hop_length(level) for level in range(2)] == [4, 16]


def test_every_level_round_trips_its_own_lengths():
    model = VQVAE(MIXED)
    x = torch.randn(3, 2, 101)
    for level, hop in enumerate((4, 16)):
        z = model.encode(x, level)
        codes, zq = model.quantise(z, level)
        assert z.shape == (3, 4, 101 // hop) and codes.shape == (3, 101 // hop)
        assert model.decode(zq, level).shape == (3, 2, hop * (101 // hop))
