"""Shared fixtures: the ../shared folder (weights mirror, references, synth-dev) and a clean cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TAGBOX_SHARED", REPO.parent / "shared"))

if not SHARED.is_dir():
    raise RuntimeError(f"tests need the shared folder beside the checkout: {SHARED} is missing")

# Tests resolve tagger weights through the mirror, never the network or the user's cache.
os.environ.setdefault("TAGBOX_WEIGHTS_MIRROR", str(SHARED / "weights"))
torch.set_num_threads(int(os.environ.get("TAGBOX_TEST_THREADS", "2")))
# The commands size torch's threads from OMP_NUM_THREADS when it is set: keep them at the tests' count.
os.environ.setdefault("OMP_NUM_THREADS", str(torch.get_num_threads()))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TAGBOX_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def synth_dev() -> Path:
    return SHARED / "data" / "synth-dev"


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance (2 CPUs, no dashboard) whose workers import this checkout with one thread."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'tagbox[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}})
    yield ray
    ray.shutdown()
