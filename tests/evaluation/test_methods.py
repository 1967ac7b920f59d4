"""Methods on synthetic mixtures whose right answer is obvious."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tagbox.errors import UnknownNameError
from tagbox.evaluation.datasets import Track
from tagbox.evaluation.methods import (
    MethodSpec,
    build_method,
    hpss_candidates,
    oracle_choice,
    repet_candidates,
)
from tagbox.metrics import si_sdr
from tests.evaluation.helpers import RATE, clicks, noise_bursts, tone, two_source_track


def run(kind: str, track: Track, source: str, **options) -> np.ndarray:
    method = build_method(MethodSpec(kind, kind, tuple(options.items())))
    return method(track.mixture, track.sample_rate, source, track).audio


def test_mixture_is_the_identity():
    track = two_source_track(tone(), noise_bursts())
    assert run("mixture", track, "organ") is track.mixture


def test_silence_is_all_zeros_of_the_mixtures_shape():
    track = two_source_track(tone(), noise_bursts())
    silence = run("silence", track, "organ")
    assert silence.shape == track.mixture.shape and not np.any(silence)


def test_oracle_mask_beats_the_mixture():
    track = two_source_track(tone(), noise_bursts())
    for source, stem in track.stems.items():
        estimate = run("oracle", track, source)
        assert estimate.shape == track.mixture.shape
        assert si_sdr(stem, estimate) > si_sdr(stem, track.mixture) + 10


def test_hpss_oracle_choice_picks_percussive_for_clicks_and_harmonic_for_a_tone():
    track = two_source_track(tone(), clicks())
    parts = hpss_candidates(track.mixture, RATE)
    assert oracle_choice(parts, track.stems["drums"]) == "percussive"
    assert oracle_choice(parts, track.stems["organ"]) == "harmonic"
    np.testing.assert_array_equal(run("hpss", track, "drums"), parts["percussive"])
    method = build_method(MethodSpec("hpss", "hpss"))
    assert method(track.mixture, RATE, "organ", track).info == {"choice": "harmonic"}


def test_repet_splits_into_two_parts_of_the_mixture_shape():
    track = two_source_track(tone(), clicks())
    parts = repet_candidates(track.mixture, RATE)
    assert set(parts) == {"foreground", "background"}
    assert all(part.shape == track.mixture.shape for part in parts.values())
    assert run("repet", track, "organ").shape == track.mixture.shape


class FakeSeparator:
    """Stands in for tagbox.Separator: records how it was built, returns half the mixture."""

    built: list = []

    def __init__(self, **options):
        self.built.append(options)

    @classmethod
    def from_preset(cls, preset, **overrides):
        return cls(preset=preset, **overrides)

    config = SimpleNamespace(output=SimpleNamespace(absent_threshold=0.02), steering=SimpleNamespace(taggers=None))

    def separate_tensor(self, wav, *, sample_rate, source):
        target = 0.5 * torch.as_tensor(wav)
        return SimpleNamespace(
            target=target, residual=torch.as_tensor(wav) - target, source=source,
            absent=source == "drums", probability_before=0.01, probability_after=0.3, presence=(0.2, 0.9),
        )


@pytest.fixture
def fake_separator(monkeypatch):
    # `from tagbox import Separator` resolves through the tagbox.separator module.
    monkeypatch.setitem(sys.modules, "tagbox.separator", SimpleNamespace(Separator=FakeSeparator))
    monkeypatch.setattr(FakeSeparator, "built", [])
    return FakeSeparator


def test_tagbox_method_builds_the_separator_once_from_its_options(fake_separator):
    track = two_source_track(tone(), clicks())
    method = build_method(MethodSpec("tagbox:focused", "tagbox", (("objective", "focused"), ("steps", 3)), seed=7), device="cuda")
    for source in ("organ", "drums"):
        np.testing.assert_allclose(method(track.mixture, RATE, source, track).audio, 0.5 * track.mixture)
    assert fake_separator.built == [{"progress": False, "objective": "focused", "steps": 3, "device": "cuda", "seed": 7}]


def test_tagbox_method_reports_the_separators_verdict(fake_separator):
    track = two_source_track(tone(), clicks())
    method = build_method(MethodSpec("tagbox", "tagbox"))
    organ, drums = (method(track.mixture, RATE, source, track).info for source in ("organ", "drums"))
    assert organ == {"absent": False, "p_before": 0.01, "p_after": 0.3, "presence": [0.2, 0.9], "absent_threshold": 0.02}
    assert drums["absent"] is True


def test_a_joint_tagbox_method_separates_a_tracks_nameable_stems_once_together(fake_separator, monkeypatch):
    joint_calls = []

    def separate_joint(self, wav, *, sample_rate, sources):
        joint_calls.append(list(sources))
        return {name: self.separate_tensor(wav, sample_rate=sample_rate, source=name) for name in sources}

    monkeypatch.setattr(FakeSeparator, "separate_joint", separate_joint, raising=False)
    monkeypatch.setattr(FakeSeparator, "config", SimpleNamespace(output=SimpleNamespace(absent_threshold=0.02),
                                                                 steering=SimpleNamespace(taggers=("mtat-musicnn",))))
    stems = {"drums": clicks()[None], "guitar": tone()[None], "organ": tone()[None]}  # MTAT has no organ tag
    track = Track("three", sum(stems.values()), stems, RATE)
    method = build_method(MethodSpec("tagbox:joint", "tagbox", (("joint", True),)))
    for source in ("drums", "guitar", "violin"):  # violin: absent here, asked alone
        method(track.mixture, RATE, source, track)
    assert joint_calls == [["drums", "guitar"]]
    assert fake_separator.built == [{"progress": False, "device": "cpu"}], "joint is the method's option, not a setting"
    assert MethodSpec("tagbox:joint", "tagbox", (("joint", True), ("steps", 3))).separator_config().steering.steps == 3


def test_tagbox_method_accepts_a_preset(fake_separator):
    track = two_source_track(tone(), clicks())
    run("tagbox", track, "organ", preset="faithful", steps=5)
    assert fake_separator.built == [{"preset": "faithful", "progress": False, "steps": 5, "device": "cpu"}]


def test_unknown_method_is_a_clear_error():
    with pytest.raises(UnknownNameError, match="known methods: tagbox, mixture"):
        build_method(MethodSpec("wiener", "wiener"))


def test_the_key_of_a_generator_steering_method_follows_the_generators_weights(monkeypatch):
    from tagbox import weights

    vqvae = MethodSpec("v", "tagbox", (("latent", "vqvae"),))
    faithful = MethodSpec("f", "tagbox", (("generator", "compact"), ("preset", "faithful")))
    nmf = MethodSpec("n", "tagbox", (("latent", "nmf"),))
    assert vqvae.steered_generator() == "compact" and faithful.steered_generator() == "compact"
    assert nmf.steered_generator() is None and MethodSpec("h", "hpss").steered_generator() is None
    before = [spec.key() for spec in (vqvae, faithful, nmf)]
    monkeypatch.setattr(weights, "expected_sha256", lambda model: "retrained")
    after = [spec.key() for spec in (vqvae, faithful, nmf)]
    assert after[0] != before[0] and after[1] != before[1] and after[2] == before[2]


def test_the_key_of_a_tagbox_method_follows_the_presets_and_the_engines_code(monkeypatch):
    import tagbox.config
    from tagbox.evaluation import methods

    spec = MethodSpec("n", "tagbox", (("objective", "focused"),))
    before = spec.key()
    monkeypatch.setattr(methods, "_engine_fingerprint", lambda: "other code")
    assert spec.key() != before
    before = spec.key()
    faithful = MethodSpec("f", "tagbox", (("preset", "faithful"),))
    before = faithful.key()
    monkeypatch.setitem(tagbox.config.PRESETS, "faithful", tagbox.config.PRESETS["faithful"].replace(steps=7))
    assert faithful.key() != before
    assert MethodSpec("h", "hpss").key() == {"kind": "hpss", "options": []}
    assert MethodSpec("n", "tagbox", (), seed=1).key() != MethodSpec("n", "tagbox", (), seed=2).key()


def test_the_engines_fingerprint_changes_with_its_code_and_data_but_not_with_the_cli(tmp_path):
    from tagbox.evaluation.methods import fingerprint

    for name in ("steering.py", "data/sources.json", "cli/separate.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("# one\n")
    before = fingerprint(tmp_path)
    (tmp_path / "cli/separate.py").write_text("# two\n")
    assert fingerprint(tmp_path) == before
    (tmp_path / "data/sources.json").write_text("{}\n")
    assert fingerprint(tmp_path) != before


def test_a_tagbox_method_can_name_what_its_taggers_have_tags_for():
    mtat = MethodSpec("t", "tagbox", (("taggers", ("mtat-musicnn", "mtat-fcn")),))
    assert mtat.can_name("drums") and not mtat.can_name("bass")  # MTAT has no bass tag
    assert MethodSpec("j", "tagbox", (("taggers", "jamendo-musicnn"),)).can_name("bass")
    default = MethodSpec("d", "tagbox")  # the default ensemble adds Jamendo taggers for bass
    assert default.can_name("bass") and default.can_name("drums")
    assert not default.can_name("brass_section_of_slakh")
