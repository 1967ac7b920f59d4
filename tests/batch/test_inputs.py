import pytest

from tagbox.batch import expand_inputs
from tagbox.errors import TagboxError


@pytest.fixture
def catalogue(tmp_path):
    for name in ("a.wav", "sub/b.FLAC", "sub/deeper/c.mp3", "cover.jpg", "sub/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def test_folders_are_recursed_for_audio_only(catalogue):
    found = expand_inputs([catalogue])
    assert [item.path.relative_to(catalogue).as_posix() for item in found] == ["a.wav", "sub/b.FLAC", "sub/deeper/c.mp3"]
    assert [item.folder for item in found] == ["", "sub", "sub/deeper"]


def test_patterns_files_and_duplicates(catalogue):
    found = expand_inputs([str(catalogue / "**" / "*.mp3"), catalogue / "cover.jpg", catalogue / "sub" / "deeper" / "c.mp3"])
    assert [item.path.name for item in found] == ["c.mp3", "cover.jpg"]
    # a file found by a pattern first stays found, though named later; the one named alone is named
    assert [item.named for item in found] == [False, True]
    assert [item.named for item in expand_inputs([catalogue])] == [False, False, False]


@pytest.mark.parametrize("argument, message", [
    ("sub/empty", "no audio files in"),
    ("*.ogg", "no audio files match"),
    ("missing.wav", "not found"),
])
def test_nothing_to_do_is_one_clear_error(catalogue, argument, message):
    (catalogue / "sub" / "empty").mkdir()
    with pytest.raises(TagboxError, match=message):
        expand_inputs([str(catalogue / argument)])
