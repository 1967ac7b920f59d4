"""scripts/train_fragment_heads.py: the phrases it renders and the heads it fits (no soundfont needed)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_fragment_heads.py"


def load():
    spec = importlib.util.spec_from_file_location("train_fragment_heads", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_phrases_stay_in_the_instruments_notes_and_the_clip():
    script = load()
    for instrument in script.INSTRUMENTS:
        notes = script.phrase(instrument, np.random.default_rng(instrument.program), seconds=10.0)
        assert notes, instrument
        starts, ends, pitches, velocities = map(np.array, zip(*notes))
        assert (starts >= 0).all() and (ends > starts).all() and (starts < 10.0).all()
        assert (1 <= velocities).all() and (velocities <= 127).all()
        if instrument.drums:
            assert set(pitches) <= set(script.DRUM_NOTES)
        else:
            assert pitches.min() >= instrument.low and pitches.max() <= instrument.high


def test_every_source_the_heads_learn_is_rendered_by_an_instrument_and_others_are_heard_too():
    script = load()
    sources = {instrument.source for instrument in script.INSTRUMENTS}
    assert {"cello", "violin", "flute", "guitar", "electric_guitar", "piano", "strings", "synth", "bass"} < sources
    assert None in sources  # instruments no head is for: the negatives a mixture holds


def test_the_bundled_heads_are_the_sources_the_script_renders():
    import json

    script = load()
    bundled = json.loads(script.OUT.read_text())
    assert set(bundled["heads"]) == {instrument.source for instrument in script.INSTRUMENTS} - {None}
    assert [dict(item) for item in bundled["instruments"]] == [vars(instrument) for instrument in script.INSTRUMENTS]


def test_the_fitted_head_separates_two_clouds_and_weighs_them_evenly():
    script = load()
    g = torch.Generator().manual_seed(0)
    positives = torch.randn(20, 3, generator=g) + torch.tensor([2.0, 0.0, 0.0])
    negatives = torch.randn(200, 3, generator=g) - torch.tensor([2.0, 0.0, 0.0])
    features, labels = torch.cat([positives, negatives]), torch.cat([torch.ones(20), torch.zeros(200)])
    weights, bias = script.fit_logistic(features, labels, l2=1.0)
    logits = features @ weights + bias
    assert weights[0] > 1.0 and weights[0] > 5 * weights[1:].abs().max()
    assert ((logits > 0) == (labels > 0)).float().mean() > 0.95
    assert (logits[:20] > 0).float().mean() > 0.9  # the few positives are not drowned by the many negatives
    heavier, _ = script.fit_logistic(features, labels, l2=100.0)
    assert heavier.norm() < weights.norm()
