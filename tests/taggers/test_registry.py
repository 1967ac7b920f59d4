from __future__ import annotations

import pytest
import torch

from tagbox import weights
from tagbox.checkpoints import read_checkpoint
from tagbox.errors import UnknownNameError, WeightsError
from tagbox.taggers import (
    TAGGERS,
    VOCABULARIES,
    build_tagger,
    load_tagger,
    vocabulary_tags,
)


def test_every_pretrained_tagger_is_a_registered_model():
    for tagger_id, config in TAGGERS.items():
        assert config.pretrained == (tagger_id in weights.registry())
        assert config.vocabulary in VOCABULARIES


def test_unknown_tagger_suggests_the_closest_id():
    with pytest.raises(UnknownNameError, match="did you mean 'mtat-musicnn'.*known: mtat-fcn"):
        load_tagger("mtat-musicn")


def test_loaded_tagger_is_frozen_and_stays_in_eval_mode():
    tagger = load_tagger("mtat-musicnn")
    assert (tagger.id, tagger.vocabulary, tagger.sample_rate, tagger.input_length) == (
        "mtat-musicnn", "mtat", 16000, 48000,
    )
    assert tagger.tags == list(vocabulary_tags("mtat"))
    assert not any(p.requires_grad for p in tagger.parameters())
    torch.nn.Sequential(tagger).train()
    assert not any(module.training for module in tagger.modules())


def test_debug_tiny_is_seeded_and_needs_no_weights(monkeypatch):
    monkeypatch.setattr(weights, "resolve", lambda *a, **k: pytest.fail("debug-tiny must not resolve weights"))
    first, second = load_tagger("debug-tiny"), load_tagger("debug-tiny")
    assert (first.vocabulary, first.input_length, len(first.tags)) == ("mtat", 16000, 50)
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    tone = torch.sin(torch.arange(16000) * 0.2) * (torch.arange(16000) < 8000)  # half silence: -100 dB bins
    probs = first(torch.stack([torch.randn(16000) * 0.1, tone]))
    assert probs.shape == (2, 50)
    assert 0.05 < probs.min() and probs.max() < 0.95, "saturated outputs would give steering tests no gradient"


def test_wrong_state_dict_names_the_offending_keys(shared):
    musicnn = read_checkpoint(shared / "weights" / "sota_music_taggers" / "mtat" / "musicnn" / "best_model.pth")
    with pytest.raises(WeightsError, match=r"does not fit tagger 'mtat-fcn'.*missing keys: .*layer4\.conv\.weight.*"
                                           r"unexpected keys: .*layers\.0\.conv\.weight.*wrong shapes: layer1\.conv\.weight"):
        build_tagger("mtat-fcn").load_weights(musicnn, origin="musicnn checkpoint")


def test_unreadable_checkpoint_is_a_weights_error(tmp_path):
    path = tmp_path / "best_model.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read checkpoint"):
        read_checkpoint(path)


def test_subnormal_weights_are_flushed_on_load():
    tagger = load_tagger("jamendo-musicnn")  # its checkpoint holds ~100k subnormal weights
    tiny = torch.finfo(torch.float32).tiny
    for tensor in tagger.state_dict().values():
        if tensor.is_floating_point():
            assert not ((tensor != 0) & (tensor.abs() < tiny)).any()
