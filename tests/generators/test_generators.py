"""The generator registry: build, load (weights through tagbox.weights), licence notice."""

from __future__ import annotations

import logging

import pytest
import torch

import tagbox.generators as generators
from tagbox.errors import UnknownNameError, WeightsError
from tagbox.generators import GENERATORS, VQVAE, build, load


def test_registry_lists_the_shared_interface_ids():
    assert {"jukebox-5b", "debug-tiny"} <= set(GENERATORS)


def test_build_is_seeded_and_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    first, second = build("debug-tiny"), build("debug-tiny")
    assert torch.equal(torch.get_rng_state(), state)
    for (key, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), key


def test_debug_tiny_loads_without_a_file_and_round_trips_shapes():
    model = load("debug-tiny")
    assert isinstance(model, VQVAE) and not model.training
    assert (model.sample_rate, model.levels, model.hop_length(0)) == (44100, 1, 8)
    assert not any(p.requires_grad for p in model.parameters())
    x = torch.randn(2, 1, 1003)
    z = model.encode(x, 0).detach().requires_grad_(True)
    codes, zq = model.quantise(z, 0)
    audio = model.decode(zq, 0)
    assert z.shape == (2, model.emb_width, 125) and codes.shape == (2, 125)
    assert audio.shape == (2, 1, 1000)
    audio.square().mean().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_unknown_generator_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="did you mean 'jukebox-5b'"):
        build("jukebox5b")


def _write_jukebox_checkpoint(path, state):
    torch.save({"hps": {"sr": 44100}, "model": state, "opt": None, "step": 0}, path)


def test_load_jukebox_from_a_checkpoint_file(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(generators, "_licence_noticed", set())
    expected = build("jukebox-5b").state_dict()
    with torch.no_grad():
        for value in expected.values():
            value.add_(1.0)
    path = tmp_path / "vqvae.pth.tar"
    _write_jukebox_checkpoint(path, {"module." + k: v.half() for k, v in expected.items()})
    with caplog.at_level(logging.WARNING, logger="tagbox.generators"):
        model = load("jukebox-5b", path=path)
        load("jukebox-5b", path=path)
    for key, value in model.state_dict().items():
        assert value.dtype == torch.float32
        assert torch.equal(value, expected[key].half().float()), key
    assert not any(p.requires_grad for p in model.parameters())
    notices = [r.getMessage() for r in caplog.records if "licence" in r.getMessage()]
    assert len(notices) == 1 and "Noncommercial" in notices[0]


def test_load_rejects_a_checkpoint_of_another_model(tmp_path):
    path = tmp_path / "other.pth"
    _write_jukebox_checkpoint(path, build("debug-tiny").state_dict())
    with pytest.raises(WeightsError, match="does not fit this generator: .*missing"):
        load("jukebox-5b", path=path)


def test_load_rejects_a_file_without_a_state_dict(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read checkpoint"):
        load("jukebox-5b", path=path)
    torch.save([1, 2, 3], path)
    with pytest.raises(WeightsError, match="no state dict"):
        load("jukebox-5b", path=path)
