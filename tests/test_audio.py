"""tagbox.audio: reading, checks, and atomic writing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from tagbox import audio
from tagbox.audio import check_audio, load_audio, save_audio
from tagbox.errors import AudioError, TagboxError, UnknownNameError


def tone(sr: int, seconds: float = 1.0, channels: int = 2) -> np.ndarray:
    t = np.arange(round(sr * seconds)) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)]).astype(np.float32)


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    "suffix, encoding, atol",
    [
        (".wav", "int16", 1 / 2**15),
        (".wav", "int24", 1 / 2**23),
        (".wav", "float32", 0.0),
        (".flac", "int16", 1 / 2**15),
        (".flac", "int24", 1 / 2**23),
    ],
)
def test_round_trip_per_encoding(tmp_path, suffix, encoding, atol):
    wav = tone(22050)
    path = save_audio(tmp_path / f"x{suffix}", wav, 22050, encoding=encoding)
    loaded, sr = load_audio(path)
    assert sr == 22050
    assert loaded.dtype == np.float32 and loaded.shape == wav.shape
    np.testing.assert_allclose(loaded, wav, atol=atol, rtol=0)
    assert sf.info(path).subtype == audio._SUBTYPES[encoding]


def test_offset_and_duration_select_the_span(tmp_path):
    sr = 8000
    ramp = (np.arange(2 * sr, dtype=np.float32) / (4 * sr))[None].repeat(2, axis=0)
    path = save_audio(tmp_path / "ramp.wav", ramp, sr, encoding="float32")
    part, _ = load_audio(path, offset=0.5, duration=0.25)
    np.testing.assert_array_equal(part, ramp[:, 4000:6000])
    tail, _ = load_audio(path, offset=1.5, duration=10.0)  # runs past the end: what is there
    np.testing.assert_array_equal(tail, ramp[:, 12000:])
    with pytest.raises(AudioError, match="nothing at offset 3 s"):
        load_audio(path, offset=3.0)
    with pytest.raises(AudioError, match="invalid span"):
        load_audio(path, offset=-1.0)


def test_only_the_span_is_decoded(tmp_path, monkeypatch):
    path = save_audio(tmp_path / "long.flac", tone(8000, seconds=4.0), 8000)
    calls = []
    real_seek, real_read = sf.SoundFile.seek, sf.SoundFile.read

    def seek(self, frames, whence=sf.SEEK_SET, *rest):
        calls.append(("seek", frames, whence))
        return real_seek(self, frames, whence, *rest)

    def read(self, frames=-1, **options):
        calls.append(("read", frames))
        return real_read(self, frames, **options)

    monkeypatch.setattr(sf.SoundFile, "seek", seek)
    monkeypatch.setattr(sf.SoundFile, "read", read)
    wav, _ = load_audio(path, offset=2.5, duration=0.5)
    # soundfile's own seeks are relative (SEEK_CUR) or follow the read; ours come first
    ours = [call for call in calls if call[0] == "read" or call[2] == sf.SEEK_SET]
    assert ours[:2] == [("seek", 20000, sf.SEEK_SET), ("read", 4000)] and wav.shape == (2, 4000)


def test_reads_compressed_formats(tmp_path):
    wav = tone(44100, seconds=0.5, channels=1)
    formats = [("x.ogg", dict(format="OGG", subtype="VORBIS"))]
    if "MP3" in sf.available_formats():
        formats.append(("x.mp3", dict(format="MP3", subtype="MPEG_LAYER_III")))
    for name, options in formats:
        sf.write(tmp_path / name, wav.T, 44100, **options)
        loaded, sr = load_audio(tmp_path / name, offset=0.1, duration=0.2)
        assert sr == 44100 and loaded.shape[0] == 1
        assert abs(loaded.shape[1] - 8820) <= 1152  # mp3 may pad by one frame
        assert 0.2 < np.abs(loaded).max() < 0.8, name


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "audio file not found"),
        (lambda p: p.write_bytes(b"RIFF not really a wave file" * 10), "cannot read audio file"),
        (lambda p: sf.write(p, np.zeros((0, 1)), 8000), "is empty"),
    ],
    ids=["missing", "corrupt", "empty"],
)
def test_unreadable_files_raise_one_line_naming_the_file(tmp_path, make, message):
    path = tmp_path / "broken.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as error:
        load_audio(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_folder_is_not_audio(tmp_path):
    with pytest.raises(AudioError, match="is a folder, not an audio file"):
        load_audio(tmp_path)


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    "wav, message",
    [
        (np.zeros((1, 0), np.float32), "mix.wav is empty"),
        (np.array([[0.1, np.nan]], np.float32), "NaN or infinite"),
        (torch.tensor([[0.1, float("inf")]]), "NaN or infinite"),
        (np.zeros((2, 100), np.float32), "silent"),
    ],
)
def test_check_audio_rejects_bad_signals(wav, message):
    with pytest.raises(AudioError, match=message):
        check_audio(wav, "mix.wav")


def test_check_audio_accepts_sound_and_optionally_silence():
    check_audio(tone(8000))
    check_audio(torch.zeros(1, 10), silent_ok=True)


# --------------------------------------------------------------------------- writing


def test_rescale_keeps_the_shape_and_clamp_clips(tmp_path):
    wav = np.array([[0.5, -2.0, 1.0, 0.25]], np.float32)
    rescaled, _ = load_audio(save_audio(tmp_path / "r.wav", wav, 8000, encoding="float32"))
    np.testing.assert_allclose(rescaled, wav / 2)
    clamped, _ = load_audio(save_audio(tmp_path / "c.wav", wav, 8000, encoding="float32", clip="clamp"))
    np.testing.assert_allclose(clamped, [[0.5, -1.0, 1.0, 0.25]])
    kept, _ = load_audio(save_audio(tmp_path / "n.wav", wav, 8000, encoding="float32", clip="none"))
    np.testing.assert_array_equal(kept, wav)
    quiet = np.array([[0.5, -0.25]], np.float32)
    unchanged, _ = load_audio(save_audio(tmp_path / "q.wav", quiet, 8000, encoding="float32"))
    np.testing.assert_array_equal(unchanged, quiet)  # rescale never boosts


def test_integer_encodings_refuse_unclipped_overs(tmp_path):
    with pytest.raises(AudioError, match="exceed full scale"):
        save_audio(tmp_path / "x.wav", np.array([[1.5, 0.0]]), 8000, clip="none")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "name, options, error, message",
    [
        ("x.flac", dict(encoding="float32"), AudioError, "FLAC stores integers"),
        ("x.aiff", {}, AudioError, r"must end in one of \.wav, \.flac, \.ogg, \.mp3"),
        ("x.wav", dict(encoding="int8"), UnknownNameError, "unknown encoding 'int8'"),
        ("x.wav", dict(clip="soft"), UnknownNameError, "unknown clip mode 'soft'"),
    ],
)
def test_save_rejects_bad_options(tmp_path, name, options, error, message):
    with pytest.raises(error, match=message):
        save_audio(tmp_path / name, tone(8000), 8000, **options)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "wav, message",
    [(np.zeros((1, 2, 3)), "expected \\(channels, samples\\)"), (np.array([[np.nan, 0.0]]), "NaN")],
)
def test_save_rejects_bad_arrays(tmp_path, wav, message):
    with pytest.raises(AudioError, match=message):
        save_audio(tmp_path / "x.wav", wav, 8000)


def test_save_accepts_tensors_mono_vectors_and_silence(tmp_path):
    signal = torch.linspace(-0.5, 0.5, 100, requires_grad=True)
    loaded, _ = load_audio(save_audio(tmp_path / "t.wav", signal, 8000, encoding="float32"))
    np.testing.assert_allclose(loaded, signal.detach().numpy()[None])
    silent, _ = load_audio(save_audio(tmp_path / "s.wav", torch.zeros(2, 50), 8000))
    assert silent.shape == (2, 50) and not silent.any()


def test_save_creates_parents_and_never_overwrites_without_force(tmp_path):
    path = save_audio(tmp_path / "a" / "b" / "x.wav", tone(8000), 8000)
    before = path.read_bytes()
    with pytest.raises(TagboxError, match="already exists; pass --force"):
        save_audio(path, tone(8000) / 2, 8000)
    assert path.read_bytes() == before
    save_audio(path, tone(8000) / 2, 8000, force=True)
    assert path.read_bytes() != before
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.wav"]


def test_blocks_are_written_as_one_signal_rescaled_by_the_global_peak(tmp_path):
    wav = np.stack([np.linspace(-1.5, 3.0, 1000), np.linspace(0.5, -0.5, 1000)]).astype(np.float32)
    blocks = [wav[:, :300], wav[:, 300:301], wav[:, 301:]]
    path = audio.save_blocks(tmp_path / "b.wav", lambda: iter(blocks), 8000, 2, encoding="float32")
    whole = save_audio(tmp_path / "w.wav", wav, 8000, encoding="float32")
    np.testing.assert_array_equal(load_audio(path)[0], load_audio(whole)[0])
    np.testing.assert_allclose(load_audio(path)[0], wav / 3.0)
    with pytest.raises(AudioError, match="NaN"):
        audio.save_blocks(tmp_path / "n.wav", lambda: [wav, np.full((2, 5), np.nan)], 8000, 2)
    assert not (tmp_path / "n.wav").exists()


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = save_audio(tmp_path / "x.flac", tone(8000), 8000)
    before = path.read_bytes()

    def write_then_fail(handle, data):
        real_write(handle, data[:10])
        raise sf.LibsndfileError(0, "disk full (simulated)")

    real_write = audio.sf.SoundFile.write
    monkeypatch.setattr(audio.sf.SoundFile, "write", write_then_fail)
    with pytest.raises(AudioError, match="cannot write .*disk full"):
        save_audio(path, tone(8000) / 2, 8000, force=True)
    with pytest.raises(AudioError):
        save_audio(tmp_path / "new.wav", tone(8000), 8000)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.flac"]


@pytest.mark.parametrize("subtype,container,expected", [
    ("PCM_16", "WAV", "int16"), ("PCM_U8", "WAV", "int16"), ("PCM_24", "FLAC", "int24"), ("PCM_32", "WAV", "int24"),
    ("DOUBLE", "WAV", "float32"), ("VORBIS", "OGG", "int16"),
])
@pytest.mark.parametrize("target", ["out.wav", "out.flac"])
def test_matching_encoding_keeps_the_depth_a_container_can_hold(tmp_path, subtype, container, expected, target):
    source = tmp_path / f"in.{container.lower()}"
    sf.write(source, np.full(800, 0.25), 8000, subtype=subtype, format=container)
    flac_float = expected == "float32" and target.endswith(".flac")
    assert audio.matching_encoding(source, tmp_path / target) == ("int24" if flac_float else expected)


@pytest.mark.parametrize("suffix,format", [(".ogg", "OGG"), (".mp3", "MP3")])
def test_lossy_listening_copies(tmp_path, suffix, format):
    if format not in sf.available_formats():
        pytest.skip(f"this libsndfile cannot write {format}")
    wav = 0.5 * np.sin(np.linspace(0, 2000, 44100, dtype=np.float32))[None]
    path = save_audio(tmp_path / f"copy{suffix}", wav, 44100, clip="clamp")
    assert sf.info(path).format == format and sf.info(path).frames >= 44100 * 0.99
    assert path.stat().st_size < 44100 * 2 / 4  # well under 16-bit PCM
