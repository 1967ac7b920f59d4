from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest
import torch

from tagbox.pipeline.labelling import Heard, log_odds, standardised
from tagbox.pipeline.priors import FragmentHead, FragmentPrior, Register, RegisterPrior
from tagbox.pipeline.state import Run
from tagbox.sources import SOURCE_NAMES, highest_frequency, lowest_frequency
from tagbox.taggers.registry import TAGGERS
from tagbox.vocabularies import vocabulary_tags
from tests.pipeline.helpers import profile, segment
from tests.test_pitch import FREQUENCIES, harmonic_spectrum


def _state(evidence: torch.Tensor, *sources, tags=None, latent=None):
    """A segment whose one run holds ``evidence (sources, K)`` and components heard with ``tags``."""
    count = evidence.shape[-1]
    heard = Heard(whole=torch.zeros(len(sources), 1), alone=torch.zeros(len(sources), count),
                  without=torch.zeros(len(sources), count), tags=tags or {})
    return dataclasses.replace(segment(torch.ones(8), *sources), runs=(Run(0, latent, heard, evidence),))


def test_a_head_reads_the_log_odds_of_its_taggers_tags():
    head = FragmentHead("fake", (2.0, -1.0), 0.5)
    tags = torch.tensor([[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]])
    torch.testing.assert_close(head(tags), 2.0 * log_odds(tags[:, 0]) - log_odds(tags[:, 1]) + 0.5)
    assert head(tags).argmax() == 0  # sounds like the first tag: a piece of the source


def test_the_fragment_prior_adds_the_heads_standardised_verdict_to_its_sources_row_only():
    evidence = torch.tensor([[1.0, 0.0, 0.0, -1.0], [3.0, 1.0, 2.0, 0.0]])
    tags = {"fake": torch.tensor([[0.2, 0.5], [0.9, 0.5], [0.1, 0.5], [0.5, 0.5]])}
    head = FragmentHead("fake", (1.0, 0.0), 0.0)
    state = _state(evidence, profile("cello", head=head), profile("drums"), tags=tags)
    combined = FragmentPrior(0.5).run(state.runs[0], state, None).evidence
    torch.testing.assert_close(combined[0], standardised(evidence[0]) + 0.5 * standardised(log_odds(tags["fake"][:, 0])))
    torch.testing.assert_close(combined[1], evidence[1])  # no head (drums): unchanged
    assert combined[0, 1] > combined[0, 2]  # tied evidence, the head breaks the tie


def test_the_bundled_heads_name_sources_and_fit_their_taggers_vocabulary():
    assert FragmentHead.of("cello") is not None and FragmentHead.of("drums") is None and FragmentHead.of("beat") is None
    for name in ("cello", "violin", "flute", "guitar", "electric_guitar", "piano", "strings", "synth", "bass"):
        head = FragmentHead.of(name)
        assert name in SOURCE_NAMES and head.tagger in TAGGERS
        assert len(head.weights) == len(vocabulary_tags(TAGGERS[head.tagger].vocabulary))


def test_a_source_with_a_range_centres_its_register_between_its_lowest_and_highest_notes():
    cello = Register.of("cello")
    assert cello.centre == pytest.approx((math.log2(lowest_frequency("cello")) + math.log2(highest_frequency("cello"))) / 2)
    assert Register.of("electric_guitar") == Register.of("guitar")  # inherited range
    assert Register.of("piano") == Register()  # pitched, no range: the labelling's belief alone
    assert Register.of("drums") is None and Register.of("beat") is None and Register.of("source") is None


def test_the_range_pulls_the_register_towards_its_centre_by_its_weight():
    octaves = torch.tensor([8.0, 9.0])
    belief = torch.tensor([1.0, 0.0])
    middle, spread = Register(centre=11.0).locate(belief, octaves)
    assert float(middle) == pytest.approx((8.0 + Register.PRIOR_WEIGHT * 11.0) / (1 + Register.PRIOR_WEIGHT))
    middle, spread = Register().locate(belief, octaves)
    assert float(middle) == 8.0 and float(spread) > 0  # one component: the least spread, not zero


def test_the_register_prior_lowers_components_far_from_the_register_and_leaves_unpitched_rows():
    # three notes together, one three octaves up, as the templates of a decomposition
    templates = torch.stack([harmonic_spectrum(f, range(1, 7)) for f in (200.0, 210.0, 220.0, 1760.0)], 1)
    latent = SimpleNamespace(W=templates, frequencies=lambda: FREQUENCIES)
    evidence = torch.tensor([[2.0, 2.0, 1.0, 1.0],  # believed: the low notes
                             [2.0, 2.0, 1.0, 1.0]])
    state = _state(evidence, profile("piano", register=Register()), profile("drums"), latent=latent)
    placed = RegisterPrior(0.25).run(state.runs[0], state, None).evidence
    torch.testing.assert_close(placed[1], evidence[1])  # no register (drums)
    assert placed[0, 2] > placed[0, 3]  # equal evidence, but the high one lies out of the register
    assert placed[0, 0] > placed[0, 2]  # the order of the in-register components is kept


def test_a_single_component_or_no_register_changes_nothing():
    single = torch.tensor([[3.0]])
    state = _state(single, profile("piano", register=Register()))
    assert RegisterPrior(0.25).run(state.runs[0], state, None).evidence is single
    state = _state(torch.tensor([[3.0, -1.0]]), profile("drums"))
    assert RegisterPrior(0.25).run(state.runs[0], state, None).evidence is state.runs[0].evidence
