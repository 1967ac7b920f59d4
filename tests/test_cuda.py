"""The default separation, ``tagbox tag`` and a short ``tagbox eval`` on a CUDA device.

Skipped where torch sees no CUDA device (CI runs on CPU). On a GPU machine prepared with
``../shared/tools/device-bundle.sh``: ``TAGBOX_SHARED=.gpu bash .gpu/env.sh python3 -m pytest -q
tests/test_cuda.py``. Each test compares with the same work on the CPU, so a device mix-up that
still runs (a tensor silently left on the CPU, a generator on the wrong device) shows as a
difference rather than passing unnoticed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from tagbox.cli import main
from tagbox.separator import Separator
from tests.evaluation.helpers import write_dataset
from tests.test_separator import music

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_default_separation_runs_on_cuda_and_agrees_with_the_cpu():
    """The default configuration (NMF latent, MTAT musicnn + FCN), a few steps on a short stereo clip."""
    x = music(22050, 3.0, channels=2)
    results = {
        device: Separator(steps=3, device=device, progress=False).separate_tensor(x, sample_rate=22050, source="drums")
        for device in ("cpu", "cuda")
    }
    gpu, cpu = results["cuda"], results["cpu"]
    assert gpu.target.device.type == "cuda" and gpu.target.shape == x.shape
    torch.testing.assert_close(gpu.target + gpu.residual, x.to(gpu.target.device), atol=1e-5, rtol=0)
    assert len(gpu.history) == 3 and all(np.isfinite(h["loss"]) for h in gpu.history)
    # Three steps from the same seeded start: the devices differ only by rounding (cuDNN may use
    # TF32), so the losses agree closely and the estimates to far below their own level.
    np.testing.assert_allclose(
        [h["loss"] for h in gpu.history], [h["loss"] for h in cpu.history], rtol=1e-2
    )
    assert abs(gpu.probability_before - cpu.probability_before) < 1e-2
    error = (gpu.target.cpu() - cpu.target).pow(2).mean() / cpu.target.pow(2).mean()
    assert error < 1e-3, f"CUDA and CPU estimates differ at {10 * torch.log10(error):.1f} dB"


def test_tag_command_on_cuda_matches_the_cpu(tmp_path, capsys):
    path = tmp_path / "song.wav"
    sf.write(path, music(22050, 4.0, channels=2).T.numpy(), 22050, subtype="FLOAT")
    outputs = {}
    for device in ("cpu", "cuda"):
        args = ["tag", str(path), "--tagger", "mtat-musicnn", "--tagger", "mtat-fcn", "--top", "50", "--json"]
        assert main([*args, "-d", device]) == 0
        outputs[device] = json.loads(capsys.readouterr().out)[0]["taggers"]
    for tagger, ranked in outputs["cpu"].items():
        on_gpu = {t["tag"]: t["probability"] for t in outputs["cuda"][tagger]}
        for entry in ranked:
            assert abs(on_gpu[entry["tag"]] - entry["probability"]) <= 1e-2, (tagger, entry)


def test_short_eval_on_cuda(tmp_path, capsys):
    """One track, one source, the default tagbox configuration with a few steps, and the fooling check."""
    root = write_dataset(tmp_path / "data")
    out = tmp_path / "results.json"
    args = [
        "eval", str(root), "--methods", "tagbox,mixture", "--config", "short=steps=3", "--sources", "drums",
        "--max-tracks", "1", "--cache-dir", str(tmp_path / "cache"), "--json", str(out), "-d", "cuda",
    ]
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert not data["failures"]
    steered = [r for r in data["results"] if r["method"] == "tagbox:short"]
    assert len(steered) == 1
    record = steered[0]
    assert np.isfinite(record["si_sdri"]) and 0 <= record["p_estimate"] <= 1 and 0 <= record["p_stem"] <= 1
    assert "| drums | 1 |" in capsys.readouterr().out
