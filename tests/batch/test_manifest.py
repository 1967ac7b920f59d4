import json

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
    job = Job(tmp_path / "a.wav", [{"x": tmp_path / "a"}], [{"x": tmp_path / "a"}])
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
