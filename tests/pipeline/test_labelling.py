import dataclasses

import torch

from tagbox.latents import NMFLatent, NMFOptions
from tagbox.pipeline import Tools
from tagbox.pipeline.labelling import BOUND, Evidence, Heard, Hearing, Listen, Share, StartGains, share, start_logits
from tagbox.pipeline.stages import Decompose
from tests.pipeline.helpers import LowBand, low_share, profile, segment, two_notes


def test_evidence_is_alone_vs_whole_plus_weighted_whole_vs_without():
    probabilities: dict[str, list[tuple[int, bool]]] = {}

    def hear(clips: torch.Tensor, *, alone: bool = False) -> Hearing:  # probability = first sample; tags = both
        probabilities.setdefault("calls", []).append((clips.shape[0], alone))
        return Hearing(clips[:, 0][None], {"fake": clips + 0.25})

    mixture = torch.tensor([0.5, 0.0])
    components = torch.tensor([[0.4, 0.0], [0.1, 0.0]])
    heard = Heard.listen(components, mixture, hear)
    # the mixture, each component (alone: the only clips whose tags are read), the mixture without each
    assert probabilities["calls"] == [(1, False), (2, True), (2, False)]
    evidence = heard.evidence(removal_weight=2.0)
    logit = lambda p: torch.log(torch.tensor(p) / (1 - torch.tensor(p)))  # noqa: E731
    expected = [logit(0.4) - logit(0.5) + 2 * (logit(0.5) - logit(0.1)),
                logit(0.1) - logit(0.5) + 2 * (logit(0.5) - logit(0.4))]
    torch.testing.assert_close(evidence[0], torch.stack(expected))
    assert evidence[0, 0] > 0 > evidence[0, 1]
    torch.testing.assert_close(heard.tags["fake"], components + 0.25)  # how each component alone sounds



def test_start_logits_standardise_each_sources_evidence_and_put_the_rest_last_at_zero():
    evidence = torch.tensor([[-2.0, 0.0, 3.0, 50.0], [1.0, 2.0, 3.0, 4.0]])
    logits = start_logits(evidence, slope=0.5, offset=1.0)
    assert logits.shape == (3, 4) and (logits[-1] == 0).all()
    standard = (evidence[1] - evidence[1].median()) / evidence[1].std()
    torch.testing.assert_close(logits[1], 0.5 * standard + 1.0)
    # scale-free: evidence ten times as strong gives the same start
    torch.testing.assert_close(start_logits(10 * evidence, slope=0.5, offset=1.0), logits)
    assert logits.abs().max() <= BOUND  # never a gain the refinement cannot move


def _sigmoid(x: list[list[float]]) -> torch.Tensor:
    return torch.sigmoid(torch.tensor(x))


def test_sharing_lifts_the_components_that_sound_like_strong_evidence():
    # components 0 and 1 sound alike (same tags), 2 and 3 alike; only 0 has strong evidence
    tags = _sigmoid([[3.0, -3.0], [3.0, -3.0], [-3.0, 3.0], [-3.0, 3.0]])
    evidence = torch.tensor([[4.0, 0.0, 0.0, 0.5]])
    shared = share(evidence, {"fake": tags}, temperature=0.05)
    assert shared[0, 1] > shared[0, 2]  # 1 sounds like 0, 2 does not: no longer tied
    standard = (evidence - evidence.mean()) / evidence.std()
    # this cold, each component's weight is split evenly between itself and its twin
    torch.testing.assert_close(shared, (standard + standard[:, [1, 0, 3, 2]]) / 2, atol=1e-4, rtol=0)


def test_a_component_unlike_the_others_keeps_its_own_evidence():
    tags = _sigmoid([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]])
    evidence = torch.tensor([[2.0, -1.0, 0.5]])
    shared = share(evidence, {"fake": tags}, temperature=0.05)
    torch.testing.assert_close(shared, (evidence - evidence.mean()) / evidence.std(), atol=1e-4, rtol=0)


def test_no_other_component_leaves_the_evidence_as_it_is():
    tags = _sigmoid([[1.0, 0.0], [0.0, 1.0]])
    evidence = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
    single = evidence[:, :1]
    assert share(single, {"fake": tags[:1]}, temperature=0.2) is single


def test_a_hot_temperature_averages_every_components_evidence():
    tags = _sigmoid([[2.0, 0.0, 0.0], [1.9, 0.1, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]])
    evidence = torch.tensor([[0.0, 3.0, -1.0, 1.0]])
    shared = share(evidence, {"fake": tags}, temperature=1e4)
    torch.testing.assert_close(shared, torch.zeros_like(shared), atol=1e-3, rtol=0)


def test_every_listening_taggers_tags_count_side_by_side():
    tags = _sigmoid([[3.0, -3.0, 1.0], [3.0, -3.0, -1.0], [-3.0, 3.0, 0.0]])
    evidence = torch.tensor([[4.0, 0.0, 0.5]])
    one = share(evidence, {"fake": tags}, temperature=0.1)
    torch.testing.assert_close(share(evidence, {"a": tags[:, :2], "b": tags[:, 2:]}, temperature=0.1), one)


def _labelled(*stages, components: int = 2, sources=(profile(),)):
    """The tiny two-note case through a decomposition and ``stages``, heard by the low-band tagger."""
    tools = Tools(LowBand())
    state = Decompose(NMFLatent, NMFOptions(components=components), (0,))(segment(two_notes(), *sources), tools)
    for stage in stages:
        state = stage(state, tools)
    return state, tools


def test_listen_hears_the_mixture_each_component_alone_and_the_mixture_without_each():
    state, tools = _labelled(Listen())
    heard = state.runs[0].heard
    assert tools.ensemble.calls == [1, 2, 2]
    assert heard.whole.shape == (1, 1) and heard.alone.shape == heard.without.shape == (1, 2)
    assert heard.tags["fake"].shape == (2, 2)
    shares = low_share(state.runs[0].latent.components())
    low = shares.index(max(shares))
    assert heard.alone[0, low] > heard.whole[0, 0] > heard.alone[0, 1 - low]  # the low note sounds like the source


def test_the_start_gives_the_components_heard_as_the_source_the_larger_gains():
    state, _ = _labelled(Listen(), Evidence(10.0), StartGains(1.5, -1.0))
    latent = state.runs[0].latent
    gains, shares = latent.gains()[0].detach(), low_share(latent.components())
    low = shares.index(max(shares))
    assert gains[low] > 0.7 and gains[1 - low] < 0.3
    assert 0 < gains.min() and gains.max() < 1  # soft: a refinement can still move every gain
    torch.testing.assert_close(state.runs[0].evidence, state.runs[0].heard.evidence(removal_weight=10.0))


def test_share_pools_the_evidence_of_components_heard_alike():
    state, _ = _labelled(Listen(), Evidence(10.0), components=3)
    alike = dataclasses.replace(state.runs[0], heard=dataclasses.replace(
        state.runs[0].heard, tags={"fake": torch.full((3, 2), 0.5)}))  # every component sounds the same
    state = dataclasses.replace(state, runs=(alike,))
    assert state.runs[0].evidence.std() > 0.3  # each component's own evidence
    shared = Share(0.2)(state, None).runs[0].evidence
    torch.testing.assert_close(shared, torch.zeros_like(shared), atol=1e-5, rtol=0)  # pooled: no contrast left
