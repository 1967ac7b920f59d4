import pytest

from tagbox.batch import Job, Manifest, load_manifest, run_batch
from tagbox.errors import AudioError


class Squares:
    """A task that fails on files named bad* and is interrupted on files named stop*."""

    def __call__(self, job, step=None):
        if job.input.name.startswith("bad"):
            raise AudioError(f"{job.input.name} is silent")
        if job.input.name.startswith("stop"):
            raise KeyboardInterrupt
        return {"status": "done", "value": len(job.input.name) ** 2}


def jobs(tmp_path, *names):
    return [Job(tmp_path / name) for name in names]


def test_a_bad_file_is_reported_and_the_batch_goes_on(tmp_path, capsys):
    batch = jobs(tmp_path, "a.wav", "bad.wav", "ccc.wav")
    manifest = Manifest(tmp_path / "m.json", "test", {}, batch)
    summary = run_batch(batch, Squares(), manifest=manifest, progress=False)
    assert (summary.done, summary.failed, summary.skipped) == (2, 1, 0)
    assert capsys.readouterr().err.strip() == f"tagbox: error: {tmp_path / 'bad.wav'}: bad.wav is silent"
    files = load_manifest(tmp_path / "m.json")["files"]
    assert [(f["status"], f.get("value"), f["error"]) for f in files] == [
        ("done", 25, None), ("failed", None, "bad.wav is silent"), ("done", 49, None)]


def test_an_interrupt_leaves_a_manifest_of_what_finished(tmp_path):
    batch = jobs(tmp_path, "a.wav", "stop.wav", "c.wav")
    manifest = Manifest(tmp_path / "m.json", "test", {}, batch)
    with pytest.raises(KeyboardInterrupt):
        run_batch(batch, Squares(), manifest=manifest, progress=False)
    data = load_manifest(tmp_path / "m.json")
    assert data["interrupted"] and data["summary"]["done"] == 1
    assert [f["status"] for f in data["files"]] == ["done", "pending", "pending"]


def test_worker_processes_give_the_same_results(tmp_path):
    batch = jobs(tmp_path, "a.wav", "bad.wav", "ccc.wav")
    serial, parallel = (Manifest(tmp_path / f"{name}.json", "test", {}, batch) for name in ("s", "p"))
    run_batch(batch, Squares(), manifest=serial, progress=False)
    summary = run_batch(batch, Squares(), manifest=parallel, progress=False, backend="processes", workers=2)
    assert (summary.done, summary.failed) == (2, 1)
    strip = [{k: v for k, v in f.items() if k not in ("time", "seconds")} for f in serial.data["files"]]
    assert strip == [{k: v for k, v in f.items() if k not in ("time", "seconds")} for f in parallel.data["files"]]
