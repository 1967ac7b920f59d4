"""Multitrack datasets for evaluation: a mixture plus its true stems, by layout.

Each layout lists its track names and their source names cheaply (file names, metadata), and
loads one track's audio on demand, so a run can skip cached work without reading audio and a
broken track fails alone. Layouts:

- ``folder``: ``ROOT/<track>/mixture.<ext>`` and one ``<source>.<ext>`` per stem (synth-dev).
- ``musdb``: MUSDB18 / MUSDB18-HQ through the ``musdb`` package (``ROOT/train``, ``ROOT/test``).
- ``slakh``: Slakh2100 (``ROOT/<track>/metadata.yaml``, ``mix.flac``, ``stems/Sxx.flac``); stems
  are summed per tagbox source name, so two guitars make one ``guitar`` stem.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from tagbox.errors import AudioError, TagboxError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")
MUSDB_SOURCES = ("vocals", "drums", "bass", "other")
# Stems may legitimately differ from the mixture by rounding or lossy coding; beyond this
# (residual energy relative to the mixture) the reference is not the mixture's decomposition.
RESIDUAL_WARNING_DB = -30.0

# Slakh2100 ``inst_class`` (MIDI program families) -> tagbox source names.
SLAKH_SOURCES = {
    "Piano": "piano",
    "Chromatic Percussion": "chromatic_percussion",
    "Organ": "organ",
    "Guitar": "guitar",
    "Bass": "bass",
    "Strings": "strings",
    "Strings (continued)": "strings",
    "Brass": "brass",
    "Reed": "reed",
    "Pipe": "pipe",
    "Synth Lead": "synth",
    "Synth Pad": "synth",
    "Sound Effects": "sound_effects",
    "Ethnic": "ethnic",
    "Percussive": "percussion",
    "Drums": "drums",
}


class DatasetError(TagboxError):
    """A dataset folder or one of its tracks cannot be used."""


class StemSumWarning(UserWarning):
    """A track's stems do not add up to its mixture."""


@dataclass
class Track:
    """One excerpt of a multitrack: mixture and stems as float32 (channels, samples)."""

    name: str
    mixture: np.ndarray
    stems: dict[str, np.ndarray]
    sample_rate: int

    def residual_db(self) -> float:
        """Energy of ``mixture - sum(stems)`` relative to the mixture, in dB (-inf if exact)."""
        residual = self.mixture.astype(np.float64) - sum(s.astype(np.float64) for s in self.stems.values())
        mixture_energy = np.sum(self.mixture.astype(np.float64) ** 2)
        with np.errstate(divide="ignore"):
            return float(10 * np.log10(np.sum(residual**2) / max(mixture_energy, 1e-20)))


@dataclass(frozen=True)
class Layout:
    """How to find, list and load the tracks of one dataset layout."""

    detect: Callable[[Path], bool]
    track_sources: Callable[[Path], dict[str, tuple[str, ...]]]
    load: Callable[[Path, str, float, float | None], Track]


# ---------------------------------------------------------------------------- folder layout


def _audio_files(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in AUDIO_EXTENSIONS}


def _folder_tracks(root: Path) -> list[Path]:
    return [d for d in sorted(root.iterdir()) if d.is_dir() and "mixture" in _audio_files(d)]


def _folder_detect(root: Path) -> bool:
    return bool(_folder_tracks(root))


def _folder_track_sources(root: Path) -> dict[str, tuple[str, ...]]:
    return {d.name: tuple(n for n in _audio_files(d) if n != "mixture") for d in _folder_tracks(root)}


def _folder_load(root: Path, name: str, offset: float, duration: float | None) -> Track:
    files = _audio_files(root / name)
    stems = {n: p for n, p in files.items() if n != "mixture"}
    if not stems:
        raise DatasetError(f"track '{name}' has a mixture but no stem files")
    return assemble_track(name, files["mixture"], stems, offset, duration)


# ----------------------------------------------------------------------------- slakh layout


def _slakh_metadata(track_dir: Path) -> dict:
    try:
        import yaml
    except ImportError as error:
        raise DatasetError("the Slakh2100 layout needs pyyaml: pip install 'tagbox[slakh]'") from error
    with open(track_dir / "metadata.yaml") as handle:
        return yaml.safe_load(handle) or {}


def _slakh_stem_files(track_dir: Path) -> dict[str, list[Path]]:
    """Rendered stem files grouped by tagbox source name."""
    groups: dict[str, list[Path]] = {}
    for stem_id, info in sorted((_slakh_metadata(track_dir).get("stems") or {}).items()):
        path = track_dir / "stems" / f"{stem_id}.flac"
        if not info.get("audio_rendered", True) or not path.exists():
            continue
        inst_class = "Drums" if info.get("is_drum") else info.get("inst_class", "")
        source = SLAKH_SOURCES.get(inst_class, inst_class.lower().replace(" ", "_") or "unknown")
        groups.setdefault(source, []).append(path)
    return groups


def _slakh_tracks(root: Path) -> list[Path]:
    return [d for d in sorted(root.iterdir()) if (d / "metadata.yaml").exists() and (d / "mix.flac").exists()]


def _slakh_detect(root: Path) -> bool:
    return bool(_slakh_tracks(root))


def _slakh_track_sources(root: Path) -> dict[str, tuple[str, ...]]:
    return {d.name: tuple(sorted(_slakh_stem_files(d))) for d in _slakh_tracks(root)}


def _slakh_load(root: Path, name: str, offset: float, duration: float | None) -> Track:
    track_dir = root / name
    return assemble_track(name, track_dir / "mix.flac", _slakh_stem_files(track_dir), offset, duration)


# ----------------------------------------------------------------------------- musdb layout


def _musdb_is_wav(root: Path) -> bool:
    return any(root.glob("*/*/mixture.wav"))


def _musdb_detect(root: Path) -> bool:
    subsets = [root / s for s in ("train", "test") if (root / s).is_dir()]
    return bool(subsets) and any(any(s.glob("*.stem.mp4")) or any(s.glob("*/mixture.wav")) for s in subsets)


def _musdb_db(root: Path):
    is_wav = _musdb_is_wav(root)
    hint = f"; or evaluate {root / 'test'} as a plain folder" if is_wav else ""
    try:
        import musdb
    except ImportError as error:
        raise DatasetError(f"MUSDB18 needs the musdb package: pip install 'tagbox[musdb]'{hint}") from error
    except RuntimeError as error:  # stempeg refuses to import without ffmpeg
        raise DatasetError(f"the musdb package cannot be used: {error}{hint}") from error
    return musdb.DB(root=str(root), is_wav=is_wav)


def _musdb_track_sources(root: Path) -> dict[str, tuple[str, ...]]:
    return {f"{t.subset}/{t.name}": MUSDB_SOURCES for t in _musdb_db(root).tracks}


def _musdb_load(root: Path, name: str, offset: float, duration: float | None) -> Track:
    tracks = {f"{t.subset}/{t.name}": t for t in _musdb_db(root).tracks}
    track = tracks[name]
    track.chunk_start, track.chunk_duration = offset, duration
    stems = {s: track.sources[s].audio.T.astype(np.float32) for s in MUSDB_SOURCES}
    mixture = track.audio.T.astype(np.float32)
    return checked_track(name, mixture, stems, int(track.rate))


LAYOUTS: dict[str, Layout] = {
    "musdb": Layout(_musdb_detect, _musdb_track_sources, _musdb_load),
    "slakh": Layout(_slakh_detect, _slakh_track_sources, _slakh_load),
    "folder": Layout(_folder_detect, _folder_track_sources, _folder_load),
}


def detect_layout(root: Path) -> str:
    """The layout name of ``root``; raises DatasetError when no layout finds a track there."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    for name, layout in LAYOUTS.items():
        if layout.detect(root):
            return name
    raise DatasetError(
        f"no tracks found in {root}: expected <track>/mixture.<ext> plus one <stem>.<ext> per source "
        "(or a MUSDB18 or Slakh2100 folder)"
    )


def track_sources(root: Path, layout: str) -> dict[str, tuple[str, ...]]:
    """Track name -> the source names it has a stem for, without reading audio."""
    return LAYOUTS[layout].track_sources(Path(root))


def load_track(root: Path, layout: str, name: str, offset: float = 0.0, duration: float | None = None) -> Track:
    """Load one track's excerpt ``[offset, offset + duration)`` seconds."""
    return LAYOUTS[layout].load(Path(root), name, offset, duration)


# --------------------------------------------------------------------------- shared helpers


def read_excerpt(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """(channels, samples) float32 and the file's own sample rate; no resampling."""
    try:
        rate = sf.info(str(path)).samplerate
        start = int(round(offset * rate))
        stop = None if duration is None else start + int(round(duration * rate))
        data, rate = sf.read(str(path), start=start, stop=stop, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioError(f"cannot read {path}: {error}") from error
    return data.T, rate


def assemble_track(
    name: str, mixture_path: Path, stem_paths: dict[str, Path | list[Path]], offset: float, duration: float | None
) -> Track:
    """Read a mixture and its stems (a list of files is summed into one stem) and check them."""
    mixture, rate = read_excerpt(mixture_path, offset, duration)
    stems, rates = {}, {"mixture": rate}
    for source, paths in stem_paths.items():
        parts = []
        for path in paths if isinstance(paths, list) else [paths]:
            audio, rates[path.name] = read_excerpt(path, offset, duration)
            parts.append(audio)
        if len({p.shape for p in parts}) > 1:
            raise DatasetError(f"track '{name}': the files of stem '{source}' differ in length or channels")
        stems[source] = np.sum(parts, axis=0, dtype=np.float32)
    if len(set(rates.values())) > 1:
        found = ", ".join(f"{k} {v} Hz" for k, v in rates.items())
        raise DatasetError(f"track '{name}': mixture and stems have different sample rates ({found})")
    return checked_track(name, mixture, stems, rate)


def checked_track(name: str, mixture: np.ndarray, stems: dict[str, np.ndarray], rate: int) -> Track:
    """A Track whose stems match the mixture's shape; warns if they do not sum to it."""
    if mixture.shape[-1] == 0:
        raise DatasetError(f"track '{name}': the excerpt is empty (offset beyond the end?)")
    mismatched = {s: a.shape for s, a in stems.items() if a.shape != mixture.shape}
    if mismatched:
        found = ", ".join(f"{s} {c}x{n}" for s, (c, n) in mismatched.items())
        raise DatasetError(
            f"track '{name}': stems differ from the mixture ({mixture.shape[0]}x{mixture.shape[1]} "
            f"channels x samples) in length or channels: {found}"
        )
    track = Track(name, mixture, stems, rate)
    residual = track.residual_db()
    if residual > RESIDUAL_WARNING_DB:
        warnings.warn(
            f"track '{name}': stems do not sum to the mixture (residual energy {residual:.1f} dB "
            "relative to the mixture); SI-SDRi is still measured against each stem",
            StemSumWarning,
            stacklevel=2,
        )
    return track
