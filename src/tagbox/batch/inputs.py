"""Command-line inputs (files, folders, glob patterns) as the list of audio files they name."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tagbox.errors import TagboxError

# What libsndfile reads (tagbox.audio); other files in a folder (covers, notes) are not inputs.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")


@dataclass(frozen=True)
class Input:
    """One audio file, and the sub-folder it sits in below the folder argument that named it.

    ``folder`` lets ``--filename "{folder}/..."`` mirror a catalogue's layout, so that
    ``a/song.wav`` and ``b/song.wav`` need not collide. ``named``: the file itself was an argument
    (not found in a folder or by a pattern), so a bad one is the user's mistake, said before any work.
    """

    path: Path
    folder: str = ""
    named: bool = False


def is_audio(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def _folder(root: Path) -> list[Input]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and is_audio(p))
    if not files:
        raise TagboxError(f"no audio files in {root} (looked for {', '.join(AUDIO_EXTENSIONS)})")
    return [Input(p, p.parent.relative_to(root).as_posix().removeprefix(".")) for p in files]


def _pattern(pattern: str) -> list[Input]:
    files = sorted(Path(m) for m in glob.glob(pattern, recursive=True))
    files = [p for p in files if p.is_file() and is_audio(p)]
    if not files:
        raise TagboxError(f"no audio files match {pattern}")
    return [Input(p) for p in files]


def expand_inputs(arguments: Sequence[str | Path]) -> list[Input]:
    """Files as given, folders recursed and patterns globbed (audio extensions only), each file once.

    A file named explicitly is kept whatever its extension, so that reading it reports why it
    is not audio; a folder or pattern without audio files is an error of its own.
    """
    found: dict[Path, Input] = {}
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            items = _folder(path)
        elif path.is_file():
            items = [Input(path, named=True)]
        elif any(char in str(argument) for char in "*?["):
            items = _pattern(str(argument))
        else:
            raise TagboxError(f"file or folder not found: {path}")
        for item in items:
            found.setdefault(item.path.resolve(), item)
    return list(found.values())
