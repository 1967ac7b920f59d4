from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from tagbox.cli import main
from tagbox.taggers import vocabulary_tags


def tone(sample_rate: int, seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(round(sample_rate * seconds)) / sample_rate
    wav = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    return np.repeat(wav[:, None], channels, axis=1).astype(np.float32)


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, tone(22050, 2.5), 22050, subtype="FLOAT")
    return path


def run_json(capsys, *args) -> list[dict]:
    assert main(["tag", *args, "--tagger", "debug-tiny", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_text_output_lists_the_top_tags(song, capsys):
    assert main(["tag", str(song), "--tagger", "debug-tiny", "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{song} (2.5 s): each tagger's most probable tags"
    assert lines[1].strip() == "debug-tiny"
    assert len(lines) == 5
    assert all(line.rsplit(" ", 1)[0].strip() in vocabulary_tags("mtat") for line in lines[2:])


def test_json_gives_each_tagger_its_tags_highest_first(song, capsys):
    [result] = run_json(capsys, str(song), "--top", "7")
    assert (result["path"], result["duration"]) == (str(song), 2.5)
    ranked = result["taggers"]["debug-tiny"]
    probabilities = [entry["probability"] for entry in ranked]
    assert len(ranked) == 7 and probabilities == sorted(probabilities, reverse=True)
    assert all(0 < p < 1 for p in probabilities)


def test_stereo_is_mixed_to_mono(song, tmp_path, capsys):
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, tone(22050, 2.5, channels=2), 22050, subtype="FLOAT")
    mono_result, stereo_result = run_json(capsys, str(song), str(stereo))
    assert mono_result["taggers"] == stereo_result["taggers"]


def test_segments_are_tagged_separately(song, capsys):
    [result] = run_json(capsys, str(song), "--segments", "1")
    spans = [(s["start"], s["end"]) for s in result["segments"]]
    assert spans == [(0.0, 1.0), (1.0, 2.0), (2.0, 2.5)]
    tags = [s["taggers"]["debug-tiny"] for s in result["segments"]]
    assert tags[0] != tags[2]


@pytest.mark.parametrize("args, message", [
    (["--tagger", "mtat-musicn"], "unknown tagger 'mtat-musicn' (did you mean 'mtat-musicnn'?)"),
    (["--top", "0"], "--top must be at least 1"),
    (["--segments", "0"], "--segments must be a positive number"),
])
def test_bad_options_fail_with_one_line(song, capsys, args, message):
    assert main(["tag", str(song), *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("samples, message", [
    (np.zeros(8000, dtype=np.float32), "is silent"),
    (np.full(8000, np.nan, dtype=np.float32), "NaN"),
])
def test_unusable_audio_fails_with_one_line(tmp_path, capsys, samples, message):
    path = tmp_path / "bad.wav"
    sf.write(path, samples, 16000, subtype="FLOAT")
    assert main(["tag", str(path), "--tagger", "debug-tiny"]) == 1
    err = capsys.readouterr().err
    assert message in err and str(path) in err and err.count("\n") == 1


def test_missing_and_unreadable_files_fail(tmp_path, capsys):
    assert main(["tag", str(tmp_path / "nope.wav"), "--tagger", "debug-tiny"]) == 1
    assert "not found" in capsys.readouterr().err
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF not really audio")
    assert main(["tag", str(garbage), "--tagger", "debug-tiny"]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_musicnn_hears_the_drums(synth_dev, capsys):
    assert main(["tag", str(synth_dev / "dev_000" / "drums.flac"), "--json", "--top", "3"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    top = [entry["tag"] for entry in result["taggers"]["mtat-musicnn"]]
    assert top[0] == "drums" and "beat" in top
    assert math.isclose(result["duration"], 10.0, abs_tol=0.01)


def test_a_bad_file_does_not_stop_the_batch(song, tmp_path, capsys):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF not really audio")
    assert main(["tag", str(tmp_path), "--tagger", "debug-tiny", "--json"]) == 1
    captured = capsys.readouterr()
    assert [result["path"] for result in json.loads(captured.out)] == [str(song)]
    assert f"tagbox: error: {garbage}: cannot read" in captured.err
    assert "1 done, 0 skipped, 1 failed" in captured.err


def test_untrained_test_taggers_are_not_offered_and_warned_about(song, capsys, caplog):
    with pytest.raises(SystemExit):
        main(["tag", "--help"])
    assert "debug-tiny" not in capsys.readouterr().out
    assert main(["tag", str(song), "--tagger", "debug-tin"]) == 1
    err = capsys.readouterr().err
    assert "unknown tagger 'debug-tin'" in err and "debug-tiny" not in err and "mtat-musicnn" in err
    with caplog.at_level("WARNING"):
        assert main(["tag", str(song), "--tagger", "debug-tiny"]) == 0
    assert "debug-tiny is an untrained test tagger (random weights): its tags mean nothing" in caplog.text
