import numpy as np

from tagbox.evaluation.methods import MethodSpec, build_method
from tagbox.metrics import si_sdr_improvement
from tests.evaluation.helpers import RATE, clicks, tone, two_source_track


def test_the_nmf_oracle_groups_the_components_by_the_true_stems():
    track = two_source_track(tone(), clicks())
    method = build_method(MethodSpec("nmf-oracle", "nmf-oracle", (("components", 4),), seed=0))
    estimates = {source: method(track.mixture, RATE, source, track).audio for source in track.stems}
    for source, estimate in estimates.items():
        assert estimate.shape == track.mixture.shape
        assert si_sdr_improvement(track.stems[source], estimate, track.mixture) > 3
    # every component goes to one stem: together the estimates give back the mixture
    np.testing.assert_allclose(sum(estimates.values()), track.mixture, atol=1e-3)
