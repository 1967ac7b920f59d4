"""Pretrained audio generators that TagBox steers: a registry of VQ-VAE configurations.

``build(id)`` gives a randomly initialised model (seeded, so reproducible); ``load(id)`` the
model with its weights (resolved and verified by :mod:`tagbox.weights`), in eval mode with
frozen parameters, ready for steering: only the latents get gradients.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

from tagbox import weights
from tagbox.checkpoints import read_checkpoint
from tagbox.errors import UnknownNameError
from tagbox.generators.vqvae import VQVAE, VQVAEConfig

logger = logging.getLogger(__name__)

__all__ = ["GENERATORS", "Generator", "VQVAE", "VQVAEConfig", "build", "load"]


@dataclass(frozen=True)
class Generator:
    """A registered generator: its architecture and the model id of its weights, if any."""

    config: VQVAEConfig
    weights: str | None = None  # id in tagbox/data/models.json; None: random weights only


JUKEBOX_5B = VQVAEConfig(
    sample_rate=44100,
    levels=3,
    downs_t=(3, 2, 2),
    strides_t=(2, 2, 2),
    emb_width=64,
    l_bins=2048,
    width=32,
    depth=4,
    multipliers=(2, 1, 1),
    m_conv=1.0,
    dilation_growth_rate=3,
    dilation_cycle=None,
    reverse_decoder_dilation=True,
    mu=0.99,
    commit=0.02,
)

# Random weights, no file: a few-kB model for fast tests of code that drives a generator.
DEBUG_TINY = VQVAEConfig(
    sample_rate=44100,
    levels=1,
    downs_t=(3,),
    strides_t=(2,),
    emb_width=8,
    l_bins=32,
    width=8,
    depth=1,
    multipliers=(1,),
)

# The project's own default: single level, hop 8 at 44.1 kHz (full band), thin layers so one
# steering step on 10 s of audio fits in ~0.5 s on 2 CPU cores. Trained by
# `tagbox train-generator` on freely licensed music (generators/weights/MODEL_CARD.md).
COMPACT = VQVAEConfig(
    sample_rate=44100,
    levels=1,
    downs_t=(1,),
    strides_t=(8,),
    emb_width=32,
    l_bins=512,
    width=64,
    depth=3,
    multipliers=(1,),
)

GENERATORS: dict[str, Generator] = {
    "jukebox-5b": Generator(JUKEBOX_5B, weights="jukebox-5b"),
    "compact": Generator(COMPACT, weights="compact"),
    "debug-tiny": Generator(DEBUG_TINY),
}

_BUILD_SEED = 0
_licence_noticed: set[str] = set()


def _generator(generator_id: str) -> Generator:
    if generator_id not in GENERATORS:
        raise UnknownNameError.suggest("generator", generator_id, GENERATORS)
    return GENERATORS[generator_id]


def build(generator_id: str) -> VQVAE:
    """The generator with random weights, identical on every call (the global RNG is untouched)."""
    config = _generator(generator_id).config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_BUILD_SEED)
        return VQVAE(config)


def load(generator_id: str, device: str | torch.device = "cpu",
         path: str | os.PathLike | None = None) -> VQVAE:
    """The generator with its weights on ``device``, in eval mode with frozen parameters.

    ``path`` overrides where the weights file is looked for (see :func:`tagbox.weights.resolve`).
    Generators without a weights entry (``debug-tiny``) come with their seeded random weights.
    """
    spec = _generator(generator_id)
    model = build(generator_id)
    if spec.weights is not None:
        file = weights.resolve(spec.weights, path)
        model.load_weights(read_checkpoint(file, trusted=True), name=str(file))
        _notice_licence(spec.weights)
    return model.to(device).eval().requires_grad_(False)


def _notice_licence(model_id: str) -> None:
    if model_id not in _licence_noticed:
        _licence_noticed.add(model_id)
        logger.warning("'%s' weights licence: %s", model_id, weights.entry(model_id).license)
