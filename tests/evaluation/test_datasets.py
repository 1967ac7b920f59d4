"""Dataset layouts on tiny fixtures written to a temporary folder."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from tagbox.evaluation.datasets import (
    DatasetError,
    StemSumWarning,
    detect_layout,
    load_track,
    track_sources,
)
from tests.evaluation.helpers import (
    RATE,
    clicks,
    noise_bursts,
    tone,
    write_dataset,
    write_track,
)


def test_folder_layout_lists_and_loads_tracks(tmp_path):
    write_dataset(tmp_path)
    (tmp_path / "notes").mkdir()  # a folder without a mixture is not a track
    assert detect_layout(tmp_path) == "folder"
    assert track_sources(tmp_path, "folder") == {"track_a": ("drums", "organ"), "track_b": ("drums", "organ")}
    track = load_track(tmp_path, "folder", "track_b")
    assert track.sample_rate == RATE
    assert track.mixture.shape == (1, 2 * RATE) and track.mixture.dtype == np.float32
    np.testing.assert_allclose(track.stems["drums"][0], clicks())
    np.testing.assert_allclose(track.mixture, track.stems["organ"] + track.stems["drums"], atol=1e-7)


def test_excerpt_by_offset_and_duration(tmp_path):
    write_dataset(tmp_path)
    track = load_track(tmp_path, "folder", "track_a", offset=0.5, duration=0.25)
    assert track.mixture.shape == (1, RATE // 4)
    np.testing.assert_allclose(track.stems["organ"][0], tone(330.0)[RATE // 2 : RATE // 2 + RATE // 4])


def test_excerpt_past_the_end_is_an_error(tmp_path):
    write_dataset(tmp_path)
    with pytest.raises(DatasetError, match="empty"):
        load_track(tmp_path, "folder", "track_a", offset=10.0)


def test_folder_without_tracks_is_an_error(tmp_path):
    (tmp_path / "empty_track").mkdir()
    with pytest.raises(DatasetError, match="no tracks found"):
        detect_layout(tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        detect_layout(tmp_path / "missing")


def test_stems_not_summing_warn_with_residual_energy(tmp_path):
    organ, drums = tone(), noise_bursts()
    # mixture = 2 x (sum of stems): the residual is the sum itself, a quarter of the mixture's energy.
    write_track(tmp_path, "loud_mix", {"organ": organ, "drums": drums}, mixture=2 * (organ + drums))
    with pytest.warns(StemSumWarning, match=r"residual energy -6\.0 dB"):
        track = load_track(tmp_path, "folder", "loud_mix")
    assert track.residual_db() == pytest.approx(-6.02, abs=0.01)


def test_stems_of_different_lengths_are_rejected(tmp_path):
    write_track(tmp_path, "short_stem", {"organ": tone(), "drums": clicks(seconds=1.5)}, mixture=tone())
    with pytest.raises(DatasetError, match="drums 1x12000"):
        load_track(tmp_path, "folder", "short_stem")


def test_stems_at_different_rates_are_rejected(tmp_path):
    folder = write_track(tmp_path, "odd_rate", {"organ": tone(), "drums": clicks()})
    sf.write(folder / "drums.wav", clicks(rate=16000), 16000, subtype="FLOAT")
    with pytest.raises(DatasetError, match="different sample rates"):
        load_track(tmp_path, "folder", "odd_rate")


def write_slakh_track(root, name):
    folder = root / name
    (folder / "stems").mkdir(parents=True)
    # Scaled so that the 16-bit FLAC mixture does not clip.
    parts = {"S00": tone(220.0), "S01": tone(330.0), "S02": tone(495.0), "S03": clicks()}
    parts = {stem_id: 0.4 * audio for stem_id, audio in parts.items()}
    for stem_id, audio in parts.items():
        sf.write(folder / "stems" / f"{stem_id}.flac", audio, RATE)
    sf.write(folder / "mix.flac", np.sum(list(parts.values()), axis=0), RATE)
    (folder / "metadata.yaml").write_text(
        "audio_dir: stems\n"
        "stems:\n"
        "  S00: {inst_class: Piano, is_drum: false, program_num: 0, audio_rendered: true}\n"
        "  S01: {inst_class: Guitar, is_drum: false, program_num: 25, audio_rendered: true}\n"
        "  S02: {inst_class: Guitar, is_drum: false, program_num: 29, audio_rendered: true}\n"
        "  S03: {inst_class: Drums, is_drum: true, program_num: 0, audio_rendered: true}\n"
        "  S04: {inst_class: Bass, is_drum: false, program_num: 33, audio_rendered: false}\n"
    )
    return parts


def test_slakh_layout_maps_classes_and_sums_same_source_stems(tmp_path):
    pytest.importorskip("yaml")
    parts = write_slakh_track(tmp_path, "Track00001")
    assert detect_layout(tmp_path) == "slakh"
    assert track_sources(tmp_path, "slakh") == {"Track00001": ("drums", "guitar", "piano")}
    track = load_track(tmp_path, "slakh", "Track00001")
    np.testing.assert_allclose(track.stems["guitar"][0], parts["S01"] + parts["S02"], atol=1e-4)
    assert track.residual_db() < -60


class FakeMusdbTrack:
    """The parts of musdb.MultiTrack the loader uses: audio (samples, 2) cut to the chunk."""

    def __init__(self, name, subset, stems):
        self.name, self.subset, self.rate = name, subset, RATE
        self.chunk_start, self.chunk_duration = 0, None
        self.stems = stems

    def _cut(self, audio):
        start = int(self.chunk_start * RATE)
        stop = None if self.chunk_duration is None else start + int(self.chunk_duration * RATE)
        return np.stack([audio, 0.5 * audio], axis=1)[start:stop]

    @property
    def sources(self):
        return {source: SimpleNamespace(audio=self._cut(audio)) for source, audio in self.stems.items()}

    @property
    def audio(self):
        return self._cut(np.sum(list(self.stems.values()), axis=0))


def test_musdb_layout_goes_through_the_musdb_package(tmp_path, monkeypatch):
    stems = {"vocals": tone(660.0), "drums": clicks(), "bass": tone(55.0), "other": noise_bursts()}
    tracks = [FakeMusdbTrack("Artist - Song", "test", stems)]
    opened = []

    def fake_db(root, is_wav):
        opened.append((root, is_wav))
        return SimpleNamespace(tracks=tracks)

    monkeypatch.setitem(sys.modules, "musdb", SimpleNamespace(DB=fake_db))
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "Artist - Song.stem.mp4").write_bytes(b"")
    assert detect_layout(tmp_path) == "musdb"
    assert track_sources(tmp_path, "musdb") == {"test/Artist - Song": ("vocals", "drums", "bass", "other")}
    track = load_track(tmp_path, "musdb", "test/Artist - Song", offset=0.5, duration=1.0)
    assert track.mixture.shape == (2, RATE) and track.sample_rate == RATE
    np.testing.assert_allclose(track.stems["drums"][1], 0.5 * clicks()[RATE // 2 : RATE // 2 + RATE])
    assert opened[0] == (str(tmp_path), False)


def test_musdb_hq_without_a_usable_musdb_package_suggests_the_folder_layout(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "musdb", None)  # import musdb -> ImportError
    write_track(tmp_path / "test", "Artist - Song", {"vocals": tone(), "drums": clicks()})
    assert detect_layout(tmp_path) == "musdb"
    with pytest.raises(DatasetError, match="pip install 'tagbox\\[musdb\\]'; or evaluate .*test as a plain folder"):
        track_sources(tmp_path, "musdb")
    assert detect_layout(tmp_path / "test") == "folder"
