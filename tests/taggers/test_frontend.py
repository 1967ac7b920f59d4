from __future__ import annotations

import torch

from tagbox.checkpoints import read_checkpoint
from tagbox.taggers.frontend import htk_mel_filterbank, power_to_db


def test_default_filterbank_is_the_checkpoints_htk_filterbank(shared):
    state = read_checkpoint(shared / "weights" / "sota_music_taggers" / "mtat" / "fcn" / "best_model.pth")
    torch.testing.assert_close(htk_mel_filterbank(), state["spec.mel_scale.fb"], atol=2e-5, rtol=0)
    torch.testing.assert_close(torch.hann_window(512), state["spec.spectrogram.window"])


def test_power_to_db_floors_at_minus_100_db_with_zero_gradient():
    power = torch.tensor([0.0, 1e-12, 1.0, 100.0], requires_grad=True)
    db = power_to_db(power)
    assert db.tolist() == [-100.0, -100.0, 0.0, 20.0]
    db.sum().backward()
    assert power.grad[:2].tolist() == [0.0, 0.0] and power.grad[2] > 0
