"""Rebuild each track's mixture.flac as the exact integer sum of its stems (the sets are made that way)."""
import pathlib, sys
import numpy as np, soundfile as sf
for track in sorted(pathlib.Path(sys.argv[1]).glob("*/*/")):
    stems = sorted(p for p in track.glob("*.flac") if p.name != "mixture.flac")
    if not stems:
        continue
    data = [sf.read(p, dtype="int16")[0].astype(np.int32) for p in stems]
    total = np.sum(data, axis=0)
    assert np.abs(total).max() < 32768, track
    sf.write(track / "mixture.flac", total.astype(np.int16), sf.info(stems[0]).samplerate, subtype="PCM_16")
print("mixtures rebuilt")
