import pytest
import torch

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.latents import NMFLatent, NMFOptions
from tagbox.latents.fragments import FragmentHead
from tagbox.latents.labelling import Hearing
from tests.test_separator import music


def test_time_knots_let_a_components_gain_change_along_the_segment():
    mono = music(16000, 1.0)[0]
    flat = NMFLatent(mono, 16000, NMFOptions(components=4, start="flat"))
    knotted = NMFLatent(mono, 16000, NMFOptions(components=4, time_knots=3, start="flat"))
    assert flat.gain_logits.shape == (2, 4, 1) and knotted.gain_logits.shape == (2, 4, 3)
    with torch.no_grad():
        knotted.gain_logits[0, :, 0] = -3.0  # quiet at the start, the starting gain later
    gains = knotted.gains()
    assert gains.shape == (1, 4, knotted.H.shape[-1])
    assert (gains[..., 0] < 0.1).all() and (gains[..., -1] > 0.9).all()
    torch.testing.assert_close(flat.gains(), torch.full_like(gains, 0.99))


def test_several_sources_start_as_an_even_split_whatever_the_starting_gain():
    space = NMFLatent(music(16000, 1.0)[0], 16000, NMFOptions(components=4, init_gain=0.3, start="flat"), sources=("violin", "cello"))
    torch.testing.assert_close(space.gains(), torch.full((2, 4, space.H.shape[-1]), 1 / 3))


def _low_band_hearing(rate: int):
    """A fake hear(): a source that is 'heard' in proportion to the clip's energy below 1 kHz."""
    def hear(clips: torch.Tensor, *, alone: bool = False) -> Hearing:
        spec = torch.fft.rfft(clips).abs() ** 2
        low = spec[:, : clips.shape[-1] * 1000 // rate].sum(-1)
        heard = 0.05 + 0.9 * low / (spec.sum(-1) + 1e-9)
        return Hearing(heard[None], {"fake": torch.stack([heard, 1 - heard], -1)})
    return hear


def test_components_sum_to_the_reference():
    space = NMFLatent(music(16000, 1.0)[0], 16000, NMFOptions(components=4, start="flat"))
    parts = space.components()
    assert parts.shape == (4, space.length)
    torch.testing.assert_close(parts.sum(0), space.reference, atol=1e-4, rtol=0)


def test_tagged_start_gives_the_components_the_taggers_hear_as_the_source_the_larger_gains():
    rate = 16000
    t = torch.arange(rate) / rate
    mono = torch.sin(2 * torch.pi * 220 * t) * (t < 0.5) + 0.7 * torch.sin(2 * torch.pi * 3000 * t) * (t >= 0.5)
    space = NMFLatent(mono, rate, NMFOptions(components=2, start="tagged"), hear=_low_band_hearing(rate))
    gains = space.gains()[0, :, 0]
    parts = space.components()
    low_share = [float(torch.fft.rfft(p).abs()[:1000].pow(2).sum() / torch.fft.rfft(p).abs().pow(2).sum()) for p in parts]
    low, high = (0, 1) if low_share[0] > low_share[1] else (1, 0)
    assert gains[low] > 0.7 and gains[high] < 0.3
    assert 0 < gains.min() and gains.max() < 1  # soft: the refinement can still move every gain


def test_tagged_start_pools_the_evidence_of_components_the_taggers_hear_alike():
    rate = 16000
    t = torch.arange(rate) / rate
    mono = torch.sin(2 * torch.pi * 220 * t) * (t < 0.5) + 0.7 * torch.sin(2 * torch.pi * 3000 * t) * (t >= 0.5)
    low_band = _low_band_hearing(rate)

    def alike(clips: torch.Tensor, *, alone: bool = False) -> Hearing:  # the same source evidence, every clip's tags the same
        heard = low_band(clips)
        return Hearing(heard.sources, {"fake": torch.full_like(heard.tags["fake"], 0.5)})

    def start(temperature: float) -> torch.Tensor:
        options = NMFOptions(components=3, start="tagged", share_temperature=temperature)
        return NMFLatent(mono, rate, options, hear=alike).gains()[0, :, 0]

    assert start(0.0).max() - start(0.0).min() > 0.3  # each component's own evidence
    torch.testing.assert_close(start(0.2), torch.full((3,), float(torch.sigmoid(torch.tensor(-1.0)))))  # pooled


def test_tagged_start_lowers_a_component_far_from_the_sources_register():
    rate = 16000
    t = torch.arange(rate) / rate
    third = (t * 3).long()  # three notes one after the other: two close together, one three octaves up
    mono = sum(torch.sin(2 * torch.pi * f * t) * (third == i) for i, f in enumerate((220.0, 247.0, 1760.0)))

    def undecided(clips: torch.Tensor, *, alone: bool = False) -> Hearing:  # every clip heard alike: no evidence either way
        return Hearing(torch.full((1, clips.shape[0]), 0.3), {"fake": torch.full((clips.shape[0], 2), 0.5)})

    def start(weight: float) -> torch.Tensor:
        options = NMFOptions(components=3, start="tagged", share_temperature=0.0, register_weight=weight)
        space = NMFLatent(mono, rate, options, sources=("piano",), hear=undecided)
        high = max(range(3), key=lambda k: float((space.W[:, k] * torch.arange(space.W.shape[0])).sum() / space.W[:, k].sum()))
        return space.gains()[0, :, 0].detach(), high

    gains, _ = start(0.0)
    torch.testing.assert_close(gains, torch.full_like(gains, float(gains[0])))
    gains, high = start(0.25)
    assert gains[high] < min(gains[k] for k in range(3) if k != high) - 0.05


def test_tagged_start_needs_the_taggers_and_an_unknown_start_is_refused():
    with pytest.raises(TagboxError, match="needs the taggers"):
        NMFLatent(music(16000, 1.0)[0], 16000, NMFOptions(components=2, start="tagged"))
    with pytest.raises(UnknownNameError, match="unknown start 'oracle'; choose from flat, tagged"):
        NMFOptions(start="oracle")


def test_resolved_defaults_follow_the_start():
    tagged, flat = (NMFLatent.resolved_defaults(NMFOptions(start=start)) for start in ("tagged", "flat"))
    assert tagged["components"] == 16 and flat["components"] == 32
    assert tagged["steps"]["drums"] == 15 and tagged["steps"]["violin"] == 0 and flat["steps"]["violin"] == 150
    assert tagged["runs"] == {0: 2, 1: 1} and flat["runs"] == {0: 1, 1: 1}
    assert NMFLatent.resolved_defaults(NMFOptions(components=8))["components"] == 8


def test_tagged_start_follows_the_head_learned_for_the_source(monkeypatch):
    rate = 16000
    t = torch.arange(rate) / rate
    mono = torch.sin(2 * torch.pi * 220 * t) * (t < 0.5) + 0.7 * torch.sin(2 * torch.pi * 3000 * t) * (t >= 0.5)
    low_band = _low_band_hearing(rate)

    def undecided(clips: torch.Tensor, *, alone: bool = False) -> Hearing:  # the source's own tag hears nothing; the tags do
        return Hearing(torch.full((1, clips.shape[0]), 0.3), low_band(clips).tags)

    head = FragmentHead("fake", (1.0, -1.0), 0.0)  # a piece of the source sounds low
    monkeypatch.setattr(FragmentHead, "of", classmethod(lambda cls, name: head if name == "cello" else None))

    def start(weight: float, source: str = "cello") -> torch.Tensor:
        options = NMFOptions(components=2, start="tagged", share_temperature=0.0, register_weight=0.0,
                             fragment_weight=weight)
        space = NMFLatent(mono, rate, options, sources=(source,), hear=undecided)
        parts = space.components()
        low = max(range(2), key=lambda k: float(torch.fft.rfft(parts[k]).abs()[:1000].pow(2).sum()
                                                 / torch.fft.rfft(parts[k]).abs().pow(2).sum()))
        return space.gains()[0, :, 0].detach(), low

    gains, low = start(0.5)
    assert gains[low] > gains[1 - low] + 0.3
    for gains, _ in (start(0.0), start(0.5, source="violin")):  # no weight, or no head for the source
        torch.testing.assert_close(gains, torch.full_like(gains, float(gains[0])))


def test_a_negative_weight_or_temperature_of_the_labelling_is_refused():
    with pytest.raises(TagboxError, match="fragment_weight must be 0 .no learned head. or more, got -0.5"):
        NMFOptions(fragment_weight=-0.5)
    with pytest.raises(TagboxError, match="share_temperature must be 0 .no sharing. or more, got -0.1"):
        NMFOptions(share_temperature=-0.1)
    with pytest.raises(TagboxError, match="register_weight must be 0 .no register. or more, got -1"):
        NMFOptions(register_weight=-1)
