from __future__ import annotations

import math

import pytest
import torch

from tagbox.latents.register import PRIOR_WEIGHT, Register, in_register
from tagbox.sources import highest_frequency, lowest_frequency


def test_a_source_with_a_range_centres_its_register_between_its_lowest_and_highest_notes():
    cello = Register.of("cello")
    assert cello.centre == pytest.approx((math.log2(lowest_frequency("cello")) + math.log2(highest_frequency("cello"))) / 2)
    assert Register.of("electric_guitar") == Register.of("guitar")  # inherited range
    assert Register.of("piano") == Register()  # pitched, no range: the labelling's belief alone
    assert Register.of("drums") is None and Register.of("beat") is None and Register.of("source") is None


def test_the_prior_pulls_the_register_towards_the_range_centre_by_its_weight():
    octaves = torch.tensor([8.0, 9.0])
    belief = torch.tensor([1.0, 0.0])
    middle, spread = Register(centre=11.0).locate(belief, octaves)
    assert float(middle) == pytest.approx((8.0 + PRIOR_WEIGHT * 11.0) / (1 + PRIOR_WEIGHT))
    middle, spread = Register().locate(belief, octaves)
    assert float(middle) == 8.0 and float(spread) > 0  # one component: the least spread, not zero


def test_components_far_from_the_register_lose_evidence_and_unpitched_rows_keep_theirs():
    fundamentals = torch.tensor([200.0, 210.0, 220.0, 1760.0])  # three notes together, one three octaves up
    evidence = torch.tensor([[2.0, 2.0, 1.0, 1.0],  # believed: the low notes
                             [2.0, 2.0, 1.0, 1.0]])
    placed = in_register(evidence, fundamentals, [Register(), None], weight=0.25)
    torch.testing.assert_close(placed[1], evidence[1])  # no register (drums)
    assert placed[0, 2] > placed[0, 3]  # equal evidence, but the high one lies out of the register
    assert placed[0, 0] > placed[0, 2]  # the order of the in-register components is kept


def test_no_weight_or_a_single_component_changes_nothing():
    evidence = torch.tensor([[3.0, -1.0, 0.5]])
    fundamentals = torch.tensor([100.0, 800.0, 3000.0])
    assert in_register(evidence, fundamentals, [Register()], weight=0.0) is evidence
    single = evidence[:, :1]
    assert in_register(single, fundamentals[:1], [Register()], weight=0.25) is single
