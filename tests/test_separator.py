import math

import pytest
import torch

from tagbox import generators
from tagbox.apply import segment_starts
from tagbox.errors import AudioError, TagboxError, UnknownNameError
from tagbox.latents import LATENTS
from tagbox.masks import STFT, ratio_mask
from tagbox.objectives import build_target
from tagbox.resample import resample
from tagbox.separator import Separator
from tagbox.sources import refine_steps
from tagbox.steering import steering_loss
from tagbox.taggers import frame, load_tagger


def music(sample_rate: int = 16000, seconds: float = 2.0, channels: int = 1, seed: int = 0) -> torch.Tensor:
    """Two tones and a click train: something with structure for the NMF and the taggers."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(sample_rate * seconds)) / sample_rate
    tone = 0.3 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 660 * t * (1 + 0.01 * t))
    clicks = (torch.rand(t.shape, generator=g) * (torch.remainder(t, 0.25) < 0.01)) * 0.5
    mono = tone + clicks + 0.01 * torch.randn(t.shape, generator=g)
    return torch.stack([mono * (1 - 0.2 * c) for c in range(channels)])


# Each latent's settings that keep a test fast.
# The steering tests start nmf flat (every gain at init_gain), so that steps are all that moves it.
FAST_LATENT = {"nmf": {"components": 4, "start": "flat"}, "mask": {}, "vqvae": {"generator": "debug-tiny"}}


def fast(**options) -> Separator:
    latent = options.setdefault("latent", "nmf")
    defaults = dict(taggers=["debug-tiny"], steps=3, progress=False, **FAST_LATENT.get(latent, {}))
    return Separator(**{**defaults, **options})


@pytest.mark.parametrize("latent", ["nmf", "mask", "vqvae"])
def test_target_and_residual_sum_to_the_mixture(latent):
    x = music(44100, 1.0)
    result = fast(latent=latent).separate_tensor(x, sample_rate=44100, source="drums")
    assert result.target.shape == x.shape
    torch.testing.assert_close(result.target + result.residual, x)
    assert len(result.history) == 3 and all(math.isfinite(h["loss"]) for h in result.history)
    assert not torch.allclose(result.target, torch.zeros_like(x))


def test_everything_after_the_audio_is_keyword_only(tmp_path):
    separator = fast()
    with pytest.raises(TypeError):
        separator.separate_tensor(music(), 16000, "drums")
    with pytest.raises(TypeError):
        separator.separate_joint(music(), 16000, ["drums", "violin"])
    with pytest.raises(TypeError):
        separator.separate_file(tmp_path / "song.wav", "drums")
    with pytest.raises(TypeError):
        separator.stream_file(tmp_path / "song.wav", ["drums"], print)


def test_seeded_runs_are_deterministic_and_seeds_matter():
    x = music()
    a = fast(seed=1).separate_tensor(x, sample_rate=16000, source="drums").target
    b = fast(seed=1).separate_tensor(x, sample_rate=16000, source="drums").target
    c = fast(seed=2).separate_tensor(x, sample_rate=16000, source="drums").target
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("sample_rate,channels", [(22050, 2), (48000, 2), (44100, 1)])
@pytest.mark.parametrize("latent", ["nmf", "vqvae"])
def test_any_rate_and_channel_count_round_trips(sample_rate, channels, latent):
    x = music(sample_rate, 1.0, channels)
    result = fast(latent=latent, steps=1).separate_tensor(x, sample_rate=sample_rate, source="drums")
    assert result.target.shape == x.shape and result.sample_rate == sample_rate
    torch.testing.assert_close(result.target + result.residual, x)


def test_segments_cross_fade_back_to_the_whole():
    """With (next to) no steering the NMF mask is the initial gain everywhere, across segment joins too."""
    x = music(16000, 3.0)
    separator = fast(steps=1, lr=1e-9, segment=1.0, overlap=0.25, components=4)
    result = separator.separate_tensor(x, sample_rate=16000, source="drums")
    torch.testing.assert_close(result.target, 0.99 * x, atol=1e-4, rtol=1e-3)


def test_segments_each_get_their_own_steering():
    history = fast(steps=2, segment=1.0, overlap=0.5).separate_tensor(music(16000, 2.0), sample_rate=16000, source="drums").history
    assert sorted({h["segment"] for h in history}) == [0, 1, 2]


def test_absent_source_gives_silence_and_says_so():
    x = music()
    result = fast(absent_threshold=1.0).separate_tensor(x, sample_rate=16000, source="violin")
    assert result.absent and torch.count_nonzero(result.target) == 0
    torch.testing.assert_close(result.residual, x)
    assert any("silence" in w for w in result.warnings)
    assert not fast(absent_threshold=0.0).separate_tensor(x, sample_rate=16000, source="violin").absent


def test_no_mask_returns_the_generator_audio():
    x = music(44100, 0.5)
    result = fast(latent="vqvae", mask=False, steps=1).separate_tensor(x, sample_rate=44100, source="drums")
    torch.testing.assert_close(result.target + result.residual, x)
    assert not torch.allclose(result.target, x, atol=1e-3)


@pytest.mark.parametrize(
    "wav,error",
    [
        (torch.full((1, 16000), float("nan")), AudioError),
        (torch.zeros(1, 16000), AudioError),
        (torch.zeros(1, 1, 16000) + 0.1, TagboxError),
        (torch.zeros(1, 0), AudioError),
    ],
)
def test_bad_audio_is_refused(wav, error):
    with pytest.raises(error):
        fast().separate_tensor(wav, sample_rate=16000, source="drums")


def test_bad_names_are_refused():
    with pytest.raises(UnknownNameError):
        fast().separate_tensor(music(), sample_rate=16000, source="kazoo-orchestra")
    with pytest.raises(TagboxError, match="excluded"):
        fast(exclude=["drums"], objective="focused").separate_tensor(music(), sample_rate=16000, source="drums")
    with pytest.raises(UnknownNameError):
        fast(latent="wavelets")
    with pytest.raises(UnknownNameError):
        fast(taggers=["no-such-tagger"])


def test_short_audio_fills_tagger_windows_by_wrapping_or_padding(caplog):
    x = music(16000, 0.5)  # the debug tagger's window is 1 s
    with caplog.at_level("DEBUG", logger="tagbox.separator"):
        wrapped = fast().separate_tensor(x, sample_rate=16000, source="drums")
        padded = fast(short_audio="pad").separate_tensor(x, sample_rate=16000, source="drums")
    notes = [record for record in caplog.records if "tagger window" in record.getMessage()]
    assert ["repeating it" in r.getMessage() for r in notes] == [True, False] and {r.levelname for r in notes} == {"DEBUG"}
    assert not any("tagger window" in w for w in [*wrapped.warnings, *padded.warnings])  # normal: not a warning
    assert wrapped.history[0]["loss"] != pytest.approx(padded.history[0]["loss"])
    with pytest.raises(UnknownNameError, match="short_audio"):
        fast(short_audio="loop")


def test_average_outputs_the_mean_latent_of_the_last_steps(monkeypatch):
    spaces, after_each_step = [], []

    class Recorded(LATENTS["nmf"]):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            spaces.append(self)

    monkeypatch.setitem(LATENTS, "nmf", Recorded)
    record = lambda _: after_each_step.append(spaces[-1].gain_logits.detach().clone())  # noqa: E731
    averaged = fast(steps=4, average=3, callback=record).separate_tensor(music(), sample_rate=16000, source="drums")
    torch.testing.assert_close(spaces[-1].gain_logits.detach(), torch.stack(after_each_step[-3:]).mean(0))
    last = fast(steps=4, callback=record).separate_tensor(music(), sample_rate=16000, source="drums")
    assert not torch.allclose(averaged.target, last.target)
    with pytest.raises(TagboxError, match="average"):
        fast(steps=3, average=4)


def test_taggers_per_step_asks_a_random_subset_of_the_ensemble(monkeypatch):
    heard, calls_after_step = [], []
    separator = fast(taggers=["debug-tiny", "debug-tiny-jamendo"], steps=12, taggers_per_step=1,
                     callback=lambda record: calls_after_step.append(len(heard)))
    for tagger in separator.ensemble.taggers:
        monkeypatch.setattr(tagger, "forward", lambda x, t=tagger, f=tagger.forward: heard.append(t.id) or f(x))
    separator.separate_tensor(music(), sample_rate=16000, source="drums")
    assert calls_after_step == list(range(1, 13))  # one tagger call per step
    assert set(heard[:12]) == {"debug-tiny", "debug-tiny-jamendo"}
    with pytest.raises(TagboxError, match="taggers_per_step"):
        fast(taggers_per_step=0)


def test_a_warning_is_logged_once_per_separator_but_kept_in_every_result(caplog):
    separator = fast()
    with caplog.at_level("WARNING", logger="tagbox.separator"):
        results = [separator.separate_joint(music(16000, 1.0), sample_rate=16000, sources=["drums", "violin", "flute", "piano"])
                   for _ in range(2)]
    assert all(any("share 4 NMF components" in w for w in r["drums"].warnings) for r in results)
    assert sum("share 4 NMF components" in record.getMessage() for record in caplog.records) == 1


def test_each_source_of_a_joint_request_keeps_its_own_steps_and_warnings(monkeypatch):
    from tagbox import separator as module

    monkeypatch.setattr(module, "weak_recognition_warning", lambda taggers, source: f"{source} is weak" if source == "piano" else None)
    results = fast(steps=None, start="tagged", components=4, runs=1, competitors="none").separate_joint(
        music(16000, 1.0), sample_rate=16000, sources=["drums", "piano"])
    drums, piano = results["drums"], results["piano"]
    assert len(drums.history) == refine_steps("drums") and piano.history == []  # piano takes no step
    assert [h["step"] for h in drums.history] == list(range(refine_steps("drums")))
    assert "piano is weak" in piano.warnings and "piano is weak" not in drums.warnings
def test_judge_rest_adds_the_sources_tags_in_the_rest_pushed_to_zero():
    separator = fast(windows=None)
    steered = [separator.request(["drums"]).sources[0].steered]
    target = steered[0].targets["debug-tiny"]
    tagger = separator.ensemble.taggers[0]
    estimates, rest = torch.rand(1, 1, 16000) - 0.5, torch.rand(1, 16000) - 0.5
    rng = torch.Generator().manual_seed(0)
    loss, _ = steering_loss(separator.ensemble, estimates, 16000, steered, rng, rest)
    on_estimate = target.loss(tagger(estimates[0])).mean()
    in_rest = target.probability(tagger(rest))
    expected = (on_estimate + torch.nn.functional.binary_cross_entropy(in_rest, torch.zeros_like(in_rest))) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert steering_loss(separator.ensemble, estimates, 16000, steered, rng)[0].item() == pytest.approx(on_estimate.item(), rel=1e-5)


def test_a_single_tagger_id_may_be_given_as_a_string():
    assert fast(taggers="debug-tiny").config.steering.tagger_ids == ("debug-tiny",)


def test_one_faithful_step_equals_a_step_computed_by_hand():
    sample_rate, lr, fft_sizes = 44100, 0.5, (512, 256)
    x = music(sample_rate, 0.5)
    separator = fast(
        latent="vqvae", steps=1, lr=lr, fft_sizes=fft_sizes, objective="reference",
        windows=None, output_views="last", short_audio="pad", segment=None,
    )
    result = separator.separate_tensor(x, sample_rate=sample_rate, source="drums")

    generator = generators.load("debug-tiny")
    tagger = load_tagger("debug-tiny")
    mono = x[0] / x[0].abs().max()
    length = mono.shape[-1]
    hop = generator.hop_length(0)
    padded = torch.nn.functional.pad(mono, (0, -length % hop)).reshape(1, 1, -1)
    with torch.no_grad():
        z0 = generator.encode(padded, 0)
        reconstruction = generator.decode(generator.quantise(z0, 0)[1], 0).reshape(-1)[:length]
    stfts = [STFT(n) for n in fft_sizes]

    def masks(z):
        audio = generator.decode(generator.quantise(z, 0)[1], 0).reshape(-1)[:length]
        return [ratio_mask(s(audio).abs(), s(reconstruction).abs()) for s in stfts]

    z = z0.clone().requires_grad_(True)
    estimates = torch.stack([s.inverse(m * s(reconstruction), length) for s, m in zip(stfts, masks(z))])
    audio16 = resample(estimates, sample_rate, 16000)
    windows = frame(audio16, tagger.input_length)
    probs = tagger(windows.reshape(-1, tagger.input_length)).reshape(len(stfts), -1, len(tagger.tags)).mean(1)
    target = build_target("reference", tagger.tags, tagger.vocabulary, "drums")
    loss = torch.nn.functional.binary_cross_entropy(probs, target.target.expand_as(probs))
    loss.backward()
    assert result.history[0]["loss"] == pytest.approx(loss.item(), rel=1e-5)

    z1 = z0 - lr * z.grad / (z.grad.abs() + 1e-8)  # Adam's first step
    with torch.no_grad():
        expected = stfts[-1].inverse(masks(z1)[-1] * stfts[-1](x), length)
    torch.testing.assert_close(result.target, expected, atol=1e-4, rtol=1e-3)


def test_joint_stems_and_rest_sum_to_the_mixture():
    x = music(16000, 2.0, channels=2)
    results = fast(steps=2).separate_joint(x, sample_rate=16000, sources=["drums", "violin"])
    assert set(results) == {"drums", "violin", "rest"}
    total = sum(r.target for r in results.values())
    torch.testing.assert_close(total, x, atol=1e-5, rtol=0)
    for result in results.values():
        torch.testing.assert_close(result.target + result.residual, x)


def test_joint_masks_start_as_an_even_split():
    x = music(16000, 2.0)
    # Without the range floor: violin and flute would lose what lies below their lowest notes to the rest.
    results = fast(steps=1, lr=1e-9, without="range_floor").separate_joint(
        x, sample_rate=16000, sources=["drums", "violin", "flute"])
    for name in ("drums", "violin", "flute", "rest"):
        torch.testing.assert_close(results[name].target, x / 4, atol=1e-4, rtol=1e-3)


def test_more_sources_than_the_components_can_give_are_warned_about():
    x = music(16000, 2.0)
    crowded = fast(steps=1).separate_joint(x, sample_rate=16000, sources=["drums", "violin", "flute", "piano"])
    assert any("share 4 NMF components" in w and "at least 5" in w for w in crowded["drums"].warnings)
    fitting = fast(steps=1).separate_joint(x, sample_rate=16000, sources=["drums", "violin", "flute"])
    assert not any("NMF components" in w for w in fitting["drums"].warnings)


def test_joint_needs_distinct_sources_and_the_nmf_latent():
    with pytest.raises(TagboxError, match="twice"):
        fast().separate_joint(music(), sample_rate=16000, sources=["drums", "drums"])
    with pytest.raises(TagboxError, match="nmf"):
        fast(latent="mask").separate_joint(music(), sample_rate=16000, sources=["drums", "violin"])


def test_gain_jitter_changes_what_the_taggers_hear_but_not_the_contract():
    x = music()
    plain = fast(steps=2).separate_tensor(x, sample_rate=16000, source="drums")
    jittered = fast(steps=2, gain_jitter=6.0).separate_tensor(x, sample_rate=16000, source="drums")
    assert plain.history[0]["loss"] != jittered.history[0]["loss"]
    torch.testing.assert_close(jittered.target + jittered.residual, x)


def test_the_default_ensemble_adds_taggers_that_can_name_a_source_it_cannot(caplog):
    """MTAT has no bass tag: the default adds the Jamendo pair for bass only; other sources keep MTAT."""
    separator = Separator(steps=1, progress=False)
    x = music(16000, 1.0)
    bass = separator.separate_tensor(x, sample_rate=16000, source="bass")
    assert "adding jamendo-musicnn, jamendo-fcn" in caplog.text
    assert {t.id for t in separator.ensemble.taggers} >= {"jamendo-musicnn", "jamendo-fcn"}
    assert 0 <= bass.probability_before <= 1
    steered = separator.request(["drums"]).sources[0].steered
    assert set(steered.targets) == {"mtat-musicnn", "mtat-fcn"}


def test_chosen_taggers_are_not_extended_and_the_error_names_taggers_that_can():
    separator = Separator(taggers="mtat-musicnn", steps=1, progress=False)
    with pytest.raises(TagboxError, match="taggers that can: jamendo-fcn, jamendo-musicnn, jamendo-crnn$"):
        separator.separate_tensor(music(16000, 1.0), sample_rate=16000, source="bass")


def test_integer_and_samples_first_arrays_separate_like_their_float_channels_first_equal():
    x = music(16000, 1.0, channels=2)
    ints = (x * 32767).round().to(torch.int16)
    reference = fast().separate_tensor(ints.float() / 32768, sample_rate=16000, source="drums")
    for given in (ints.numpy(), ints.numpy().T, ints.T):
        result = fast().separate_tensor(given, sample_rate=16000, source="drums")
        assert result.target.shape == x.shape
        torch.testing.assert_close(result.target, reference.target)


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(steps=0), "steps must be at least 1, got 0"),  # fast() starts flat
        (dict(start="tagged", steps=-1), "steps must be at least 0 (the start itself), got -1"),
        (dict(lr=float("nan")), "must be a positive number, got nan"),
        (dict(lr=float("inf")), "must be a positive number, got inf"),
        (dict(lr=0.0), "must be a positive number, got 0.0"),
        (dict(lr=-0.1), "must be a positive number, got -0.1"),
        (dict(device="cuda"), "device 'cuda' asked for, but CUDA is not available"),
        (dict(device="gpu"), "unknown device 'gpu'"),
    ],
)
def test_bad_settings_are_refused_before_any_model_loads(options, message, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a CPU-only torch
    monkeypatch.setattr("tagbox.taggers.ensemble.load_tagger", lambda *a, **k: pytest.fail("a tagger was loaded"))
    with pytest.raises(TagboxError) as error:
        fast(**options)
    assert message in str(error.value) and "average" not in str(error.value)


@pytest.mark.parametrize("latent,segment", [("nmf", 1.0), ("nmf", None), ("vqvae", None)])
def test_a_streamed_file_gives_what_the_tensor_api_gives(tmp_path, latent, segment):
    import soundfile as sf

    x = music(22050, 3.0, channels=2)
    path = tmp_path / "song.wav"
    sf.write(path, x.T.numpy(), 22050, subtype="FLOAT")
    separator = fast(latent=latent, segment=segment, overlap=0.25)
    regions = []
    [streamed] = separator.stream_file(path, sources=["drums"], sink=lambda offset, region: regions.append((offset, region)))
    expected = separator.separate_tensor(x, sample_rate=22050, source="drums")
    starts, _ = segment_starts(x.shape[-1], 22050, segment, 0.25)
    assert [offset for offset, _ in regions] == starts and len(starts) == (4 if segment else 1)  # one per segment
    torch.testing.assert_close(torch.cat([r for _, r in regions], -1)[0], expected.target, rtol=0, atol=0)
    assert streamed.target is None and streamed.residual is None
    assert (streamed.probability_before, streamed.probability_after) == (
        expected.probability_before, expected.probability_after)


def test_streaming_several_sources_needs_the_joint_latent(tmp_path):
    with pytest.raises(TagboxError, match="nmf"):
        fast(latent="mask").stream_file(tmp_path / "unread.wav", sources=["drums", "violin"], sink=print)


def test_a_tagged_start_separates_without_a_step_and_counts_segments(capsys):
    x = music(16000, 2.0)
    separator = Separator(taggers="debug-tiny", steps=0, start="tagged", components=4, segment=1.0, progress=True)
    result = separator.separate_tensor(x, sample_rate=16000, source="drums")
    assert result.history == []
    assert not torch.allclose(result.target, x, atol=1e-3)  # an estimate, not the mixture
    torch.testing.assert_close(result.target + result.residual, x)
    assert "segment" in capsys.readouterr().err


def test_sources_whose_tags_overlap_can_be_separated_together():
    x = music(16000, 2.0)
    separator = Separator(taggers="debug-tiny", steps=1, components=4, progress=False)
    results = separator.separate_joint(x, sample_rate=16000, sources=["strings", "cello"])
    assert list(results) == ["strings", "cello", "rest"]
    torch.testing.assert_close(sum(r.target for r in results.values()), x, atol=1e-4, rtol=0)


def test_unset_steps_refine_from_the_tagged_start_only_the_sources_listed():
    x = music(16000, 1.0)
    separator = Separator(taggers="debug-tiny", start="tagged", components=4, runs=1, competitors=(), progress=False)
    drums = separator.separate_tensor(x, sample_rate=16000, source="drums")
    violin = separator.separate_tensor(x, sample_rate=16000, source="violin")
    assert len(drums.history) == refine_steps("drums") and violin.history == []
    joint = separator.separate_joint(x, sample_rate=16000, sources=["violin", "drums"])
    assert len(joint["drums"].history) == refine_steps("drums")


def test_a_competitor_the_taggers_hear_is_steered_beside_the_request_and_not_returned():
    x = music(16000, 1.0)
    heard = Separator(taggers="debug-tiny", components=4, runs=1, progress=False)  # debug-tiny hears drums at p ~0.5
    violin = heard.separate_tensor(x, sample_rate=16000, source="violin")
    assert violin.history == []  # the competitor's steps are its own, not the violin's
    torch.testing.assert_close(violin.target + violin.residual, x.reshape(1, -1), atol=1e-4, rtol=0)
    unheard = Separator(taggers="debug-tiny", components=4, runs=1, competitor_threshold=0.99, progress=False)
    alone = unheard.separate_tensor(x, sample_rate=16000, source="violin")
    none = Separator(taggers="debug-tiny", components=4, runs=1, competitors="none", progress=False)
    assert alone.history == [] and torch.equal(alone.target, none.separate_tensor(x, sample_rate=16000, source="violin").target)
    assert not torch.equal(alone.target, violin.target)


def test_runs_average_the_estimates_of_successive_seeds():
    x = music(16000, 1.0)
    one, other = (fast(seed=seed).separate_tensor(x, sample_rate=16000, source="drums") for seed in (3, 4))
    both = fast(seed=3, runs=2).separate_tensor(x, sample_rate=16000, source="drums")
    assert not torch.allclose(one.target, other.target)
    torch.testing.assert_close(both.target, (one.target + other.target) / 2, atol=1e-5, rtol=0)
    assert [(h["run"], h["step"]) for h in both.history] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_an_instruments_estimate_holds_nothing_below_its_lowest_note():
    t = torch.arange(32000) / 16000
    x = (0.5 * torch.sin(2 * math.pi * 100 * t) + 0.3 * torch.sin(2 * math.pi * 440 * t))[None]  # under and above G3

    def at_100_hz(audio: torch.Tensor) -> float:
        return (torch.fft.rfft(audio[0]).abs()[200] / 16000).item()  # 2 s: bin 200 is 100 Hz

    bounded = fast(start="tagged", steps=0).separate_tensor(x, sample_rate=16000, source="violin")
    unbounded = fast(start="tagged", steps=0, without="range_floor").separate_tensor(x, sample_rate=16000, source="violin")
    assert at_100_hz(bounded.target) < 0.01 * at_100_hz(x) < at_100_hz(unbounded.target)
    torch.testing.assert_close(bounded.target + bounded.residual, x)
