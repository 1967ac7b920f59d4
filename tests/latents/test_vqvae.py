import math

import pytest
import torch

from tagbox import generators
from tagbox.generators import Generator, VQVAEConfig
from tagbox.latents import LATENTS
from tests.test_separator import fast, music

# Two levels with hops 2 and 4: enough to see which one is steered.
TWO_LEVELS = VQVAEConfig(sample_rate=44100, levels=2, downs_t=(1, 1), strides_t=(2, 2), emb_width=8, l_bins=32,
                         width=8, depth=1, multipliers=(1, 1))


@pytest.fixture
def spaces(monkeypatch):
    """The spaces the vqvae latent builds, kept for inspection; and a two-level debug generator."""
    built = []

    class Recorded(LATENTS["vqvae"]):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setitem(LATENTS, "vqvae", Recorded)
    monkeypatch.setitem(generators.GENERATORS, "debug-two", Generator(TWO_LEVELS))
    return built


@pytest.mark.parametrize("level", [0, 1])
def test_the_level_setting_steers_that_levels_latents(spaces, level):
    x = music(44100, 0.5)
    separator = fast(latent="vqvae", generator="debug-two", level=level, steps=1)
    result = separator.separate_tensor(x, sample_rate=44100, source="drums")
    torch.testing.assert_close(result.target + result.residual, x)
    assert spaces[-1].level == level
    assert spaces[-1].z.shape[-1] == math.ceil(x.shape[-1] / separator.model.hop_length(level))


def test_the_separator_loads_the_generator_the_options_name(spaces):
    separator = fast(latent="vqvae", generator="debug-two")
    assert separator.name == "debug-two" and separator.model.levels == 2
    assert fast().model is None  # nmf steers no model
