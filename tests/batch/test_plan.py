import os

import pytest

from tagbox.batch import Input, check_writable, plan_jobs
from tagbox.errors import TagboxError


def groups_in(out):
    return lambda item: [{stem: out / item.path.stem / f"{stem}.wav" for stem in ("drums", "no_drums")}]


def test_two_inputs_with_one_output_collide_before_any_work(tmp_path):
    inputs = [Input(tmp_path / "song.mp3"), Input(tmp_path / "song.ogg")]
    with pytest.raises(TagboxError, match=r"song.mp3 and .*song.ogg would both write .*drums.wav"):
        plan_jobs(inputs, groups_in(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_finished_groups_are_skipped_unless_forced(tmp_path):
    out = tmp_path / "out"
    inputs = [Input(tmp_path / "a.wav"), Input(tmp_path / "b.wav")]
    for stem in ("drums", "no_drums"):
        (out / "a").mkdir(parents=True, exist_ok=True)
        (out / "a" / f"{stem}.wav").write_bytes(b"x")
    jobs = plan_jobs(inputs, groups_in(out))
    assert [job.finished for job in jobs] == [True, False]
    assert [job.finished for job in plan_jobs(inputs, groups_in(out), force=True)] == [False, False]


def test_a_half_written_group_is_refused(tmp_path):
    (tmp_path / "out" / "a").mkdir(parents=True)
    (tmp_path / "out" / "a" / "drums.wav").write_bytes(b"x")
    with pytest.raises(TagboxError, match="no_drums.wav does not; use --force"):
        plan_jobs([Input(tmp_path / "a.wav")], groups_in(tmp_path / "out"))


def test_unwritable_output_folder_is_one_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TagboxError, match="cannot write to output folder"):
        check_writable(blocker / "out")
    check_writable(tmp_path / "fine" / "deeper")
    assert (tmp_path / "fine" / "deeper").is_dir() and not list((tmp_path / "fine" / "deeper").iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_folder_is_refused(tmp_path):
    tmp_path.joinpath("ro").mkdir(mode=0o555)
    with pytest.raises(TagboxError, match="Permission denied"):
        check_writable(tmp_path / "ro" / "out")
