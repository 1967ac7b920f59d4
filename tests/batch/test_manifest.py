import json
from pathlib import Path

import pytest

from tagbox.batch import Job, Manifest, load_manifest
from tagbox.errors import TagboxError


def test_manifest_grows_as_files_finish_and_stays_valid(tmp_path):
    path = tmp_path / "out" / "manifest.json"
    jobs = [Job(tmp_path / name, [{"x": tmp_path / "out" / name}], [{"x": tmp_path / "out" / name}]) for name in ("a.wav", "b.wav")]
    manifest = Manifest(path, "separate", {"steps": 3}, jobs)
    manifest.write()
    assert [entry["status"] for entry in load_manifest(path)["files"]] == ["pending", "pending"]
    manifest.record(jobs[1], {"status": "failed", "error": "bad"})
    data = load_manifest(path)
    assert [entry["status"] for entry in data["files"]] == ["pending", "failed"]
    assert data["files"][0]["outputs"] == {"x": "a.wav"} and data["settings"] == {"steps": 3}
    manifest.finish({"done": 0}, interrupted=True)
    assert load_manifest(path)["interrupted"] and not list(path.parent.glob(".*.tmp"))


def test_skipped_files_keep_the_earlier_record(tmp_path):
    path = tmp_path / "manifest.json"
    (tmp_path / "a").write_bytes(b"x")
    job = Job(tmp_path / "a.wav", [{"drums": tmp_path / "a"}], [{"drums": tmp_path / "a"}])
    first = Manifest(path, "separate", {}, [job])
    first.record(job, {"status": "done", "sources": {"drums": {"probability_after": 0.5}}})
    job.todo = []
    second = Manifest(path, "separate", {}, [job])
    [entry] = second.data["files"]
    assert entry["status"] == "skipped" and entry["sources"] == {"drums": {"probability_after": 0.5}}


def test_other_json_is_not_a_manifest(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"files": []}))
    with pytest.raises(TagboxError, match="not a tagbox manifest"):
        load_manifest(tmp_path / "m.json")


def done(sources: dict) -> dict:
    return {"status": "done", "sources": sources, "seconds": 1.0, "error": None}


def job_writing(tmp_path, name: str, *groups: list[str], todo: bool = True) -> Job:
    """A job for ``<name>.wav`` writing ``groups`` of stems into ``tmp_path/<name>/``."""
    paths = [{stem: tmp_path / name / f"{stem}.wav" for stem in group} for group in groups]
    return Job(tmp_path / f"{name}.wav", paths, paths if todo else [])


def test_the_manifest_grows_across_batches(tmp_path):
    path = tmp_path / "manifest.json"
    a, b = job_writing(tmp_path, "a", ["drums", "no_drums"]), job_writing(tmp_path, "b", ["drums", "no_drums"])
    Manifest(path, "separate", {}, [a]).record(a, done({"drums": {"p": 0.5}}))
    Manifest(path, "separate", {}, [b]).record(b, done({"drums": {"p": 0.7}}))
    assert [(Path(f["input"]).name, f["sources"]) for f in load_manifest(path)["files"]] == [
        ("a.wav", {"drums": {"p": 0.5}}), ("b.wav", {"drums": {"p": 0.7}})]
    again = job_writing(tmp_path, "a", ["drums", "no_drums"], todo=False)  # finished: skipped
    Manifest(path, "separate", {}, [again]).write()
    a_entry, b_entry = load_manifest(path)["files"]
    assert a_entry["status"] == "skipped" and a_entry["sources"] == {"drums": {"p": 0.5}} and b_entry["status"] == "done"


def test_a_later_batch_of_one_input_adds_to_its_record_and_replaces_what_it_rewrites(tmp_path):
    path = tmp_path / "manifest.json"
    first = job_writing(tmp_path, "a", ["drums", "violin", "rest"])
    Manifest(path, "separate", {}, [first]).record(first, done({"drums": {"p": 0.1}, "violin": {"p": 0.2}}))
    bass = job_writing(tmp_path, "a", ["bass", "no_bass"])
    Manifest(path, "separate", {}, [bass]).record(bass, done({"bass": {"p": 0.3}}))
    [entry] = load_manifest(path)["files"]
    assert entry["groups"] == [["drums", "violin", "rest"], ["bass", "no_bass"]]
    assert entry["sources"] == {"drums": {"p": 0.1}, "violin": {"p": 0.2}, "bass": {"p": 0.3}}
    forced = job_writing(tmp_path, "a", ["drums", "piano", "rest"])
    forced.replaces = [[tmp_path / "a" / "violin.wav"]]
    Manifest(path, "separate", {}, [forced]).record(forced, done({"drums": {"p": 0.4}, "piano": {"p": 0.5}}))
    [entry] = load_manifest(path)["files"]
    assert entry["groups"] == [["bass", "no_bass"], ["drums", "piano", "rest"]]
    assert entry["sources"] == {"bass": {"p": 0.3}, "drums": {"p": 0.4}, "piano": {"p": 0.5}}
    assert set(entry["outputs"]) == {"bass", "no_bass", "drums", "piano", "rest"}


def test_an_input_whose_files_another_rewrote_loses_them_from_the_record(tmp_path):
    path = tmp_path / "manifest.json"
    a = Job(tmp_path / "a.wav", [{"drums": tmp_path / "drums.wav"}], [{"drums": tmp_path / "drums.wav"}])
    Manifest(path, "separate", {}, [a]).record(a, done({"drums": {"p": 0.5}}))
    b = Job(tmp_path / "b.wav", a.groups, a.groups)  # --force onto a's file
    manifest = Manifest(path, "separate", {}, [b])
    manifest.record(b, {"status": "failed", "error": "bad"})
    assert [Path(f["input"]).name for f in load_manifest(path)["files"]] == ["a.wav", "b.wav"]  # a's file is intact
    manifest.record(b, done({"drums": {"p": 0.9}}))
    assert [Path(f["input"]).name for f in load_manifest(path)["files"]] == ["b.wav"]
