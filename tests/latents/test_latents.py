"""The latent registry: a new latent is one class plus one entry, and owns its settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from tagbox.cli import build_parser, main
from tagbox.config import SeparatorConfig
from tagbox.errors import TagboxError
from tagbox.latents import LATENTS, LatentOptions, MaskedLatent, not_taken
from tagbox.latents.base import gain_logit
from tagbox.masks import STFT
from tagbox.separator import Separator
from tagbox.settings import flag
from tests.test_separator import music


@dataclass(frozen=True)
class ScaleOptions(LatentOptions):
    scale: float = field(default=0.5, metadata=flag("--scale", "starting scale", type=float))


class ScaleLatent(MaskedLatent):
    """One gain for the whole segment: the smallest space there is."""

    Options = ScaleOptions
    default_lr = 0.5
    default_steps = 2

    def __init__(self, mixture, sample_rate, options, *, model=None, sources=1, seed=0):
        super().__init__(mixture, [STFT(512, device=mixture.device)])
        self.logit = nn.Parameter(torch.tensor(gain_logit(options.scale), device=mixture.device))

    def masks(self):
        return [torch.sigmoid(self.logit).expand(self.reference_specs[0].shape)[None]]


@pytest.fixture
def scale(monkeypatch):
    monkeypatch.setitem(LATENTS, "scale", ScaleLatent)


def test_a_registered_latent_separates_with_its_own_settings(scale):
    x = music(16000, 1.0, channels=2)
    still = Separator(latent="scale", scale=0.25, taggers="debug-tiny", steps=1, lr=1e-9, progress=False)
    torch.testing.assert_close(still.separate_tensor(x, sample_rate=16000, source="drums").target, 0.25 * x, atol=1e-5, rtol=1e-4)
    steered = Separator(latent="scale", taggers="debug-tiny", progress=False)
    assert steered.name == "scale" and steered.config.latent_options == ScaleOptions()
    assert steered.request(["drums"]).sources[0].steps == 2
    result = steered.separate_tensor(x, sample_rate=16000, source="drums")
    assert len(result.history) == 2
    torch.testing.assert_close(result.target + result.residual, x)
    assert not torch.allclose(result.target, 0.5 * x, atol=1e-4)


def test_a_registered_latents_settings_are_refused_by_the_others(scale):
    with pytest.raises(TagboxError, match=r"^scale \(--scale\) is a setting of the scale latent; the nmf latent does not take it$"):
        Separator(scale=0.3, taggers="debug-tiny")
    assert SeparatorConfig().replace(latent="scale", scale=0.3).latent_options == ScaleOptions(0.3)


def test_a_registered_latents_flags_reach_the_cli(scale, tmp_path, capsys):
    assert build_parser().parse_args(["separate", "x.wav", "-s", "drums", "--scale", "0.3"]).scale == 0.3
    song = tmp_path / "song.wav"
    sf.write(song, music(16000, 1.0).T.numpy(), 16000, subtype="FLOAT")
    out = tmp_path / "out"
    assert main(["separate", str(song), "-s", "drums", "--latent", "scale", "--scale", "0.25", "--steps", "1", "--lr", "1e-9",
                 "--tagger", "debug-tiny", "--float32", "-o", str(out)]) == 0
    target, _ = sf.read(out / "tagbox-scale" / "song" / "drums.wav")
    np.testing.assert_allclose(target, 0.25 * music(16000, 1.0)[0].numpy(), atol=1e-4)


@pytest.mark.parametrize("name, latent, owners", [
    ("codebook", "nmf", "the vqvae latent"),
    ("fft_sizes", "mask", "the vqvae latent"),
    ("components", "vqvae", "the nmf latent"),
    ("init_gain", "vqvae", "the nmf and mask latents"),
])
def test_the_error_names_the_latents_that_take_a_setting(name, latent, owners):
    message = str(not_taken(name, latent))
    assert f"is a setting of {owners}; the {latent} latent does not take it" in message
