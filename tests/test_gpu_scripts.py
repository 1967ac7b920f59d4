"""scripts/gpu/rebuild_mixtures.py gives the dev sets' mixtures back bit for bit from their stems."""

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu" / "rebuild_mixtures.py"


def load():
    spec = importlib.util.spec_from_file_location("rebuild_mixtures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mixtures_rebuilt_from_stems_equal_the_originals(tmp_path, synth_dev):
    original = synth_dev / "dev_001"
    track = tmp_path / "synth-dev" / "dev_001"
    track.mkdir(parents=True)
    for stem in original.glob("*.flac"):
        if stem.name != "mixture.flac":
            shutil.copy(stem, track)
    load().main(str(tmp_path))
    rebuilt = sf.read(track / "mixture.flac", dtype="int16")[0]
    np.testing.assert_array_equal(rebuilt, sf.read(original / "mixture.flac", dtype="int16")[0])


def test_a_sum_that_overflows_16_bits_is_refused(tmp_path):
    track = tmp_path / "set" / "t"
    track.mkdir(parents=True)
    for name in ("a", "b"):
        sf.write(track / f"{name}.flac", np.full(100, 20000, dtype=np.int16), 16000, subtype="PCM_16")
    with pytest.raises(ValueError, match="does not fit 16 bits"):
        load().rebuild(track)
