"""Generator training: the loss goes down, runs resume exactly, bad data fails cleanly."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import soundfile as sf
import torch

from tagbox.checkpoints import read_checkpoint
from tagbox.errors import TagboxError
from tagbox.generators import GENERATORS, VQVAE, load
from tagbox.training import LAST, Trainer, TrainOptions, export_weights, train
from tagbox.training.losses import log_spectral_distance, spectral_loss
from tagbox.weights import entry, resolve

TINY = GENERATORS["debug-tiny"].config
RATE = TINY.sample_rate


def options(**changes) -> TrainOptions:
    base = dict(steps=6, batch_size=2, crop_seconds=0.1, lr=3e-3, checkpoint_every=3,
                valid_every=3, valid_excerpts=2, valid_seconds=0.5)
    return TrainOptions(**{**base, **changes})


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Two training pieces and one held-out piece: chords with a noisy onset pattern."""
    root = tmp_path_factory.mktemp("music")
    rng = np.random.default_rng(0)
    t = np.arange(3 * RATE) / RATE
    for split, name, pitch in (("train", "a", 220.0), ("train", "b", 330.0), ("valid", "c", 277.0)):
        chord = sum(np.sin(2 * np.pi * pitch * ratio * t) for ratio in (1.0, 1.25, 1.5))
        beats = np.exp(-20 * (t % 0.5)) * rng.standard_normal(t.size)
        (root / split).mkdir(exist_ok=True)
        sf.write(root / split / f"{name}.flac", 0.2 * chord + 0.3 * beats, RATE)
    return root


def test_training_steps_reduce_the_loss(data_dir, tmp_path):
    trainer = Trainer(TINY, options(), data_dir, tmp_path / "run")
    losses = [trainer.train_step()["loss"] for _ in range(40)]
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_resume_continues_exactly_where_it_stopped(data_dir, tmp_path):
    first = train(data_dir, tmp_path / "split", TINY, options(steps=6), progress=False)
    resumed = train(data_dir, tmp_path / "split", TINY, options(steps=9), progress=False)
    train(data_dir, tmp_path / "straight", TINY, options(steps=9), progress=False)
    assert (first.step, resumed.start_step, resumed.step) == (6, 6, 9)
    split_state = torch.load(tmp_path / "split" / LAST, weights_only=False)
    straight_state = torch.load(tmp_path / "straight" / LAST, weights_only=False)
    assert split_state["step"] == 9
    for key, value in straight_state["model"].items():
        torch.testing.assert_close(split_state["model"][key], value, rtol=0, atol=0)
    assert [h["step"] for h in split_state["history"]] == [3, 6, 9]


def test_existing_run_is_not_overwritten_without_force(data_dir, tmp_path):
    train(data_dir, tmp_path / "run", TINY, options(steps=3), progress=False)
    with pytest.raises(TagboxError, match="--force"):
        train(data_dir, tmp_path / "run", TINY, options(steps=3), resume=False, progress=False)
    restarted = train(data_dir, tmp_path / "run", TINY, options(steps=3), resume=False,
                      force=True, progress=False)
    assert restarted.start_step == 0


def test_interrupt_saves_a_checkpoint_and_stops(data_dir, tmp_path, monkeypatch):
    real_step = Trainer.train_step

    def step_then_interrupt(self):
        losses = real_step(self)
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return losses

    monkeypatch.setattr(Trainer, "train_step", step_then_interrupt)
    result = train(data_dir, tmp_path / "run", TINY, options(steps=50), progress=False)
    assert result.interrupted and result.step == 2
    assert torch.load(tmp_path / "run" / LAST, weights_only=False)["step"] == 2


@pytest.mark.parametrize("content", [None, b"", b"not audio at all"])
def test_missing_or_unreadable_data_fails_without_writing(tmp_path, content):
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    if content is not None:
        (data / "train" / "piece.flac").write_bytes(content)
    with pytest.raises(TagboxError, match="no readable audio"):
        train(data, tmp_path / "run", TINY, options(), progress=False)
    assert not (tmp_path / "run").exists()


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(TagboxError, match="does not exist"):
        train(tmp_path / "nowhere", tmp_path / "run", TINY, options(), progress=False)


def test_exported_weights_load_into_the_generator(data_dir, tmp_path):
    train(data_dir, tmp_path / "run", TINY, options(steps=3), progress=False)
    path = export_weights(tmp_path / "run" / LAST, tmp_path / "tiny.pt", half=True)
    model = VQVAE(TINY)
    model.load_weights(read_checkpoint(path, trusted=True))
    trained = torch.load(tmp_path / "run" / LAST, weights_only=False)["model"]
    k = "bottleneck.level_blocks.0.k"
    torch.testing.assert_close(model.state_dict()[k], trained[k], rtol=1e-3, atol=1e-3)


def test_losses_are_zero_for_a_perfect_reconstruction_only():
    x = torch.randn(2, 1, 4096)
    assert float(spectral_loss(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert log_spectral_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert float(spectral_loss(x, 0.5 * x)) > 0.1
    assert log_spectral_distance(x, 0.5 * x) == pytest.approx(20 * np.log10(2), rel=1e-3)


def test_bundled_compact_weights_are_small_and_load():
    path = resolve("compact")
    assert path.stat().st_size <= 10 * 2**20 and entry("compact").size == path.stat().st_size
    model = load("compact")
    x = torch.randn(1, 1, 4410)
    assert model.decode(model.quantise(model.encode(x, 0), 0)[1], 0).shape == (1, 1, 4408)


def test_cli_trains_exports_and_reports_errors(data_dir, tmp_path, capsys):
    from tagbox.cli import main

    run = ["train-generator", str(data_dir), "--out", str(tmp_path / "run"), "--config",
           "debug-tiny", "--steps", "2", "--batch-size", "2", "--crop-seconds", "0.1"]
    assert main(run) == 0
    assert "stopped at step 2/2" in capsys.readouterr().out
    export = ["train-generator", "--out", str(tmp_path / "run"), "--export", str(tmp_path / "w.pt")]
    assert main(export) == 0 and read_checkpoint(tmp_path / "w.pt", trusted=True)
    assert main(export) == 1 and "--force" in capsys.readouterr().err
    assert main(["train-generator", str(tmp_path / "empty"), "--out", str(tmp_path / "x")]) == 1
    assert "tagbox: error:" in capsys.readouterr().err and not (tmp_path / "x").exists()
