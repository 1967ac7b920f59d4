"""tagbox.stems: estimates streamed to disk come back with the mixture, block by block."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from tagbox import stems


def test_blocks_return_the_mixture_and_the_estimates_with_silent_sources_zeroed(tmp_path, monkeypatch):
    monkeypatch.setattr(stems, "BLOCK_SECONDS", 0.3)  # several blocks, the last one short
    rng = np.random.default_rng(0)
    mixture = rng.uniform(-0.5, 0.5, (2, 1000)).astype(np.float32)
    sf.write(tmp_path / "mix.wav", mixture.T, 1000, subtype="FLOAT")
    estimates = torch.from_numpy(rng.uniform(-0.5, 0.5, (2, 2, 1000)).astype(np.float32))
    stream = stems.StemStream(tmp_path, 2, 2, 1000)
    for start, end in [(0, 400), (400, 410), (410, 1000)]:
        stream.write(start, estimates[..., start:end])
    stream.close()

    blocks = list(stream.blocks(tmp_path / "mix.wav", [False, True]))
    assert [mix.shape[-1] for mix, _ in blocks] == [300, 300, 300, 100]
    np.testing.assert_array_equal(np.concatenate([mix for mix, _ in blocks], -1), mixture)
    got = np.concatenate([est for _, est in blocks], -1)
    np.testing.assert_array_equal(got[0], estimates[0].numpy())
    assert not got[1].any()


def test_regions_must_arrive_in_order(tmp_path):
    stream = stems.StemStream(tmp_path, 1, 1, 1000)
    stream.write(0, torch.zeros(1, 1, 10))
    with pytest.raises(ValueError, match="expected sample 10, got 20"):
        stream.write(20, torch.zeros(1, 1, 10))
    stream.close()
