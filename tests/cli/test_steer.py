import json
import re

import pytest
import soundfile as sf

from tagbox.cli import main
from tests.report.helpers import assert_numbers_match, page_numbers
from tests.test_separator import music


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, music(44100, 1.0, channels=2).T.numpy(), 44100)
    return path


def test_steer_writes_the_audio_and_a_summary_and_refuses_to_overwrite(song, tmp_path, capsys):
    args = ["steer", str(song), "--toward", "piano", "--steps", "2", "--generator", "debug-tiny", "--tagger", "debug-tiny",
            "--judge", "debug-tiny-jamendo", "-o", str(tmp_path / "out")]
    assert main(args) == 0
    written = tmp_path / "out" / "song"
    assert sf.info(str(written / "steered.wav")).channels == 2
    summary = json.loads((written / "summary.json").read_text())
    assert summary["toward"] == ["piano"] and len(summary["history"]) == 2 and "debug-tiny-jamendo" in summary["tags"]["piano"]
    assert summary["latent"] == "vqvae" and summary["lr"] == 5.0  # the generator latent's own rate
    assert "piano: debug-tiny" in capsys.readouterr().out
    assert main(args) == 1
    assert "exists: use --force" in capsys.readouterr().err


def test_the_steer_report_shows_input_and_steered_audio_and_the_tags_over_the_steps(song, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["steer", str(song), "--toward", "piano", "--away", "drums", "--steps", "3", "--generator", "debug-tiny",
                 "--tagger", "debug-tiny", "--judge", "debug-tiny-jamendo", "-o", str(out), "--report"]) == 0
    page = (out / "report" / "index.html").read_text()
    sources = re.findall(r'<(?:audio|img)[^>]* src="([^"]+)"', page)
    assert len(sources) == 4 and all((out / "report" / src).is_file() for src in sources)  # 2 players, 2 pictures
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "steer" and [len(r["probabilities"]) for r in manifest["files"][0]["history"]] == [2] * 3
    assert_numbers_match(page_numbers(page), manifest)
    assert "debug-tiny-jamendo (judge)" in page


def test_the_negative_control_steers_a_free_mask_without_the_generators_weights(song, tmp_path, monkeypatch):
    import tagbox.cli.steer as command

    monkeypatch.setattr(command, "is_available", lambda model: False)  # the mask needs no generator
    assert main(["steer", str(song), "--toward", "piano", "--steps", "2", "--latent", "mask", "--generator", "jukebox-5b",
                 "--tagger", "debug-tiny", "--judge", "none", "-o", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "song" / "summary.json").read_text())
    assert summary["latent"] == "mask" and summary["lr"] == 0.5 and set(summary["tags"]["piano"]) == {"debug-tiny"}


@pytest.mark.parametrize("extra, message", [
    (["--toward", "rock", "--away", "rock"], "'rock' is both a --toward and an --away tag"),
    (["--toward", "rok"], "unknown source 'rok'"),
    ([], "nothing to steer"),
    (["--toward", "rock", "--generator", "jukebox-5b"], "run `tagbox download jukebox-5b`"),
])
def test_bad_requests_are_one_line_before_any_work(song, tmp_path, capsys, monkeypatch, extra, message):
    import tagbox.cli.steer as command

    monkeypatch.setattr(command, "is_available", lambda model: False)
    assert main(["steer", str(song), *extra, "-o", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
