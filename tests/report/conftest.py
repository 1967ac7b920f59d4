"""Runs to report on: a separation batch (two 4 s synth-dev excerpts and a broken file) and a tiny eval run."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from tagbox.audio import load_audio
from tagbox.cli import main
from tests.evaluation.helpers import write_dataset


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
    args = ["separate", str(songs), "-s", "drums", "-o", str(out), "--tagger", "mtat-musicnn", "--steps", "6", "--runs", "1",
            "-q", "--report"]
    assert main(args) == 1  # the broken file fails, the others are separated and reported
    manifest = out / "tagbox" / "manifest.json"
    return {"manifest": manifest, "results": json.loads(manifest.read_text()), "report": out / "tagbox" / "report"}


@pytest.fixture(scope="module")
def eval_run(tmp_path_factory):
    """``tagbox eval --report`` on two tiny tracks: a fast tagbox configuration over two seeds against the mixture."""
    root = tmp_path_factory.mktemp("eval")
    dataset = write_dataset(root / "data")
    args = ["eval", str(dataset), "--methods", "tagbox,mixture", "--config", "fast=taggers=debug-tiny-jamendo,steps=1",
            "--seeds", "0,1", "--baseline", "mixture", "--json", str(root / "eval.json"), "--report", str(root / "report"),
            "--cache-dir", str(root / "cache")]
    assert main(args) == 0
    return {"args": args, "results": json.loads((root / "eval.json").read_text()), "report": root / "report"}
