"""Phrases of General MIDI instruments rendered with a soundfont: isolated audio no dev set holds.

The fragment heads learn what a piece of each source sounds like from these renders, and the
presence heads when a source plays in a mixture of them (``scripts/train_fragment_heads.py``,
``scripts/train_presence_head.py``). A soundfont other than the dev sets' own (FluidR3, TimGM6mb)
must render them: csound's General MIDI bank (Debian ``csound-soundfont``) is the one used.
Rendering needs pyfluidsynth and libfluidsynth (``pip install -e ".[fragments]"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

RATE = 44100
SECONDS = 10.0


@dataclass(frozen=True)
class Instrument:
    """A General MIDI program, the MIDI notes it plays here, whether it plays chords, and the
    tagbox source it renders (None: heard only as another instrument)."""

    program: int
    low: int
    high: int
    chords: bool = False
    source: str | None = None
    drums: bool = False


INSTRUMENTS = [
    Instrument(0, 36, 96, True, "piano"), Instrument(1, 36, 96, True, "piano"),
    Instrument(24, 40, 76, True, "guitar"), Instrument(25, 40, 76, True, "guitar"),
    Instrument(26, 40, 79, True, "electric_guitar"), Instrument(27, 40, 79, True, "electric_guitar"),
    Instrument(29, 40, 79, True, "electric_guitar"), Instrument(30, 40, 79, True, "electric_guitar"),
    Instrument(40, 55, 96, False, "violin"), Instrument(42, 36, 76, False, "cello"),
    Instrument(48, 36, 88, True, "strings"), Instrument(49, 36, 88, True, "strings"),
    Instrument(73, 60, 96, False, "flute"),
    Instrument(80, 36, 84, False, "synth"), Instrument(81, 36, 84, False, "synth"),
    Instrument(88, 36, 84, True, "synth"), Instrument(90, 36, 84, True, "synth"),
    Instrument(32, 28, 55, False, "bass"), Instrument(33, 28, 55, False, "bass"),
    Instrument(34, 28, 55, False, "bass"), Instrument(38, 28, 55, False, "bass"),
    # Others a mixture holds, which the heads must tell apart from the sources.
    Instrument(16, 36, 84, True), Instrument(19, 36, 84, True), Instrument(4, 36, 88, True),
    Instrument(11, 53, 89), Instrument(46, 36, 96, True), Instrument(52, 48, 79, True),
    Instrument(56, 55, 82), Instrument(61, 48, 80, True), Instrument(65, 49, 80), Instrument(66, 44, 76),
    Instrument(68, 58, 91), Instrument(71, 50, 89), Instrument(41, 48, 84), Instrument(43, 28, 55),
    Instrument(0, 35, 81, drums=True),
]
DRUM_NOTES = (36, 38, 42, 46, 45, 48, 49, 51)


def phrase(instrument: Instrument, rng: np.random.Generator, seconds: float = SECONDS) -> list[tuple[float, float, int, int]]:
    """Random notes ``(start, end, pitch, velocity)`` for ``seconds``: a random walk through the
    instrument's notes at a random tempo, chords now and then where it plays them; for drums a
    random pattern on a sixteenth-note grid."""
    beat = rng.uniform(0.3, 0.7)
    notes = []
    if instrument.drums:
        step = beat / 4
        for i in range(int(seconds / step)):
            for pitch, chance in zip(DRUM_NOTES, (0.35, 0.25, 0.5, 0.1, 0.05, 0.05, 0.03, 0.15)):
                if rng.random() < chance:
                    notes.append((i * step, i * step + step, pitch, int(rng.integers(60, 120))))
        return notes
    time, pitch = 0.0, int(rng.integers(instrument.low, instrument.high + 1))
    while time < seconds:
        length = beat * float(rng.choice([0.25, 0.5, 1.0, 1.0, 2.0]))
        pitch = int(np.clip(pitch + rng.integers(-5, 6) + (rng.integers(-12, 13) if rng.random() < 0.1 else 0),
                            instrument.low, instrument.high))
        chord = [0] + (list(rng.choice([3, 4, 5, 7, 9, 12], size=int(rng.integers(1, 3)), replace=False))
                       if instrument.chords and rng.random() < 0.4 else [])
        velocity = int(rng.integers(60, 120))
        for interval in chord:
            if pitch + interval <= instrument.high:
                notes.append((time, min(time + length * rng.uniform(0.7, 1.0), seconds), pitch + int(interval), velocity))
        time += length
    return notes


def render(instrument: Instrument, notes: list[tuple[float, float, int, int]], soundfont: str) -> np.ndarray:
    """``notes`` played by ``instrument`` with ``soundfont``: mono float32 at :data:`RATE`, peak 1."""
    synth, font = _synth(soundfont)
    channel = 9 if instrument.drums else 0
    synth.program_select(channel, font, 128 if instrument.drums else 0, instrument.program)
    events = sorted([(start, 1, pitch, velocity) for start, _, pitch, velocity in notes]
                    + [(end, 0, pitch, 0) for _, end, pitch, _ in notes])
    chunks, now = [], 0
    for seconds, on, pitch, velocity in events:
        frame = int(seconds * RATE)
        if frame > now:
            chunks.append(synth.get_samples(frame - now))
            now = frame
        if on:
            synth.noteon(channel, pitch, velocity)
        else:
            synth.noteoff(channel, pitch)
    total = int(SECONDS * RATE)
    if total > now:
        chunks.append(synth.get_samples(total - now))
    for pitch in range(128):  # silence, and let the tails die out before the next clip
        synth.noteoff(channel, pitch)
    synth.get_samples(2 * RATE)
    audio = np.concatenate(chunks).astype(np.float32).reshape(-1, 2).mean(1)[:total]
    peak = np.abs(audio).max()
    return audio / peak if peak > 0 else audio


@lru_cache(maxsize=None)
def _synth(soundfont: str):
    """One synthesiser per process and soundfont: loading a compressed soundfont takes seconds."""
    import fluidsynth

    synth = fluidsynth.Synth(samplerate=float(RATE), gain=0.4)
    return synth, synth.sfload(soundfont)
