"""Per-source policy, resolved once per request: steps, runs, competitors, heads, registers, ranges."""

from __future__ import annotations

import pytest

from tagbox.config import PRESETS, SeparatorConfig
from tagbox.errors import TagboxError
from tagbox.pipeline import resolve
from tagbox.pipeline.priors import Register
from tagbox.pipeline.profile import competitors, runs_for, steps_for
from tagbox.sources import lowest_frequency, refine_steps
from tagbox.taggers.ensemble import TaggerEnsemble

TAGGED = SeparatorConfig.of(taggers="debug-tiny")


def _request(config: SeparatorConfig, *names: str):
    return resolve(config, TaggerEnsemble.load("debug-tiny"), names, warn=lambda _: None)


def test_a_profile_resolves_a_requested_name_once():
    violin, = _request(TAGGED.replace(competitors="none"), "Violin").sources
    assert (violin.name, violin.canonical) == ("Violin", "violin")
    assert violin.register == Register.of("violin") and violin.lowest == lowest_frequency("violin")
    assert violin.head is None  # its head reads MTAT musicnn, which this ensemble does not hold
    assert set(violin.steered.targets) == set(violin.listening.targets) == {"debug-tiny"} and not violin.competitor


def test_steps_follow_the_config_then_the_source_then_the_latent():
    assert steps_for(TAGGED, "drums") == refine_steps("drums") == 15 and steps_for(TAGGED, "violin") == 0
    assert steps_for(TAGGED.replace(steps=7), "violin") == steps_for(TAGGED.replace(steps=7), "drums") == 7
    assert steps_for(TAGGED.replace(start="flat"), "violin") == 150
    assert steps_for(TAGGED.replace(latent="mask"), "violin") == 100


def test_two_runs_from_the_tagged_start_where_a_source_takes_no_step():
    request = _request(TAGGED, "violin")
    assert request.runs == 2 and runs_for(TAGGED, _request(TAGGED, "drums").sources) == 1
    assert _request(TAGGED, "drums", "violin").runs == 2 and _request(TAGGED.replace(runs=3), "drums").runs == 3
    assert _request(TAGGED.replace(start="flat"), "violin").runs == 1


def test_competitors_join_requests_they_share_no_tag_with_and_only_from_the_tagged_start():
    assert competitors(TAGGED, ["violin", "piano"]) == ("drums",) and competitors(TAGGED, ["Drums", "violin"]) == ()
    assert competitors(TAGGED.replace(competitors=("strings", "bass")), ["violin"]) == ("bass",)  # MTAT 'violin'
    assert competitors(TAGGED.replace(start="flat"), ["violin"]) == () and PRESETS["faithful"].steering.competitors == ()
    request = _request(TAGGED, "violin")
    drums, = request.competitors
    assert drums.competitor and drums.steered == drums.listening and request.most_steps == 15
    assert _request(TAGGED.replace(competitors="none"), "violin").most_steps == 0


def test_not_is_refused_where_no_source_takes_a_step():
    focused = TAGGED.replace(objective="focused", exclude=("vocals",))
    with pytest.raises(TagboxError, match="--not acts through steering steps, and no source of this request takes one"):
        _request(focused, "violin")
    assert _request(focused.replace(steps=2), "violin").sources[0].steps == 2
