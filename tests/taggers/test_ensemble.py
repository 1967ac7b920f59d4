import pytest
import torch

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.taggers.ensemble import TaggerEnsemble
from tests.test_separator import music


def test_wrap_and_pad_differ_for_clips_shorter_than_a_window():
    x = music(16000, 0.5)[0]  # the debug tagger hears 1 s windows
    wrapped = TaggerEnsemble.load("debug-tiny").probabilities(x, 16000)["debug-tiny"]
    padded = TaggerEnsemble.load("debug-tiny", short_audio="pad").probabilities(x, 16000)["debug-tiny"]
    assert not torch.allclose(wrapped, padded, atol=1e-6)


def test_silence_has_no_tags():
    ensemble = TaggerEnsemble.load("debug-tiny")
    assert ensemble.tag(torch.zeros(16000), 16000) is None
    assert set(ensemble.tag(music()[0], 16000)) == {"debug-tiny"}


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
