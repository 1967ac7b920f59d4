"""``tagbox eval --ray`` on a local Ray instance (2 CPUs, no dashboard) gives what one process gives."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from tagbox.cli import main
from tests.evaluation.helpers import write_dataset

pytest.importorskip("ray", reason="Ray is not installed (pip install 'tagbox[ray]')")
FAST = ["--methods", "tagbox,mixture", "--config", "fast=taggers=debug-tiny-jamendo,steps=1,runs=1"]
# metric -> absolute tolerance. Ray's workers run other thread counts than one process, which sum in
# another order; the decomposition and the components' pitch carry that into the estimate, by about
# 1e-4 dB here.
NUMBERS = {"si_sdr": 1e-3, "si_sdri": 1e-3, "p_before": 1e-5, "p_after": 1e-5, "p_estimate": 1e-5, "p_stem": 1e-5,
           "energy_ratio": 1e-5}


def results(path) -> dict:
    """The records of an eval JSON by (track, source, method, seed, present)."""
    records = json.loads(path.read_text())["results"]
    return {(r["track"], r["source"], r["method"], r["seed"], r["present"]): r for r in records}


def test_ray_gives_the_results_of_one_process_and_resumes(local_ray, tmp_path):
    dataset = write_dataset(tmp_path / "data")
    one, cache = tmp_path / "one.json", tmp_path / "ray-cache"
    assert main(["eval", str(dataset), *FAST, "-j", "1", "--cache-dir", str(tmp_path / "c"), "--json", str(one)]) == 0
    args = ["eval", str(dataset), *FAST, "--cache-dir", str(cache), "--json", str(tmp_path / "ray.json"), "--ray"]
    assert main(args) == 0
    local, remote = results(one), results(tmp_path / "ray.json")
    assert list(local) == list(remote) and len(local) == 2 * 2 * 2  # tracks x stems x methods
    for key, record in local.items():
        assert record["absent"] == remote[key].get("absent") if "absent" in record else "absent" not in remote[key]
        for name, tolerance in NUMBERS.items():
            if record.get(name) is not None:
                np.testing.assert_allclose(remote[key][name], record[name], rtol=1e-4, atol=tolerance, err_msg=f"{key} {name}")
    files = sorted(cache.glob("*.json"))
    assert len(files) == len(local)
    stamps = {path: path.stat().st_mtime_ns for path in files[1:]}
    files[0].unlink()
    assert main([*args, "--force"]) == 0
    assert files[0].exists() and all(path.stat().st_mtime_ns == stamp for path, stamp in stamps.items())
    assert results(tmp_path / "ray.json").keys() == remote.keys()


def test_an_address_that_does_not_answer_is_one_line(tmp_path, capsys):
    dataset = write_dataset(tmp_path / "data")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["eval", str(dataset), *FAST, "--cache-dir", str(tmp_path / "c"), f"--ray=127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"tagbox: error: no Ray cluster answers at 127.0.0.1:{port}") and len(err.splitlines()) == 1
    assert not (tmp_path / "c").exists()
