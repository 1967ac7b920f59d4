"""The presence stage: each source's probability of playing in a segment, and silence under the threshold."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from tagbox.config import Output
from tagbox.latents import NMFLatent, NMFOptions
from tagbox.pipeline import Tools
from tagbox.pipeline.labelling import Evidence, Listen, StartGains
from tagbox.pipeline.presence import FEATURES, Presence, PresenceHead, run_features
from tagbox.pipeline.stages import Apply, Decompose
from tests.pipeline.helpers import LowBand, profile, segment, two_notes


def _labelled():
    """The two-note case labelled for a low source and a high one, estimates applied."""
    tools = Tools(LowBand())
    state = segment(two_notes(), profile("bass", tag=0), profile("flute", tag=1))
    for stage in (Decompose(NMFLatent, NMFOptions(components=2), (0, 1)), Listen(), Evidence(10.0), StartGains(1.5, -1.0),
                  Apply()):
        state = stage(state, tools)
    return state


def test_the_features_say_how_strongly_and_where_each_source_was_heard():
    state = _labelled()
    features = run_features(state.runs[0], state, 10.0)
    assert features.shape == (2, len(FEATURES)) and torch.isfinite(features).all()
    share = features[:, FEATURES.index("share")]
    assert (share > 0).all() and (share < 1).all()
    assert features[:, FEATURES.index("head")].eq(0).all()  # neither source has a head here


def test_a_source_under_the_threshold_is_silenced_and_one_without_a_head_kept(monkeypatch):
    state = _labelled()
    mixture_column = FEATURES.index("mixture")
    listens = PresenceHead(mean=(0.0,) * len(FEATURES), scale=(1.0,) * len(FEATURES),
                           weights=tuple(5.0 if i == mixture_column else 0.0 for i in range(len(FEATURES))), bias=0.0)
    monkeypatch.setattr(PresenceHead, "of", classmethod(lambda cls, name: listens if name == "bass" else None))
    quiet = dataclasses.replace(state, runs=tuple(dataclasses.replace(
        run, heard=dataclasses.replace(run.heard, whole=torch.tensor([[0.01], [0.01]]))) for run in state.runs))
    silenced = Presence(Output(presence_threshold=0.5), 10.0)(quiet, None)
    assert silenced.presence[0] < 0.01 and silenced.presence[1] == 1.0  # flute has no head: present
    assert not silenced.estimate[0].any() and torch.equal(silenced.estimate[1], state.estimate[1])
    kept = Presence(Output(presence_threshold=0.0), 10.0)(quiet, None)
    assert torch.equal(kept.estimate, state.estimate) and kept.presence[0] == pytest.approx(silenced.presence[0])


@pytest.mark.parametrize("source", ["bass", "drums", "piano", "violin", "synth"])
def test_a_bundled_head_hears_more_presence_where_the_mixture_sounds_more_like_the_source(source):
    head = PresenceHead.of(source)
    typical = torch.tensor(head.mean)
    louder = typical + torch.eye(len(FEATURES))[FEATURES.index("mixture")] * torch.tensor(head.scale)
    assert 0 < float(head(typical)) < 1 and float(head(louder)) > float(head(typical))


def test_sources_without_a_bundled_head_are_those_no_render_plays():
    assert PresenceHead.of("vocals") is None and PresenceHead.of("rock") is None
