"""The runner: caching and resuming, failures that skip instead of abort, the fooling flag."""

from __future__ import annotations

import pytest

from tagbox.evaluation import runner
from tagbox.evaluation.methods import MethodSpec
from tagbox.evaluation.runner import EvalPlan, run_evaluation
from tests.evaluation.helpers import clicks, tone, write_dataset, write_track

MIXTURE = MethodSpec("mixture", "mixture")
ORACLE = MethodSpec("oracle", "oracle")
TRACKS = {"track_a": ("drums", "organ"), "track_b": ("drums", "organ")}


def plan_for(tmp_path, *methods, **options) -> EvalPlan:
    data, cache = str(tmp_path / "data"), str(tmp_path / "cache")
    return EvalPlan(root=data, layout="folder", methods=methods, cache_dir=cache, bss=False, **options)


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
    assert whole.result_key("t", "drums", MIXTURE) != excerpt.result_key("t", "drums", MIXTURE)
    renamed = MethodSpec("another name", "mixture")
    assert whole.result_key("t", "drums", MIXTURE) == whole.result_key("t", "drums", renamed)
    steps = [MethodSpec("tagbox", "tagbox", (("steps", n),)) for n in (10, 20)]
    assert whole.result_key("t", "drums", steps[0]) != whole.result_key("t", "drums", steps[1])


def test_broken_track_is_reported_and_skipped(tmp_path, caplog):
    write_dataset(tmp_path / "data")
    write_track(tmp_path / "data", "broken", {"organ": tone(), "drums": clicks(seconds=1.0)}, mixture=tone())
    report = run_evaluation(plan_for(tmp_path, MIXTURE), {**TRACKS, "broken": ("drums", "organ")}, progress=False)
    assert len(report.records) == 4
    assert [f["track"] for f in report.failures] == ["broken"]
    assert "stems differ from the mixture" in report.failures[0]["error"]
    assert "skipped broken" in caplog.text


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

    def target_probability(self, audio, sample_rate, source):
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
    plan = EvalPlan(str(tmp_path / "data"), "folder", (MIXTURE,), str(tmp_path / "cache2"), bss=False)
    parallel = run_evaluation(plan, TRACKS, jobs=2, progress=False)
    assert parallel.computed == 4
    key = lambda r: (r["track"], r["source"])  # noqa: E731
    assert [r["si_sdr"] for r in sorted(parallel.records, key=key)] == pytest.approx(
        [r["si_sdr"] for r in sorted(serial.records, key=key)]
    )
