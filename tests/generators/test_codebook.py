"""Codebook policies on the tiny generator: what changes, what never does, and reproducibility."""

from __future__ import annotations

import pytest
import torch

from tagbox.generators import load
from tagbox.generators.codebook import DEAD_CODE_THRESHOLD, flatten


@pytest.fixture()
def model():
    return load("debug-tiny")


def latents(model, frames, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(1, model.emb_width, frames, generator=generator).requires_grad_(True)


def test_frozen_session_is_the_model_quantiser_and_changes_nothing(model):
    pretrained = model.bottleneck.level_blocks[0].k.clone()
    z = latents(model, 300)
    session = model.codebook_session()
    for _ in range(3):
        codes, zq = session.quantise(z, 0)
    expected_codes, expected_zq = model.quantise(z, 0)
    assert torch.equal(codes, expected_codes) and torch.equal(zq, expected_zq)
    torch.testing.assert_close(zq, pretrained[codes].permute(0, 2, 1), rtol=0, atol=1e-6)
    assert torch.equal(model.bottleneck.level_blocks[0].k, pretrained)


def test_reference_session_starts_from_the_latents_own_frames(model):
    z = latents(model, model.config.l_bins)
    session = model.codebook_session("reference", seed=1)
    _, zq = session.quantise(z, 0)
    # As many frames as codes: re-initialised from z, every frame is its own code.
    torch.testing.assert_close(zq, z, rtol=0, atol=1e-6)
    model_codebook = model.bottleneck.level_blocks[0].k
    assert not torch.equal(session.policy.states[0].k, model_codebook)


def test_reference_session_tiles_with_noise_when_frames_are_fewer_than_codes(model):
    z = latents(model, 5)  # 5 frames, 32 codes
    session = model.codebook_session("reference", seed=1)
    session.quantise(z, 0)
    state = session.policy.states[0]
    distance = torch.cdist(state.k, flatten(z.detach())).min(dim=1).values
    assert (distance > 0).all() and (distance < 0.05).all()
    assert len(torch.unique(state.k, dim=0)) == model.config.l_bins


def test_reference_session_ema_update_and_dead_code_restarts(model):
    bins = model.config.l_bins
    z = latents(model, 300)
    session = model.codebook_session("reference", seed=3)
    first, _ = session.quantise(z, 0)
    # Then a clip of one repeated frame: one code is hit, the rest decay.
    frame = z.detach()[..., :1]
    second, _ = session.quantise(frame.expand(-1, -1, 300), 0)
    state = session.policy.states[0]
    hits = [torch.bincount(codes.view(-1), minlength=bins).float() for codes in (first, second)]
    expected_elem = 0.99 * (0.99 + 0.01 * hits[0]) + 0.01 * hits[1]
    torch.testing.assert_close(state.k_elem, expected_elem)
    alive = state.k_elem >= DEAD_CODE_THRESHOLD
    assert alive.any() and (~alive).any()
    torch.testing.assert_close(state.k[alive], (state.k_sum / state.k_elem[:, None])[alive])
    # Dead codes restart from the current latents, here all equal to that one frame.
    torch.testing.assert_close(state.k[~alive], frame[0, :, 0].expand(int((~alive).sum()), -1))


def test_reference_sessions_are_independent_and_seeded(model):
    z = latents(model, 300)

    def run(seed):
        session = model.codebook_session("reference", seed=seed)
        return [session.quantise(z, 0)[0] for _ in range(3)]

    first = run(7)
    assert all(torch.equal(a, b) for a, b in zip(first, run(7)))
    assert not all(torch.equal(a, b) for a, b in zip(first, run(8)))
