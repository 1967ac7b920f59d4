import pytest

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.objectives import build_target
from tagbox.taggers import load_tagger


@pytest.fixture(scope="module")
def mtat_tags():
    return load_tagger("debug-tiny").tags


def test_reference_objective_counts_every_tag(mtat_tags):
    target = build_target("reference", mtat_tags, "mtat", "drums")
    assert target.weight.sum() == len(mtat_tags)
    assert {mtat_tags[i] for i in target.positives.tolist()} == {"drums", "beat", "beats"}
    assert target.target.sum() == 3


def test_focused_objective_ignores_genres_and_pushes_other_sources_down(mtat_tags):
    target = build_target("focused", mtat_tags, "mtat", "drums", exclude=["rock"])
    counted = {tag for tag, w in zip(mtat_tags, target.weight.tolist()) if w}
    assert {"drums", "violin", "guitar", "rock"} <= counted
    assert "classical" not in counted and "slow" not in counted


def test_loss_is_lower_for_probabilities_that_agree(mtat_tags):
    target = build_target("focused", mtat_tags, "mtat", "drums")
    good = target.target.clone()
    bad = 1 - target.target
    assert target.loss(good * 0.98 + 0.01) < target.loss(bad * 0.98 + 0.01)
    assert target.probability(good) == 1


def test_unexpressible_unknown_and_contradictory_requests(mtat_tags):
    assert build_target("reference", mtat_tags, "mtat", "organ") is None
    with pytest.raises(UnknownNameError):
        build_target("reference", mtat_tags, "mtat", "kazoo-orchestra")
    with pytest.raises(UnknownNameError):
        build_target("loudest", mtat_tags, "mtat", "drums")
    with pytest.raises(TagboxError):
        build_target("focused", mtat_tags, "mtat", "drums", exclude=["beat"])


def test_focused_objective_keeps_related_sources_out_of_the_negatives(mtat_tags):
    target = build_target("focused", mtat_tags, "mtat", "violin")
    counted = {tag for tag, w in zip(mtat_tags, target.weight.tolist()) if w}
    negatives = counted - {mtat_tags[i] for i in target.positives.tolist()}
    assert "cello" in negatives and "strings" not in negatives


def test_sources_requested_together_may_share_tags_but_an_exclusion_may_not(mtat_tags):
    strings = build_target("focused", mtat_tags, "mtat", "strings", others=["cello", "drums"])
    positives = {mtat_tags[i] for i in strings.positives.tolist()}
    assert positives == {"strings", "violin", "cello"}
    negatives = {tag for tag, w, t in zip(mtat_tags, strings.weight.tolist(), strings.target.tolist()) if w and not t}
    assert "drums" in negatives and "cello" not in negatives
    cello = build_target("focused", mtat_tags, "mtat", "cello", others=["strings"])
    negatives = {tag for tag, w, t in zip(mtat_tags, cello.weight.tolist(), cello.target.tolist()) if w and not t}
    assert {"strings", "violin"} <= negatives
    with pytest.raises(TagboxError, match="share tags"):
        build_target("focused", mtat_tags, "mtat", "cello", exclude=["strings"])
