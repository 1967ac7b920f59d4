import numpy as np
import pytest
import torch

from tagbox.evaluation.alignment import check_alignment, oracle_components, start_at
from tagbox.latents import NMFLatent, NMFOptions
from tagbox.separator import Separator

RATE = 16000


def two_sources(seconds: float = 2.0) -> dict[str, np.ndarray]:
    """A steady low tone and high noise bursts: sources NMF keeps in separate components."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(0)
    tone = 0.5 * np.sin(2 * np.pi * 110 * t) + 0.25 * np.sin(2 * np.pi * 220 * t)
    bursts = np.convolve(rng.standard_normal(t.size), [1, -1], "same") * ((t * 4) % 1 < 0.25) * 0.3
    return {"bass": tone.astype(np.float32), "drums": bursts.astype(np.float32)}


def test_oracle_components_give_each_component_to_the_stem_it_holds():
    stems = two_sources()
    mixture = torch.tensor(sum(stems.values()))
    space = NMFLatent(mixture, RATE, NMFOptions(components=4, start="flat"))
    references = [torch.tensor(s) for s in stems.values()]
    drums = oracle_components(space, references, 1)
    bass = oracle_components(space, references, 0)
    assert bool((drums ^ bass).all()), "every component belongs to exactly one stem"
    assert 0 < int(drums.sum()) < 4
    start_at(space, drums, high=0.9, low=0.1)
    gains = space.gains()[0]
    torch.testing.assert_close(gains, torch.where(drums, 0.9, 0.1))


def test_the_oracle_start_scores_high_and_the_flat_blind_start_scores_the_mixture():
    stems = two_sources()
    mixture = sum(stems.values())
    separator = Separator(taggers="debug-tiny", components=4, start="flat", progress=False)
    results = check_alignment(separator, mixture, RATE, stems, "drums", steps={"oracle": 2, "blind": 2})
    by_start = {r.start: r for r in results}
    assert by_start["oracle"].before > 6, "the oracle grouping of well-separated sources is a good estimate"
    # The blind start keeps 0.99 of every component: almost the mixture itself.
    assert abs(by_start["blind"].before) < 0.5
    for result in results:
        assert result.steps == 2 and np.isfinite(result.after) and 0 <= result.probability_after <= 1


def test_only_the_nmf_latent_has_an_oracle_grouping():
    stems = two_sources(1.0)
    with pytest.raises(ValueError, match="nmf latent"):
        check_alignment(Separator(taggers="debug-tiny", latent="mask", progress=False), sum(stems.values()), RATE,
                        stems, "drums", steps={"oracle": 1})


def test_the_blind_start_is_the_separators_own_start():
    stems = two_sources()
    mixture = sum(stems.values())
    flat, tagged = (Separator(taggers="debug-tiny", components=4, start=start, progress=False) for start in ("flat", "tagged"))
    before = [check_alignment(s, mixture, RATE, stems, "drums", steps={"blind": 1})[0].before for s in (flat, tagged)]
    assert before[0] != pytest.approx(before[1], abs=1e-3)  # the tagged start is not the mixture
