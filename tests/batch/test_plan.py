import os

import pytest

from tagbox.batch import Input, Recorded, check_writable, plan_jobs, track_names
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
    with pytest.raises(TagboxError, match="no_drums.wav does not .*; use -o or --filename .*, or use --force"):
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


def into(out):
    """``outputs_of`` of the default layout: ``<out>/<track>/{drums,no_drums}.wav``."""
    return lambda item, track: [out / track / f"{stem}.wav" for stem in ("drums", "no_drums")]


def test_inputs_named_alike_are_filed_under_their_folders(tmp_path):
    x, y, z = (Input(tmp_path / folder / name) for folder, name in (("x", "mixture.wav"), ("y", "mixture.flac"),
                                                                    ("z", "other.wav")))
    assert track_names([x, y, z], into(tmp_path / "out")) == {x.path: "x", y.path: "y", z.path: "other"}
    beside = Input(tmp_path / "x" / "mixture.flac")  # one folder cannot tell these apart: names stay, plan_jobs refuses
    assert track_names([x, beside], into(tmp_path / "out")) == {x.path: "mixture", beside.path: "mixture"}


def test_an_earlier_batch_keeps_its_names_and_a_newcomer_is_filed_apart(tmp_path):
    out = tmp_path / "out"
    x, y = Input(tmp_path / "x" / "mixture.wav"), Input(tmp_path / "y" / "mixture.wav")
    earlier = [Recorded(x.path, (out / "mixture" / "drums.wav", out / "mixture" / "no_drums.wav"))]
    assert track_names([y], into(out), earlier) == {y.path: "y"}
    assert track_names([x, y], into(out), earlier) == {x.path: "mixture", y.path: "y"}
    moved = [Recorded(x.path, (out / "x" / "drums.wav",))]  # filed under its folder by an earlier batch
    assert track_names([x], into(out), moved) == {x.path: "x"}


def test_force_replaces_the_earlier_group_a_new_one_overlaps(tmp_path):
    out, song = tmp_path / "out", Input(tmp_path / "song.wav")
    earlier = [Recorded(song.path, tuple(out / f"{stem}.wav" for stem in ("drums", "violin", "rest"))),
               Recorded(song.path, (out / "bass.wav", out / "no_bass.wav"))]
    for path in (p for group in earlier for p in group.files):
        out.mkdir(exist_ok=True)
        path.write_bytes(b"x")
    group = {stem: out / f"{stem}.wav" for stem in ("drums", "piano", "rest")}
    [job] = plan_jobs([song], lambda item: [group], force=True, recorded=earlier)
    assert job.replaced(group) == [out / "violin.wav"]  # not bass: its group is untouched
    with pytest.raises(TagboxError, match="drums.wav exists but .*piano.wav does not"):
        plan_jobs([song], lambda item: [group], recorded=earlier)
    other = Input(tmp_path / "other.wav")
    with pytest.raises(TagboxError, match=f"bass.wav holds the separation of {song.path}; use -o or --filename"):
        plan_jobs([other], lambda item: [{"bass": out / "bass.wav", "no_bass": out / "no_bass.wav"}], recorded=earlier)
