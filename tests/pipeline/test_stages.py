"""Each stage around the labelling, alone on a tiny case."""

from __future__ import annotations

import dataclasses

import torch

from tagbox.latents import NMFLatent, NMFOptions
from tagbox.pipeline import Tools
from tagbox.pipeline.stages import Apply, Competitors, Decompose, FlatGains, RangeFloor, Refine
from tagbox.steering import steered_source
from tagbox.taggers.ensemble import TaggerEnsemble
from tests.pipeline.helpers import RATE, LowBand, profile, segment, two_notes
from tests.test_separator import music


def _decomposed(*sources, seeds=(0,), components=4):
    return Decompose(NMFLatent, NMFOptions(components=components), seeds)(segment(two_notes(), *sources), Tools(LowBand()))


def test_a_competitor_joins_only_where_the_taggers_hear_it_in_the_mixture():
    low, high = profile("bass", tag=0, competitor=True), profile("synth", tag=1, competitor=True)
    state = segment(two_notes(), profile("cello"))
    heard = LowBand().probabilities(state.mono[None], RATE)["fake"][0]
    joined = Competitors((low, high), float(heard.min()) + 1e-3)(state, Tools(LowBand()))
    louder = "bass" if heard[0] > heard[1] else "synth"
    assert [source.name for source in joined.sources] == ["cello", louder] and joined.requested == 1
    assert Competitors((low, high), 0.99)(state, Tools(LowBand())).sources == state.sources


def test_decompose_makes_one_latent_per_seed_with_a_gain_row_per_source_and_the_rest():
    state = _decomposed(profile("cello"), profile("drums"), seeds=(3, 4))
    assert [run.seed for run in state.runs] == [3, 4]
    assert all(run.latent.gain_logits.shape == (3, 4) for run in state.runs)
    assert not torch.equal(state.runs[0].latent.W, state.runs[1].latent.W)  # each seed its own decomposition


def test_the_flat_start_puts_a_single_sources_gains_at_its_starting_gain_and_splits_several_evenly():
    alone = FlatGains(0.3)(_decomposed(profile("cello")), None).runs[0].latent
    torch.testing.assert_close(alone.gains(), torch.full((1, 4), 0.3))
    together = FlatGains(0.3)(_decomposed(profile("cello"), profile("drums")), None).runs[0].latent
    torch.testing.assert_close(together.gains(), torch.full((2, 4), 1 / 3))


def test_refine_counts_each_source_in_the_loss_for_its_own_steps(monkeypatch):
    from tagbox.pipeline import stages

    ensemble = TaggerEnsemble.load("debug-tiny")
    steered = [steered_source(ensemble.taggers, name, ["drums", "guitar"], "reference", (), device="cpu",
                              warn=lambda _: None) for name in ("drums", "guitar")]
    sources = [profile(s.source, steered=s, listening=s, steps=steps) for s, steps in zip(steered, (1, 3))]
    judged, real, records = [], stages.steering_loss, []

    def spy(ensemble, estimates, rate, sources, rng, rest=None):
        judged.append(([s.source for s in sources], estimates.shape[0]))
        return real(ensemble, estimates, rate, sources, rng, rest)

    monkeypatch.setattr(stages, "steering_loss", spy)
    state = Decompose(NMFLatent, NMFOptions(components=4, start="flat"), (0,))(
        segment(music(RATE, 1.0)[0], *sources), Tools(ensemble))
    before = state.runs[0].latent.gain_logits.detach().clone()
    Refine(0.1)(state, Tools(ensemble, on_step=records.append))
    assert judged == [(["drums", "guitar"], 2), (["guitar"], 1), (["guitar"], 1)]
    assert [(r["segment"], r["run"], r["step"]) for r in records] == [(0, 0, 0), (0, 0, 1), (0, 0, 2)]
    assert not torch.equal(state.runs[0].latent.gain_logits, before)  # moved in place


def test_apply_averages_the_runs_requested_sources_on_every_channel():
    state = FlatGains(0.5)(_decomposed(profile("cello"), seeds=(0, 1)), None)
    stereo = dataclasses.replace(state, piece=torch.stack([state.piece[0], 0.5 * state.piece[0]]), requested=1)
    estimate = Apply()(stereo, None).estimate
    assert estimate.shape == (1, 2, stereo.piece.shape[-1])
    torch.testing.assert_close(estimate[0, 1], 0.5 * estimate[0, 0])  # the same masks on each channel
    torch.testing.assert_close(estimate, 0.5 * stereo.piece[None], atol=1e-4, rtol=0)  # every gain 0.5


def test_the_range_floor_removes_what_lies_below_a_sources_lowest_note_only():
    state = segment(two_notes(), profile("violin", lowest=1000.0), profile("drums"))
    estimate = torch.stack([state.piece, state.piece])
    floored = RangeFloor(2048, 512)(dataclasses.replace(state, estimate=estimate), None).estimate
    torch.testing.assert_close(floored[1], estimate[1])  # no lowest note: untouched
    spectrum = torch.fft.rfft(floored[0, 0]).abs()
    low = spectrum[: 1000 * floored.shape[-1] // RATE // 2].sum() / spectrum.sum()
    assert low < 0.05  # the 220 Hz note is gone, the 3 kHz one stays
