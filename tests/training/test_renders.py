"""The General MIDI phrases the learned heads are fitted on (no soundfont needed)."""

import numpy as np

from tagbox.training.renders import DRUM_NOTES, INSTRUMENTS, phrase


def test_phrases_stay_in_the_instruments_notes_and_the_clip():
    for instrument in INSTRUMENTS:
        notes = phrase(instrument, np.random.default_rng(instrument.program), seconds=10.0)
        assert notes, instrument
        starts, ends, pitches, velocities = map(np.array, zip(*notes))
        assert (starts >= 0).all() and (ends > starts).all() and (starts < 10.0).all()
        assert (1 <= velocities).all() and (velocities <= 127).all()
        if instrument.drums:
            assert set(pitches) <= set(DRUM_NOTES)
        else:
            assert pitches.min() >= instrument.low and pitches.max() <= instrument.high


def test_every_source_the_heads_learn_is_rendered_by_an_instrument_and_others_are_heard_too():
    sources = {instrument.source for instrument in INSTRUMENTS}
    assert {"cello", "violin", "flute", "guitar", "electric_guitar", "piano", "strings", "synth", "bass"} < sources
    assert None in sources  # instruments no head is for: the negatives a mixture holds
