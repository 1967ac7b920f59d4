"""The runner: caching and resuming, failures that skip instead of abort, the fooling flag."""

from __future__ import annotations

import numpy as np
import pytest

from tagbox.evaluation import runner
from tagbox.evaluation.methods import Estimate, MethodSpec
from tagbox.evaluation.runner import EvalPlan, run_evaluation
from tagbox.evaluation.selection import DatasetRoot
from tests.evaluation.helpers import clicks, tone, write_dataset, write_track

MIXTURE = MethodSpec("mixture", "mixture")
ORACLE = MethodSpec("oracle", "oracle")
TRACKS = {"data/track_a": ("drums", "organ"), "data/track_b": ("drums", "organ")}


def plan_for(tmp_path, *methods, cache="cache", **options) -> EvalPlan:
    roots = (DatasetRoot("data", str(tmp_path / "data"), "folder"),)
    return EvalPlan(roots=roots, methods=methods, cache_dir=str(tmp_path / cache), bss=False, **options)


def test_second_run_reads_the_cache_and_loads_no_audio(tmp_path, monkeypatch):
    write_dataset(tmp_path / "data")
    plan = plan_for(tmp_path, MIXTURE, ORACLE)
    first = run_evaluation(plan, TRACKS, progress=False)
    assert first.computed == 8 and not first.failures
    assert {(r["track"], r["source"], r["method"]) for r in first.records} == {
        (t, s, m) for t in TRACKS for s in ("drums", "organ") for m in ("mixture", "oracle")
    }
    assert all(r["si_sdri"] == 0.0 for r in first.records if r["method"] == "mixture")

    def no_loading(*args, **kwargs):
        raise AssertionError("a cached track was loaded")

    monkeypatch.setattr(runner, "load_track", no_loading)
    second = run_evaluation(plan, TRACKS, progress=False)
    assert second.computed == 0
    assert sorted(second.records, key=str) == sorted(first.records, key=str)


def test_interrupted_run_resumes_with_only_the_missing_results(tmp_path):
    write_dataset(tmp_path / "data")
    run_evaluation(plan_for(tmp_path, MIXTURE), TRACKS, progress=False)
    resumed = run_evaluation(plan_for(tmp_path, MIXTURE, ORACLE), TRACKS, progress=False)
    assert resumed.computed == 4 and len(resumed.records) == 8


def test_excerpt_and_method_options_are_part_of_the_cache_key(tmp_path):
    whole, excerpt = plan_for(tmp_path, MIXTURE), plan_for(tmp_path, MIXTURE, duration=1.0)
    assert whole.result_key("data/t", "drums", MIXTURE) != excerpt.result_key("data/t", "drums", MIXTURE)
    renamed = MethodSpec("another name", "mixture")
    assert whole.result_key("data/t", "drums", MIXTURE) == whole.result_key("data/t", "drums", renamed)
    steps = [MethodSpec("tagbox", "tagbox", (("steps", n),)) for n in (10, 20)]
    assert whole.result_key("data/t", "drums", steps[0]) != whole.result_key("data/t", "drums", steps[1])
    seeds = [MethodSpec("tagbox", "tagbox", (), seed) for seed in (0, 1)]
    assert whole.result_key("data/t", "drums", seeds[0]) != whole.result_key("data/t", "drums", seeds[1])
    assert whole.result_key("data/t", "drums", seeds[0]) != whole.result_key("data/t", "drums", seeds[0], False)


def test_broken_track_is_reported_and_skipped(tmp_path, caplog):
    write_dataset(tmp_path / "data")
    write_track(tmp_path / "data", "broken", {"organ": tone(), "drums": clicks(seconds=1.0)}, mixture=tone())
    report = run_evaluation(plan_for(tmp_path, MIXTURE), {**TRACKS, "data/broken": ("drums", "organ")}, progress=False)
    assert len(report.records) == 4
    assert [f["track"] for f in report.failures] == ["data/broken"]
    assert "stems differ from the mixture" in report.failures[0]["error"]
    assert "skipped data/broken" in caplog.text


def test_failing_method_is_skipped_and_not_cached(tmp_path, monkeypatch):
    write_dataset(tmp_path / "data")
    failing = MethodSpec("tagbox", "tagbox")
    monkeypatch.setattr(runner, "_method", lambda spec, device: runner.build_method(MIXTURE) if spec == MIXTURE else _raise)
    report = run_evaluation(plan_for(tmp_path, MIXTURE, failing), TRACKS, progress=False)
    assert len(report.records) == 4 and len(report.failures) == 4
    assert {f["method"] for f in report.failures} == {"tagbox"}
    again = run_evaluation(plan_for(tmp_path, MIXTURE, failing), TRACKS, progress=False)
    assert len(again.failures) == 4  # retried, not remembered


def _raise(*args):
    raise RuntimeError("separator exploded")


class FakeProbe:
    """Rates anything but the true stem as very likely the target."""

    def __init__(self, stems):
        self.stems = stems

    def __call__(self, audio, sample_rate, source):
        return 0.3 if any(audio is stem for stem in self.stems) else 0.9


def test_tag_probabilities_of_estimate_and_true_stem_are_recorded(tmp_path, monkeypatch):
    write_dataset(tmp_path / "data")
    stems = []
    load = runner.load_track

    def load_and_remember(*args):
        track = load(*args)
        stems.extend(track.stems.values())
        return track

    monkeypatch.setattr(runner, "load_track", load_and_remember)
    monkeypatch.setattr(runner, "_probe", lambda tagger_ids, device: FakeProbe(stems))
    report = run_evaluation(plan_for(tmp_path, MIXTURE, ORACLE, taggers=("fake",)), TRACKS, progress=False)
    assert {r["method"] for r in report.records} == {"mixture", "oracle"}
    assert all(r["p_stem"] == 0.3 and r["p_estimate"] == 0.9 for r in report.records)


def test_worker_processes_give_the_same_results(tmp_path):
    write_dataset(tmp_path / "data")
    serial = run_evaluation(plan_for(tmp_path, MIXTURE), TRACKS, progress=False)
    parallel = run_evaluation(plan_for(tmp_path, MIXTURE, cache="cache2"), TRACKS, jobs=2, progress=False)
    assert parallel.computed == 4
    key = lambda r: (r["track"], r["source"])  # noqa: E731
    assert [r["si_sdr"] for r in sorted(parallel.records, key=key)] == pytest.approx(
        [r["si_sdr"] for r in sorted(serial.records, key=key)]
    )


def fake_tagbox(spec):
    """Half the mixture, and silence (declared absent) for piano; the seed scales the estimate."""

    def run(mixture, sample_rate, source, track):
        if source == "piano":
            return Estimate(np.zeros_like(mixture), {"absent": True, "absent_threshold": 0.02})
        return Estimate((0.5 + 0.1 * spec.seed) * mixture, {"absent": False, "absent_threshold": 0.02})

    return run


def test_seeded_methods_run_per_seed_and_absent_sources_are_asked_of_them_only(tmp_path, monkeypatch):
    write_dataset(tmp_path / "data")
    seeded = [MethodSpec("tagbox", "tagbox", (), seed) for seed in (0, 1)]
    monkeypatch.setattr(runner, "_method", lambda spec, device: fake_tagbox(spec) if spec.kind == "tagbox" else
                        runner.build_method(spec))
    plan = plan_for(tmp_path, MIXTURE, *seeded)
    absent = {"data/track_a": ("piano", "violin")}
    report = run_evaluation(plan, TRACKS, progress=False, absent=absent)
    assert report.computed == 4 + 8 + 4 and not report.failures
    queries = [r for r in report.records if not r["present"]]
    assert sorted((r["source"], r["seed"]) for r in queries) == [("piano", 0), ("piano", 1), ("violin", 0), ("violin", 1)]
    assert all(r["track"] == "data/track_a" and "si_sdr" not in r for r in queries)
    assert [r["absent"] for r in queries if r["source"] == "piano"] == [True, True]
    assert all(r["energy_ratio"] == 0.0 for r in queries if r["source"] == "piano")
    stems = [r for r in report.records if r["present"] and r["method"] == "tagbox"]
    assert {r["seed"] for r in stems} == {0, 1} and all(r["absent"] is False for r in stems)
    again = run_evaluation(plan, TRACKS, progress=False, absent=absent)
    assert again.computed == 0 and sorted(again.records, key=str) == sorted(report.records, key=str)


def test_tracks_of_two_roots_with_the_same_name_stay_apart(tmp_path):
    write_dataset(tmp_path / "one")
    write_track(tmp_path / "two", "track_a", {"organ": tone(220.0), "drums": clicks()})
    roots = (DatasetRoot("one", str(tmp_path / "one"), "folder"), DatasetRoot("two", str(tmp_path / "two"), "folder"))
    plan = EvalPlan(roots=roots, methods=(ORACLE,), cache_dir=str(tmp_path / "cache"), bss=False)
    tracks = {"one/track_a": ("organ",), "two/track_a": ("organ",)}
    first = run_evaluation(plan, tracks, progress=False)
    assert first.computed == 2
    scores = {r["track"]: r["si_sdr"] for r in first.records}
    assert set(scores) == set(tracks) and scores["one/track_a"] != scores["two/track_a"]
    cached = {r["track"]: r["si_sdr"] for r in run_evaluation(plan, tracks, progress=False).records}
    assert cached == scores
