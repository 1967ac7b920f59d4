"""Rebuild each track's mixture.flac as the exact integer sum of its 16-bit stems.

The synth-dev sets are made so that ``sum(stems) == mixture`` to the sample, so shipping the stems
alone to a size-limited GPU machine and summing them there gives the mixtures bit for bit.

    python scripts/gpu/rebuild_mixtures.py DATA_DIR      # DATA_DIR/<set>/<track>/<stem>.flac
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf


def rebuild(track: Path) -> bool:
    """Write ``track/mixture.flac`` from the track's other FLAC files; False if it has none."""
    stems = sorted(p for p in track.glob("*.flac") if p.name != "mixture.flac")
    if not stems:
        return False
    total = np.sum([sf.read(p, dtype="int16")[0].astype(np.int32) for p in stems], axis=0)
    if np.abs(total).max() > 32767:
        raise ValueError(f"{track}: the stems' sum does not fit 16 bits")
    sf.write(track / "mixture.flac", total.astype(np.int16), sf.info(stems[0]).samplerate, subtype="PCM_16")
    return True


def main(root: str) -> None:
    count = sum(rebuild(track) for track in sorted(Path(root).glob("*/*/")))
    print(f"rebuilt {count} mixtures under {root}")


if __name__ == "__main__":
    main(sys.argv[1])
