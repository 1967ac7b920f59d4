"""Which taggers exist (a registry kept as data) and how to build or load one."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import torch

from tagbox import weights
from tagbox.checkpoints import read_checkpoint
from tagbox.errors import UnknownNameError
from tagbox.taggers.base import Tagger
from tagbox.taggers.crnn import CRNN
from tagbox.taggers.fcn import FCN
from tagbox.taggers.musicnn import Musicnn
from tagbox.vocabularies import vocabulary_tags


class TaggerConfig(NamedTuple):
    architecture: str
    vocabulary: str
    input_length: int
    pretrained: bool = True


ARCHITECTURES: dict[str, Callable[..., Tagger]] = {
    "fcn": FCN,
    "crnn": CRNN,
    "musicnn": Musicnn,
    "musicnn-tiny": functools.partial(
        Musicnn, timbre_filters=8, temporal_filters=4, backend_channels=8, dense_units=16
    ),
}

TAGGERS: dict[str, TaggerConfig] = {
    "mtat-fcn": TaggerConfig("fcn", "mtat", 464000),
    "mtat-musicnn": TaggerConfig("musicnn", "mtat", 48000),
    "mtat-crnn": TaggerConfig("crnn", "mtat", 464000),
    "jamendo-fcn": TaggerConfig("fcn", "jamendo", 464000),
    "jamendo-musicnn": TaggerConfig("musicnn", "jamendo", 48000),
    "jamendo-crnn": TaggerConfig("crnn", "jamendo", 464000),
    "msd-fcn": TaggerConfig("fcn", "msd", 464000),
    "msd-crnn": TaggerConfig("crnn", "msd", 464000),
    # Random weights, no file: fast enough for API and CLI tests.
    "debug-tiny": TaggerConfig("musicnn-tiny", "mtat", 16000, pretrained=False),
    # A second one, for ensembles: another vocabulary and window length.
    "debug-tiny-jamendo": TaggerConfig("musicnn-tiny", "jamendo", 32000, pretrained=False),
}

_SEED = 0


def config(tagger_id: str) -> TaggerConfig:
    if tagger_id not in TAGGERS:
        raise UnknownNameError.suggest("tagger", tagger_id, TAGGERS)
    return TAGGERS[tagger_id]


def build_tagger(tagger_id: str) -> Tagger:
    """A frozen tagger of ``tagger_id``'s architecture with seeded random weights."""
    cfg = config(tagger_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED)
        tagger = ARCHITECTURES[cfg.architecture](
            tagger_id, cfg.vocabulary, vocabulary_tags(cfg.vocabulary), cfg.input_length
        )
    # NHWC convolutions run FCN and CRNN about a fifth faster on CPU (musicnn is unaffected);
    # the outputs agree with the default layout to float rounding.
    return tagger.freeze().to(memory_format=torch.channels_last)


def load_tagger(tagger_id: str, device: str | torch.device = "cpu") -> Tagger:
    """A frozen, eval-mode tagger with its pretrained weights (resolved by :mod:`tagbox.weights`)."""
    tagger = build_tagger(tagger_id)
    if config(tagger_id).pretrained:
        path = weights.resolve(tagger_id)
        tagger.load_weights(read_checkpoint(path), origin=str(path))
    return tagger.to(device)
