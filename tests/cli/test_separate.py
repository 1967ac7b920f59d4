import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from tagbox.cli import main
from tagbox.errors import AudioError
from tagbox.separator import Separator
from tests.conftest import REPO
from tests.test_separator import music

FAST = ["--tagger", "debug-tiny", "--steps", "2", "--components", "4", "--runs", "1"]


def audio_files(folder) -> list:
    """Every file under ``folder`` but manifests (temporary files included)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, music(22050, 1.0, channels=2).T.numpy(), 22050, subtype="FLOAT")
    return path


def test_separate_writes_target_and_residual(song, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["separate", str(song), "-s", "drums", "-o", str(out), "--float32", *FAST]) == 0
    target, sr = sf.read(out / "tagbox" / "song" / "drums.wav", always_2d=True)
    residual, _ = sf.read(out / "tagbox" / "song" / "no_drums.wav", always_2d=True)
    mixture, _ = sf.read(song, always_2d=True)
    assert sr == 22050 and target.shape == mixture.shape
    np.testing.assert_allclose(target + residual, mixture, atol=1e-5)
    assert "song.wav: taggers hear drums: " in capsys.readouterr().out


def test_existing_outputs_are_skipped_unless_forced(song, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["separate", str(song), "-s", "drums", "-o", str(out), *FAST]
    assert main(args) == 0
    before = (out / "tagbox" / "song" / "drums.wav").read_bytes()
    capsys.readouterr()
    assert main(args + ["--seed", "5"]) == 0
    assert "0 done, 1 skipped, 0 failed" in capsys.readouterr().out
    assert (out / "tagbox" / "song" / "drums.wav").read_bytes() == before
    assert main(args + ["--force", "--seed", "5"]) == 0
    assert "1 done, 0 skipped" in capsys.readouterr().out
    assert (out / "tagbox" / "song" / "drums.wav").read_bytes() != before


@pytest.mark.parametrize(
    "extra,message",
    [
        (["-s", "drums", "--not", "drums"], "both"),
        (["-s", "drums", "-s", "drums"], "twice"),
        (["-s", "kazoo-orchestra"], "unknown"),
    ],
)
def test_bad_requests_give_one_error_line(song, tmp_path, capsys, extra, message):
    assert main(["separate", str(song), "-o", str(tmp_path / "o"), *extra, *FAST]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("extra,message", [
    (["--latent", "nmf", "--codebook", "reference"], "codebook (--codebook) is a setting of the vqvae latent; "
                                                     "the nmf latent does not take it"),
    (["--latent", "mask", "--no-mask"], "mask (--no-mask) is a setting of the vqvae latent; the mask latent"),
    (["--preset", "faithful", "--components", "8"], "components (--components) is a setting of the nmf latent"),
])
def test_a_setting_the_latent_does_not_take_fails_before_any_model_loads(song, tmp_path, capsys, monkeypatch, extra,
                                                                        message):
    import tagbox.separator

    def never(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(tagbox.separator.TaggerEnsemble, "load", never)
    argv = ["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), "--tagger", "debug-tiny", *extra]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tagbox: error:") and message in err and len(err.splitlines()) == 1


def test_missing_and_silent_files_fail_cleanly(tmp_path, capsys):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050), 22050)
    for path in (tmp_path / "missing.wav", silent):
        assert main(["separate", str(path), "-s", "drums", "-o", str(tmp_path / "o"), *FAST]) == 1
        assert capsys.readouterr().err.startswith("tagbox: error:")
    assert audio_files(tmp_path / "o") == []


@pytest.fixture
def no_models(monkeypatch):
    """Fail the test if a model is loaded: the errors below must come before any."""
    monkeypatch.setattr("tagbox.taggers.ensemble.load_tagger", lambda *a, **k: pytest.fail("a tagger was loaded"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a CPU-only torch


def write(path, wav, rate=22050):
    sf.write(path, wav, rate, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--start", "flat", "--steps", "0"], "steps must be at least 1, got 0"),
        (["--steps", "-1"], "steps must be at least 0 (the start itself), got -1"),
        (["--lr", "nan"], "lr (the learning rate) must be a positive number, got nan"),
        (["--lr", "0"], "lr (the learning rate) must be a positive number, got 0.0"),
        (["-d", "cuda"], "device 'cuda' asked for, but CUDA is not available"),
        (["-d", "gpu"], "unknown device 'gpu'"),
    ],
)
def test_bad_settings_are_one_line_before_any_model_loads(song, tmp_path, capsys, no_models, extra, message):
    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), *FAST, *extra]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"tagbox: error: {message}")
    assert captured.err.count("\n") == 1 and "average" not in captured.err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "name,wav,message",
    [
        ("short.wav", np.full(1102, 0.1), "short.wav is 0.050 s long; tagbox needs at least 0.5 s: the taggers"),
        ("silent.wav", np.zeros((22050, 2)), "silent.wav is silent (every sample is zero)"),
        ("nan.wav", np.r_[np.full(22049, 0.1), np.nan], "nan.wav contains NaN or infinite samples"),
    ],
)
def test_bad_audio_is_one_line_naming_the_file_before_any_work(song, tmp_path, capsys, no_models, name, wav, message):
    bad = write(tmp_path / name, wav)
    # the good file comes first: nothing is separated or written for it either
    assert main(["separate", str(song), str(bad), "-s", "drums", "-o", str(tmp_path / "o"), *FAST]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tagbox: error: {bad}") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_verbose_shows_the_traceback(tmp_path, no_models):
    bad = write(tmp_path / "short.wav", np.full(1102, 0.1))
    with pytest.raises(AudioError, match="short.wav is 0.050 s long"):
        main(["--verbose", "separate", str(bad), "-s", "drums", "-o", str(tmp_path / "o"), *FAST])


def test_a_bad_command_line_is_one_line(song, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["separate", str(song), "-s", "drums", "--steps", "many"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("tagbox separate: error: argument --steps: invalid int value: 'many'") and err.count("\n") == 1


def test_an_interrupt_while_torch_imports_is_one_line(song, tmp_path):
    """A real SIGINT, delivered as the command modules first import torch."""
    script = textwrap.dedent(f"""
        import builtins, os, signal, sys
        real_import = builtins.__import__
        def interrupt_on_torch(name, *args, **kwargs):
            if name == "torch":
                builtins.__import__ = real_import
                os.kill(os.getpid(), signal.SIGINT)
            return real_import(name, *args, **kwargs)
        builtins.__import__ = interrupt_on_torch
        from tagbox.cli import main
        sys.exit(main(["separate", {str(song)!r}, "-s", "drums", "-o", {str(tmp_path / "o")!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "tagbox: interrupted\n")
    assert not (tmp_path / "o").exists()


def test_interrupt_leaves_no_partial_files(song, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Separator, "stream_file", interrupted)
    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), *FAST]) == 130
    assert audio_files(tmp_path / "o") == []
    manifest = json.loads((tmp_path / "o" / "tagbox" / "manifest.json").read_text())
    assert manifest["interrupted"] and [entry["status"] for entry in manifest["files"]] == ["pending"]


def interrupt_the_second_save(monkeypatch) -> None:
    """Ctrl-C while the second stem of a group is being written."""
    import tagbox.batch.tasks as command

    real_save = command.save_blocks
    calls = []

    def save_then_interrupt(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(command, "save_blocks", save_then_interrupt)


def test_interrupt_between_the_two_stems_removes_the_first(song, tmp_path, monkeypatch):
    interrupt_the_second_save(monkeypatch)
    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), *FAST]) == 130
    assert audio_files(tmp_path / "o") == []


def test_a_forced_run_interrupted_while_writing_keeps_the_earlier_stems(song, tmp_path, monkeypatch):
    args = ["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), *FAST]
    assert main(args) == 0
    before = {path: path.read_bytes() for path in audio_files(tmp_path / "o")}
    interrupt_the_second_save(monkeypatch)
    assert main([*args, "--force"]) == 130
    assert {path: path.read_bytes() for path in audio_files(tmp_path / "o")} == before and len(before) == 2


@pytest.mark.parametrize("flag", ["--joint", None])
def test_several_sources_are_estimated_together_and_the_rest_written(song, tmp_path, flag):
    out = tmp_path / "out"
    args = ["separate", str(song), "-s", "drums", "-s", "violin", "-o", str(out), "--float32", *FAST]
    assert main(args + ([flag] if flag else [])) == 0
    folder = out / "tagbox" / "song"
    assert sorted(p.name for p in folder.iterdir()) == ["drums.wav", "rest.wav", "violin.wav"]
    stems = [sf.read(folder / f"{name}.wav", always_2d=True)[0] for name in ("drums", "violin", "rest")]
    mixture, _ = sf.read(song, always_2d=True)
    np.testing.assert_allclose(sum(stems), mixture, atol=1e-5)


def test_separately_estimates_one_source_at_a_time(song, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["separate", str(song), "-s", "drums", "-s", "violin", "--separately", "-o", str(out), *FAST]) == 0
    names = sorted(p.name for p in (out / "tagbox" / "song").iterdir())
    assert names == ["drums.wav", "no_drums.wav", "no_violin.wav", "violin.wav"]
    with pytest.raises(SystemExit) as exit_:
        main(["separate", str(song), "-s", "drums", "--joint", "--separately", "-o", str(out), *FAST])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_unknown_source_is_reported_before_weights_are_needed(song, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TAGBOX_WEIGHTS_MIRROR")
    assert main(["separate", str(song), "-s", "drum", "-o", str(tmp_path / "o")]) == 1
    assert "did you mean 'drums'" in capsys.readouterr().err


def test_long_files_are_written_as_the_library_separates_them(tmp_path):
    """Streamed segment by segment to disk, the stems equal the in-memory separation's."""
    mixture = music(22050, 3.0, channels=2)
    song = write(tmp_path / "long.wav", mixture.T.numpy())
    out = tmp_path / "out"
    assert main(["separate", str(song), "-s", "drums", "-o", str(out), "--float32", "--segment", "1", *FAST]) == 0
    expected = Separator(taggers="debug-tiny", steps=2, components=4, segment=1.0, progress=False)
    expected = expected.separate_tensor(mixture, sample_rate=22050, source="drums")
    for stem, audio in (("drums", expected.target), ("no_drums", expected.residual)):
        written, _ = sf.read(out / "tagbox" / "long" / f"{stem}.wav", always_2d=True, dtype="float32")
        np.testing.assert_array_equal(written.T, audio.numpy())
    assert not list(out.rglob(".*"))  # no temporary files left


@pytest.fixture
def folder(tmp_path):
    """A small catalogue: two songs (one in a sub-folder), one unreadable file, and a cover image."""
    root = tmp_path / "songs"
    (root / "live").mkdir(parents=True)
    sf.write(root / "a.wav", music(22050, 1.0, channels=2).T.numpy(), 22050, subtype="FLOAT")
    sf.write(root / "live" / "b.flac", music(16000, 1.0, seed=1).T.numpy(), 16000)
    (root / "broken.wav").write_bytes(b"RIFF garbage")
    (root / "cover.jpg").write_bytes(b"jpeg")
    return root


def test_a_folder_batch_goes_past_a_bad_file_and_records_everything(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["separate", str(folder), "-s", "drums", "-o", str(out), "-q", *FAST]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"tagbox: error: {folder / 'broken.wav'}: cannot read")
    assert [p.relative_to(out).as_posix() for p in audio_files(out)] == [
        "tagbox/a/drums.wav", "tagbox/a/no_drums.wav", "tagbox/b/drums.wav", "tagbox/b/no_drums.wav"]
    manifest = json.loads((out / "tagbox" / "manifest.json").read_text())
    a, broken, b = manifest["files"]
    assert [a["status"], broken["status"], b["status"]] == ["done", "failed", "done"]
    assert a["outputs"] == {"drums": "a/drums.wav", "no_drums": "a/no_drums.wav"}
    drums = a["sources"]["drums"]
    assert 0 <= drums["probability_before"] <= 1 and 0 <= drums["probability_after"] <= 1 and drums["absent"] is False
    assert len(drums["history"]["loss"]) == 2 and manifest["settings"]["steps"] == {"drums": 2}
    assert manifest["summary"]["done"] == 2 and manifest["summary"]["failed"] == 1 and not manifest["interrupted"]


def test_worker_processes_write_what_one_process_writes(folder, tmp_path):
    (folder / "broken.wav").unlink()
    for jobs in ("1", "2"):
        assert main(["separate", str(folder), "-s", "drums", "-o", str(tmp_path / jobs), "-q", "-j", jobs, *FAST]) == 0
    one, two = (audio_files(tmp_path / jobs / "tagbox") for jobs in ("1", "2"))
    assert [p.relative_to(tmp_path / "1") for p in one] == [p.relative_to(tmp_path / "2") for p in two]
    for first, second in zip(one, two):
        np.testing.assert_allclose(sf.read(first)[0], sf.read(second)[0], atol=1e-6)


def test_colliding_inputs_and_an_unwritable_folder_fail_before_any_work(song, tmp_path, capsys, monkeypatch):
    sf.write(tmp_path / "song.flac", music(22050, 1.0).T.numpy(), 22050)
    monkeypatch.setattr(Separator, "stream_file", lambda *a, **k: pytest.fail("work started"))
    assert main(["separate", str(song), str(tmp_path / "song.flac"), "-s", "drums", "-o", str(tmp_path / "o"), *FAST]) == 1
    assert "would both write" in capsys.readouterr().err
    (tmp_path / "blocker").write_text("x")
    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "blocker" / "o"), *FAST]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tagbox: error: cannot write to output folder") and len(err.splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["separate", str(empty), "-s", "drums", "-o", str(tmp_path / "o"), *FAST]) == 1
    assert capsys.readouterr().err.startswith(f"tagbox: error: no audio files in {empty}")


def test_folder_field_keeps_same_named_tracks_apart(tmp_path):
    for sub in ("x", "y"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        sf.write(tmp_path / "in" / sub / "song.wav", music(16000, 1.0).T.numpy(), 16000)
    args = ["separate", str(tmp_path / "in"), "-s", "drums", "-o", str(tmp_path / "o"), "-q", *FAST]
    assert main(args + ["--filename", "{folder}/{track}/{stem}.{ext}"]) == 0
    assert (tmp_path / "o" / "tagbox" / "x" / "song" / "drums.wav").is_file()
    assert (tmp_path / "o" / "tagbox" / "y" / "song" / "no_drums.wav").is_file()


def songs_named_alike(tmp_path, *folders: str) -> list:
    """``<folder>/mixture.wav`` for each folder, as multitrack datasets keep their songs; different audio each."""
    paths = []
    for seed, name in enumerate(folders):
        (tmp_path / name).mkdir()
        paths.append(write(tmp_path / name / "mixture.wav", music(16000, 1.0, seed=seed).T.numpy(), 16000))
    return paths


def test_files_named_alike_are_told_apart_by_their_folders(tmp_path):
    first, second = songs_named_alike(tmp_path, "dev_001", "dev_002")
    assert main(["separate", str(first), str(second), "-s", "drums", "-o", str(tmp_path / "o"), "-q", *FAST]) == 0
    out = tmp_path / "o" / "tagbox"
    assert [p.relative_to(out).as_posix() for p in audio_files(out)] == [
        "dev_001/drums.wav", "dev_001/no_drums.wav", "dev_002/drums.wav", "dev_002/no_drums.wav"]


def test_a_later_song_named_like_an_earlier_one_gets_its_own_folder(tmp_path, capsys):
    first, second = songs_named_alike(tmp_path, "dev_001", "dev_002")
    out = tmp_path / "o" / "tagbox"
    assert main(["separate", str(first), "-s", "drums", "-s", "violin", "-o", str(tmp_path / "o"), "-q", *FAST]) == 0
    earlier = {p: p.read_bytes() for p in audio_files(out)}
    assert sorted(p.name for p in earlier) == ["drums.wav", "rest.wav", "violin.wav"]
    assert main(["separate", str(second), "-s", "piano", "-o", str(tmp_path / "o"), "-q", *FAST]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in audio_files(out / "dev_002")) == [
        "dev_002/no_piano.wav", "dev_002/piano.wav"]
    assert {p: p.read_bytes() for p in audio_files(out / "mixture")} == earlier
    # the first song resumes where it was written
    assert main(["separate", str(first), "-s", "drums", "-s", "violin", "-o", str(tmp_path / "o"), *FAST]) == 0
    assert "0 done, 1 skipped" in capsys.readouterr().out


def test_force_replaces_a_group_whole_and_never_merges_two(song, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["separate", str(song), "-s", "drums", "-s", "violin", "-o", str(out), "-q", *FAST]) == 0
    args = ["separate", str(song), "-s", "drums", "-s", "piano", "-o", str(out), "-q", *FAST]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "-o" in err and "--filename" in err and "--force" in err
    assert main(args + ["--force"]) == 0
    assert sorted(p.name for p in audio_files(out / "tagbox" / "song")) == ["drums.wav", "piano.wav", "rest.wav"]


def test_another_songs_outputs_are_refused_with_where_else_to_write(tmp_path, capsys):
    first, second = songs_named_alike(tmp_path, "dev_001", "dev_002")
    flat = ["-s", "drums", "-o", str(tmp_path / "o"), "--filename", "{stem}.{ext}", "-q", *FAST]
    assert main(["separate", str(first), *flat]) == 0
    before = (tmp_path / "o" / "tagbox" / "drums.wav").read_bytes()
    assert main(["separate", str(second), *flat]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(first.resolve()) in err and "-o" in err and "--filename" in err
    assert (tmp_path / "o" / "tagbox" / "drums.wav").read_bytes() == before


def test_two_stems_written_to_one_file_are_refused(song, tmp_path, capsys):
    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), "--filename", "{track}.{ext}",
                 *FAST]) == 1
    assert "{stem}" in capsys.readouterr().err
    assert audio_files(tmp_path / "o") == []


def test_batches_into_one_folder_add_up_in_the_manifest_and_the_report(tmp_path):
    first, second = (write(tmp_path / f"{name}.wav", music(16000, 1.0, seed=seed).T.numpy(), 16000)
                     for seed, name in enumerate(("first", "second")))
    args = ["-s", "drums", "-o", str(tmp_path / "o"), "-q", *FAST]
    assert main(["separate", str(first), *args]) == 0
    assert main(["separate", str(second), *args]) == 0
    assert main(["separate", str(first), *args, "--report"]) == 0  # all skipped
    manifest = json.loads((tmp_path / "o" / "tagbox" / "manifest.json").read_text())
    assert [(Path(f["input"]).name, f["status"], list(f["sources"])) for f in manifest["files"]] == [
        ("first.wav", "skipped", ["drums"]), ("second.wav", "done", ["drums"])]
    page = (tmp_path / "o" / "tagbox" / "report" / "index.html").read_text()
    assert page.count("<audio") == 2 * 3  # mixture, estimate and rest of both files


@pytest.mark.parametrize("extra,message", [
    (["-s", "saxophone"], "no tagger can express 'saxophone': no vocabulary has a tag for it (see tagbox list sources)"),
    (["-s", "drums", "-s", "trumpet"], "no tagger can express 'trumpet': no vocabulary has a tag for it (see tagbox "
                                       "list sources)"),
    (["-s", "bass", "--tagger", "mtat-musicnn"], "mtat-musicnn cannot express 'bass'; taggers that can: jamendo-fcn, "
                                                  "jamendo-musicnn, jamendo-crnn"),
])
def test_a_source_no_chosen_tagger_can_express_is_refused_before_any_work(song, tmp_path, capsys, no_models, extra,
                                                                           message):
    assert main(["separate", str(song), "-o", str(tmp_path / "o"), *extra]) == 1
    err = capsys.readouterr().err
    assert err == f"tagbox: error: {message}\n"
    assert not (tmp_path / "o").exists()


def test_an_untrained_test_tagger_is_warned_about(song, tmp_path, caplog, capsys):
    with caplog.at_level("WARNING"):
        assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), "-q", *FAST]) == 0
    assert "debug-tiny is an untrained test tagger (random weights)" in caplog.text
    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), "--tagger", "mtat-musicn"]) == 1
    err = capsys.readouterr().err
    assert "did you mean 'mtat-musicnn'" in err and "debug-tiny" not in err


def option_help(text: str, flag: str) -> str:
    """What ``--help`` says of ``flag``: its lines, without the flag and its choices."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith(flag))
    block = [lines[first]] + list(itertools.takewhile(lambda line: line.startswith(" " * 6), lines[first + 1:]))
    return " ".join(word for word in " ".join(block).split() if word != flag and not word.startswith("{"))


def test_the_output_options_of_separate_are_explained(capsys):
    with pytest.raises(SystemExit):
        main(["separate", "--help"])
    text = capsys.readouterr().out
    assert all(option_help(text, flag) for flag in ("--int24", "--float32", "--clip-mode"))
    assert "beyond full scale" in option_help(text, "--clip-mode")


@pytest.mark.parametrize("subtype,extra,written", [
    ("PCM_24", [], "PCM_24"), ("PCM_16", [], "PCM_16"), ("FLOAT", [], "FLOAT"), ("FLOAT", ["--flac"], "PCM_24"),
    ("PCM_24", ["--int16"], "PCM_16"), ("PCM_16", ["--float32"], "FLOAT"),
])
def test_stems_keep_the_inputs_sample_depth_unless_told(tmp_path, subtype, extra, written):
    song = tmp_path / "song.wav"
    sf.write(song, music(16000, 1.0).T.numpy(), 16000, subtype=subtype)
    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), "-q", *extra, *FAST]) == 0
    [drums, no_drums] = audio_files(tmp_path / "o")
    assert sf.info(drums).subtype == sf.info(no_drums).subtype == written


def test_the_default_output_folder_names_tagbox_and_the_preset_not_an_internal_space(song, tmp_path):
    from tagbox.cli.separate import folder_name

    assert main(["separate", str(song), "-s", "drums", "-o", str(tmp_path / "o"), "-q", *FAST]) == 0
    assert (tmp_path / "o" / "tagbox" / "song" / "drums.wav").is_file()
    assert (folder_name("default", "nmf"), folder_name("default", "mask")) == ("tagbox", "tagbox-mask")
    assert (folder_name("faithful", "jukebox-5b"), folder_name("faithful", "compact")) == (
        "tagbox-faithful", "tagbox-faithful-compact")


def test_the_printed_numbers_say_what_they_are_and_which_taggers_gave_them(song, tmp_path, capsys):
    fast = ["--tagger", "debug-tiny-jamendo", *FAST]
    assert main(["separate", str(song), "-s", "drums", "-s", "bass", "-o", str(tmp_path / "o"), *fast]) == 0
    out = capsys.readouterr().out
    manifest = json.loads((tmp_path / "o" / "tagbox" / "manifest.json").read_text())
    sources = manifest["files"][0]["sources"]
    assert sources["drums"]["taggers"] == ["debug-tiny-jamendo", "debug-tiny"]  # both vocabularies name drums
    assert sources["bass"]["taggers"] == ["debug-tiny-jamendo"]  # MTAT has no bass
    for source, info in sources.items():
        line = (f"song.wav: taggers hear {source}: {info['probability_before']:.2f} in the mixture, "
                f"{info['probability_after']:.2f} in the estimate ({', '.join(info['taggers'])}); "
                f"plays with p {info['presence'][0]:.2f}")
        assert line in out.splitlines()


def test_a_bad_request_with_a_test_tagger_is_one_line_without_warnings(song, tmp_path, capsys, caplog):
    with caplog.at_level("WARNING"):
        assert main(["separate", str(song), "-s", "saxophone", "-o", str(tmp_path / "o"), *FAST]) == 1
    assert capsys.readouterr().err.count("\n") == 1 and "untrained" not in caplog.text


def test_the_help_lists_the_choices_of_the_config_flags(capsys):
    with pytest.raises(SystemExit):
        main(["separate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for choices in ("nmf (gains", "vqvae (a generator", "mask (a free mask", "reference (every tag", "focused (only",
                    "tagged (from what", "flat (init_gain)", "frozen (the generator", "compact (bundled)",
                    "fragment_prior, share, register_prior, range_floor", "--not", "only with --objective focused"):
        assert choices in text, choices
