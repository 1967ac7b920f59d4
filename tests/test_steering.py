import pytest
import torch
from torch import nn

from tagbox.separator import Separator
from tagbox.steering import source_probability, steer
from tagbox.taggers.ensemble import TaggerEnsemble
from tests.test_separator import music


class Point(nn.Module):
    """A one-parameter 'latent space': its estimate is the parameter itself."""

    def __init__(self):
        super().__init__()
        self.value = nn.Parameter(torch.zeros(1, 1, 4))
        self.register_buffer("reference", torch.ones(1, 4))

    def estimates(self):
        return self.value


def test_steer_minimises_the_loss_and_reports_every_step():
    space, seen = Point(), []
    target = torch.full((1, 1, 4), 0.5)

    def loss(step, estimates, rest):
        assert rest is None
        return (estimates - target).pow(2).mean(), 0.0

    steer(space, loss, steps=200, lr=0.05, on_step=lambda step, value, p: seen.append((step, value)))
    torch.testing.assert_close(space.value.detach(), target, atol=1e-2, rtol=0)
    assert [s for s, _ in seen] == list(range(200)) and seen[-1][1] < seen[0][1]


def test_judge_rest_passes_what_the_estimates_leave_of_the_reference():
    space, rests = Point(), []

    def loss(step, estimates, rest):
        rests.append(rest.detach().clone())
        return estimates.sum(), 0.0

    steer(space, loss, steps=1, lr=0.1, judge_rest=True)
    torch.testing.assert_close(rests[0], torch.ones(1, 4))


def test_average_ends_at_the_mean_of_the_last_steps():
    space, values = Point(), []

    def loss(step, estimates, rest):
        return estimates.sum(), 0.0  # constant gradient: Adam moves by lr each step

    steer(space, loss, steps=4, lr=1.0, average=2,
          on_step=lambda *_: values.append(space.value.detach().clone()))
    torch.testing.assert_close(space.value.detach(), (values[-1] + values[-2]) / 2)


def test_shortest_window_keeps_only_the_taggers_of_the_shortest_window():
    from types import SimpleNamespace

    from tagbox.steering import Steered

    ensemble = SimpleNamespace(taggers=[SimpleNamespace(id="short", input_length=48000),
                                        SimpleNamespace(id="long", input_length=464000)])
    steered = Steered("drums", {"short": "target a", "long": "target b"})
    assert steered.shortest_window(ensemble) == Steered("drums", {"short": "target a"})
    assert Steered("drums", {"long": "target b"}).shortest_window(ensemble).targets == {"long": "target b"}


def test_source_probability_is_the_number_the_separator_reports():
    """The same audio gets the same number in the separator, eval's fooling check and the benches."""
    x = music(22050, 1.5, channels=2)
    separator = Separator(taggers=["debug-tiny", "debug-tiny-jamendo"], steps=1, components=4, progress=False)
    result = separator.separate_tensor(x, sample_rate=22050, source="drums")
    ensemble = TaggerEnsemble.load(["debug-tiny", "debug-tiny-jamendo"])
    before = source_probability(ensemble, x, sample_rate=22050, source="drums")
    after = source_probability(ensemble, result.target, sample_rate=22050, source="drums")
    assert before == pytest.approx(result.probability_before, abs=1e-6)
    assert after == pytest.approx(result.probability_after, abs=1e-6)
    assert source_probability(ensemble, x.numpy(), sample_rate=22050, source="drums") == pytest.approx(before, abs=1e-6)


def test_source_probability_of_silence_is_zero_and_of_unnameable_sources_none():
    ensemble = TaggerEnsemble.load("debug-tiny")
    assert source_probability(ensemble, torch.zeros(2, 16000), sample_rate=16000, source="drums") == 0.0
    assert source_probability(ensemble, music(), sample_rate=16000, source="trumpet") is None  # no MTAT tag
    assert source_probability(ensemble, music(), sample_rate=16000, source="brass") is None  # no tagbox source
    with pytest.raises(TypeError):  # everything after the audio is keyword-only
        source_probability(ensemble, music(), 16000, "drums")
