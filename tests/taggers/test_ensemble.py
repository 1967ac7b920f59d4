import pytest
import torch

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.separator import Separator
from tagbox.taggers.ensemble import TaggerEnsemble
from tests.test_separator import music


def test_target_probability_is_the_number_the_separator_reports():
    """The same audio gets the same number in the separator, eval's fooling check and the bench."""
    x = music(22050, 1.5, channels=2)
    separator = Separator(taggers=["debug-tiny", "debug-tiny-jamendo"], steps=1, components=4, progress=False)
    result = separator.separate_tensor(x, sample_rate=22050, source="drums")
    ensemble = TaggerEnsemble.load(["debug-tiny", "debug-tiny-jamendo"])
    before = ensemble.target_probability(x, sample_rate=22050, source="drums")
    after = ensemble.target_probability(result.target, sample_rate=22050, source="drums")
    assert before == pytest.approx(result.probability_before, abs=1e-6)
    assert after == pytest.approx(result.probability_after, abs=1e-6)


def test_wrap_and_pad_differ_for_clips_shorter_than_a_window():
    x = music(16000, 0.5)  # the debug tagger hears 1 s windows
    wrapped = TaggerEnsemble.load("debug-tiny").target_probability(x, sample_rate=16000, source="drums")
    padded = TaggerEnsemble.load("debug-tiny", short_audio="pad").target_probability(x, sample_rate=16000, source="drums")
    assert wrapped != pytest.approx(padded, abs=1e-6)


def test_silence_scores_zero_and_unknown_sources_none():
    ensemble = TaggerEnsemble.load("debug-tiny")
    assert ensemble.target_probability(torch.zeros(2, 16000), sample_rate=16000, source="drums") == 0.0
    assert ensemble.target_probability(music(), sample_rate=16000, source="trumpet") is None


def test_judge_draws_windows_per_tagger_and_a_subset_of_taggers():
    ensemble = TaggerEnsemble.load(["debug-tiny", "debug-tiny-jamendo"], windows=3, taggers_per_step=1)
    audio = music(16000, 4.0)
    rng = torch.Generator().manual_seed(0)
    judged = [list(ensemble.judge(audio, set(ensemble.ids), rng)) for _ in range(8)]
    assert all(len(step) == 1 for step in judged)
    assert {step[0][0].id for step in judged} == set(ensemble.ids)
    tagger, probs = judged[0][0]
    assert probs.shape == (1, len(tagger.tags))


def test_bad_settings_are_refused():
    with pytest.raises(UnknownNameError, match="short_audio"):
        TaggerEnsemble.load("debug-tiny", short_audio="loop")
    with pytest.raises(TagboxError, match="taggers_per_step"):
        TaggerEnsemble.load("debug-tiny", taggers_per_step=0)
    with pytest.raises(UnknownNameError, match="unknown tagger"):
        TaggerEnsemble.load(["no-such-tagger"])
    with pytest.raises(TagboxError, match="at least one"):
        TaggerEnsemble([])
