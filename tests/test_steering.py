import pytest
import torch
from torch import nn

from tagbox.separator import Separator
from tagbox.steering import source_probability, steer
from tagbox.taggers.ensemble import TaggerEnsemble
from tests.test_separator import music


class Point(nn.Module):
    """A one-parameter 'latent space': its estimate is the parameter itself."""

    def __init__(self):
        super().__init__()
        self.value = nn.Parameter(torch.zeros(1, 1, 4))
        self.register_buffer("reference", torch.ones(1, 4))

    def estimates(self):
        return self.value


def test_steer_minimises_the_loss_and_reports_every_step():
    space, seen = Point(), []
    target = torch.full((1, 1, 4), 0.5)

    def loss(step, estimates, rest):
        assert rest is None
        return (estimates - target).pow(2).mean(), 0.0

    steer(space, loss, steps=200, lr=0.05, on_step=lambda step, value, p: seen.append((step, value)))
    torch.testing.assert_close(space.value.detach(), target, atol=1e-2, rtol=0)
    assert [s for s, _ in seen] == list(range(200)) and seen[-1][1] < seen[0][1]


def test_judge_rest_passes_what_the_estimates_leave_of_the_reference():
    space, rests = Point(), []

    def loss(step, estimates, rest):
        rests.append(rest.detach().clone())
        return estimates.sum(), 0.0

    steer(space, loss, steps=1, lr=0.1, judge_rest=True)
    torch.testing.assert_close(rests[0], torch.ones(1, 4))


def test_average_ends_at_the_mean_of_the_last_steps():
    space, values = Point(), []

    def loss(step, estimates, rest):
        return estimates.sum(), 0.0  # constant gradient: Adam moves by lr each step

    steer(space, loss, steps=4, lr=1.0, average=2,
          on_step=lambda *_: values.append(space.value.detach().clone()))
    torch.testing.assert_close(space.value.detach(), (values[-1] + values[-2]) / 2)


def test_steer_segment_returns_each_sources_estimate_and_silence_for_silence():
    from tagbox.latents import NMFLatent, NMFOptions
    from tagbox.steering import steer_segment, steered_source

    ensemble = TaggerEnsemble.load("debug-tiny")
    steered = [steered_source(ensemble.taggers, name, ["drums", "guitar"], "reference", (), device="cpu",
                              warn=lambda _: None) for name in ("drums", "guitar")]
    piece = music(16000, 1.0, channels=2)
    settings = dict(space=NMFLatent, options=NMFOptions(components=4), model=None, ensemble=ensemble, seed=0,
                    segment_index=0, steps=[2, 2], lr=0.1)
    estimates = steer_segment(piece, 16000, steered, **settings)
    assert estimates.shape == (2, *piece.shape)
    # The joint masks and the rest's sum to one, so the sources together hold at most the mixture's energy.
    assert float(estimates.sum(0).pow(2).sum()) <= float(piece.pow(2).sum()) * 1.001
    assert torch.isfinite(estimates).all() and not torch.equal(estimates[0], estimates[1])
    silent = steer_segment(torch.zeros_like(piece), 16000, steered, **settings)
    assert silent.shape == (2, *piece.shape) and not silent.any()


def test_each_source_counts_in_the_loss_for_its_own_steps(monkeypatch):
    from tagbox import steering
    from tagbox.latents import NMFLatent, NMFOptions

    ensemble = TaggerEnsemble.load("debug-tiny")
    steered = [steering.steered_source(ensemble.taggers, name, ["drums", "guitar"], "reference", (), device="cpu",
                                       warn=lambda _: None) for name in ("drums", "guitar")]
    judged, real = [], steering.steering_loss

    def spy(ensemble, estimates, rate, sources, rng, rest=None):
        judged.append(([s.source for s in sources], estimates.shape[0]))
        return real(ensemble, estimates, rate, sources, rng, rest)

    monkeypatch.setattr(steering, "steering_loss", spy)
    steering.steer_segment(music(16000, 1.0), 16000, steered, space=NMFLatent, options=NMFOptions(components=4, start="flat"),
                           model=None, ensemble=ensemble, seed=0, segment_index=0, steps=[1, 3], lr=0.1)
    assert judged == [(["drums", "guitar"], 2), (["guitar"], 1), (["guitar"], 1)]


def test_a_competitor_joins_a_segment_only_where_the_taggers_hear_it(monkeypatch):
    from tagbox import steering
    from tagbox.latents import NMFLatent, NMFOptions

    ensemble = TaggerEnsemble.load("debug-tiny")
    violin, drums = [steering.steered_source(ensemble.taggers, name, ["violin", "drums"], "reference", (), device="cpu",
                                             warn=lambda _: None) for name in ("violin", "drums")]
    piece = music(16000, 1.0, channels=2)
    heard = steering.hearing(ensemble, 16000, [drums])(piece.mean(0)[None] / piece.mean(0).abs().max()).sources.item()
    judged, real = [], steering.steering_loss

    def spy(ensemble, estimates, rate, sources, rng, rest=None):
        judged.append([s.source for s in sources])
        return real(ensemble, estimates, rate, sources, rng, rest)

    monkeypatch.setattr(steering, "steering_loss", spy)
    settings = dict(space=NMFLatent, options=NMFOptions(components=4), model=None, ensemble=ensemble, seed=0,
                    segment_index=0, steps=[0, 2], lr=0.1, competitors=[drums])
    joined = steering.steer_segment(piece, 16000, [violin], competitor_threshold=heard * 0.9, **settings)
    assert joined.shape == (1, *piece.shape) and judged == [["drums"], ["drums"]]
    judged.clear()
    alone = steering.steer_segment(piece, 16000, [violin], competitor_threshold=heard * 1.1, **settings)
    assert judged == [] and not torch.equal(alone, joined)
    torch.testing.assert_close(alone, steering.steer_segment(piece, 16000, [violin], **{**settings, "competitors": []}))


def test_shortest_window_keeps_only_the_taggers_of_the_shortest_window():
    from types import SimpleNamespace

    from tagbox.steering import Steered

    ensemble = SimpleNamespace(taggers=[SimpleNamespace(id="short", input_length=48000),
                                        SimpleNamespace(id="long", input_length=464000)])
    steered = Steered("drums", {"short": "target a", "long": "target b"})
    assert steered.shortest_window(ensemble) == Steered("drums", {"short": "target a"})
    assert Steered("drums", {"long": "target b"}).shortest_window(ensemble).targets == {"long": "target b"}


def test_source_probability_is_the_number_the_separator_reports():
    """The same audio gets the same number in the separator, eval's fooling check and the benches."""
    x = music(22050, 1.5, channels=2)
    separator = Separator(taggers=["debug-tiny", "debug-tiny-jamendo"], steps=1, components=4, progress=False)
    result = separator.separate_tensor(x, sample_rate=22050, source="drums")
    ensemble = TaggerEnsemble.load(["debug-tiny", "debug-tiny-jamendo"])
    before = source_probability(ensemble, x, sample_rate=22050, source="drums")
    after = source_probability(ensemble, result.target, sample_rate=22050, source="drums")
    assert before == pytest.approx(result.probability_before, abs=1e-6)
    assert after == pytest.approx(result.probability_after, abs=1e-6)
    assert source_probability(ensemble, x.numpy(), sample_rate=22050, source="drums") == pytest.approx(before, abs=1e-6)


def test_source_probability_of_silence_is_zero_and_of_unnameable_sources_none():
    ensemble = TaggerEnsemble.load("debug-tiny")
    assert source_probability(ensemble, torch.zeros(2, 16000), sample_rate=16000, source="drums") == 0.0
    assert source_probability(ensemble, music(), sample_rate=16000, source="trumpet") is None  # no MTAT tag
    assert source_probability(ensemble, music(), sample_rate=16000, source="brass") is None  # no tagbox source
    with pytest.raises(TypeError):  # everything after the audio is keyword-only
        source_probability(ensemble, music(), 16000, "drums")


def test_hearing_lets_a_fragment_heads_tagger_hear_the_components_alone_where_the_ensemble_holds_it(monkeypatch):
    """Bass is labelled by Jamendo musicnn, while its head reads MTAT musicnn's tags."""
    from tagbox import steering
    from tagbox.latents import fragments

    ensemble = TaggerEnsemble.load(["debug-tiny", "debug-tiny-jamendo"])
    drums = steering.steered_source(ensemble.taggers, "drums", ["drums"], "reference", (), device="cpu",
                                    warn=lambda _: None)
    labelled_by_jamendo = steering.Steered("drums", {"debug-tiny-jamendo": drums.targets["debug-tiny-jamendo"]})
    clips = music(16000, 1.0, channels=2).mean(0)[None]
    head = fragments.FragmentHead("debug-tiny", (0.0,) * 50, 0.0)
    monkeypatch.setattr(fragments, "_heads", lambda: {})
    assert set(steering.hearing(ensemble, 16000, [labelled_by_jamendo])(clips).tags) == {"debug-tiny-jamendo"}
    monkeypatch.setattr(fragments, "_heads", lambda: {"drums": head})
    hear = steering.hearing(ensemble, 16000, [labelled_by_jamendo])
    heard = hear(clips, alone=True)
    assert set(heard.tags) == {"debug-tiny", "debug-tiny-jamendo"}
    assert heard.sources.shape == (1, 1)  # the head's tagger does not judge the source
    assert set(hear(clips).tags) == {"debug-tiny-jamendo"}  # the mixture, with or without a component: no head reads it
    torch.testing.assert_close(hear(clips).sources, heard.sources)
    without_head = TaggerEnsemble.load("debug-tiny-jamendo")
    assert set(steering.hearing(without_head, 16000, [labelled_by_jamendo])(clips, alone=True).tags) == {
        "debug-tiny-jamendo"}
