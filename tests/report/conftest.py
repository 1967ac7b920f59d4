"""A finished separation batch to report on: two 4 s excerpts of synth-dev mixtures and a broken file."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from tagbox.audio import load_audio
from tagbox.cli import main


@pytest.fixture(scope="module")
def batch(tmp_path_factory, synth_dev):
    root = tmp_path_factory.mktemp("batch")
    songs = root / "songs"
    songs.mkdir()
    for track in ("dev_000", "dev_005"):
        wav, rate = load_audio(synth_dev / track / "mixture.flac", duration=4.0)
        sf.write(songs / f"{track}.flac", wav.T, rate)
    (songs / "broken.wav").write_bytes(b"RIFF garbage")
    out = root / "out"
    args = ["separate", str(songs), "-s", "drums", "-o", str(out), "--tagger", "mtat-musicnn", "--steps", "6", "-q", "--report"]
    assert main(args) == 1  # the broken file fails, the others are separated and reported
    manifest = out / "nmf" / "manifest.json"
    return {"manifest": manifest, "results": json.loads(manifest.read_text()), "report": out / "nmf" / "report"}
