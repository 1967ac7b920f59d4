"""Batches through a local Ray instance (2 CPUs, no dashboard) behave like local ones."""

from __future__ import annotations

import json
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tagbox.batch import Manifest, expand_inputs, plan_jobs, run_batch
from tagbox.batch.tasks import SeparateTask
from tagbox.cli import main
from tests.test_separator import music

pytest.importorskip("ray", reason="Ray is not installed (pip install 'tagbox[ray]')")
FAST = ["--tagger", "debug-tiny", "--steps", "1", "--components", "4", "-q"]


@pytest.fixture
def songs(tmp_path):
    root = tmp_path / "songs"
    root.mkdir()
    for index in range(3):
        sf.write(root / f"s{index}.wav", music(16000, 0.5, seed=index).T.numpy(), 16000)
    return root


@dataclass
class KilledOnce(SeparateTask):
    """Kills its worker process mid-file, after separating and before writing, the first time it runs."""

    marker: str = ""

    def _save(self, *args, **kwargs):
        if not Path(self.marker).exists():
            Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        super()._save(*args, **kwargs)


def outputs(folder: Path) -> dict[str, np.ndarray]:
    return {p.relative_to(folder).as_posix(): sf.read(p)[0] for p in sorted(folder.rglob("*.wav"))}


def test_ray_writes_what_a_local_run_writes_and_resumes(local_ray, songs, tmp_path):
    assert main(["separate", str(songs), "-s", "drums", "-o", str(tmp_path / "local"), *FAST]) == 0
    assert main(["separate", str(songs), "-s", "drums", "-o", str(tmp_path / "ray"), *FAST, "--ray"]) == 0
    local, remote = outputs(tmp_path / "local"), outputs(tmp_path / "ray")
    assert list(local) == list(remote) and len(local) == 6
    for name in local:
        np.testing.assert_allclose(local[name], remote[name], atol=1e-6)
    manifest = tmp_path / "ray" / "tagbox" / "manifest.json"
    assert json.loads(manifest.read_text())["settings"]["backend"] == "ray"
    (tmp_path / "ray" / "tagbox" / "s1" / "drums.wav").unlink()
    (tmp_path / "ray" / "tagbox" / "s1" / "no_drums.wav").unlink()
    assert main(["separate", str(songs), "-s", "drums", "-o", str(tmp_path / "ray"), *FAST, "--ray"]) == 0
    statuses = [entry["status"] for entry in json.loads(manifest.read_text())["files"]]
    assert statuses == ["skipped", "done", "skipped"]
    np.testing.assert_allclose(sf.read(tmp_path / "ray" / "tagbox" / "s1" / "drums.wav")[0], local["tagbox/s1/drums.wav"], atol=1e-6)


def test_a_task_killed_mid_file_is_retried(local_ray, songs, tmp_path):
    out = tmp_path / "out"
    task = KilledOnce("default", {"taggers": ["debug-tiny"], "steps": 1, "components": 4}, ("drums",),
                      marker=str(tmp_path / "killed"))
    jobs = plan_jobs(expand_inputs([songs]), lambda item: [{s: out / item.path.stem / f"{s}.wav" for s in task.groups()[0]}])
    manifest = Manifest(out / "manifest.json", "separate", {}, jobs)
    summary = run_batch(jobs, task, backend="ray", manifest=manifest, progress=False)
    assert (tmp_path / "killed").exists()
    assert (summary.done, summary.failed) == (3, 0)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.suffix == ".wav") == [
        f"s{i}/{stem}.wav" for i in range(3) for stem in ("drums", "no_drums")]
    assert not list(out.rglob(".*"))


def test_an_address_that_does_not_answer_is_one_line(songs, tmp_path, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["separate", str(songs), "-s", "drums", "-o", str(tmp_path / "o"), *FAST, f"--ray=127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"tagbox: error: no Ray cluster answers at 127.0.0.1:{port}") and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()
