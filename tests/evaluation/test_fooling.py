"""The fooling check: the flag rule, and tag probabilities from a real (tiny) tagger."""

from __future__ import annotations

import numpy as np
import pytest

from tagbox.evaluation.fooling import is_fooled, probe
from tests.evaluation.helpers import RATE, clicks, tone


@pytest.mark.parametrize(
    "p_estimate, p_stem, si_sdri, fooled",
    [
        (0.9, 0.3, 0.2, True),  # believed far more than the real stem, separates nothing
        (0.88, 0.70, -1.4, True),  # 3x the odds of a stem the tagger already knows
        (0.9, 0.3, 4.0, False),  # believed, but it did separate
        (0.6, 0.5, 0.0, False),  # not far above the real stem
        (None, 0.3, 0.0, False),  # the tagger has no tag for the source
        (0.9, 0.3, float("nan"), False),
    ],
)
def test_fooling_rule(p_estimate, p_stem, si_sdri, fooled):
    assert is_fooled(p_estimate, p_stem, si_sdri) is fooled


def test_probe_gives_a_probability_for_expressible_sources_only():
    check = probe(("debug-tiny",))
    audio = (tone() + clicks())[None]
    p = check(audio, sample_rate=RATE, source="drums")
    assert 0.0 <= p <= 1.0
    assert check(np.concatenate([audio, audio]), sample_rate=RATE, source="drums") == pytest.approx(p, abs=1e-6)
    assert check(audio, sample_rate=RATE, source="trumpet") is None  # MTAT has no trumpet tag
    assert check(audio, sample_rate=RATE, source="brass") is None  # not a tagbox source name
