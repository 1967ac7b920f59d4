"""What a running separation shows: seconds of audio done, the segment and stage at work, each step."""

from __future__ import annotations

import logging

import pytest

from tagbox.progress import Progress


def test_the_bar_counts_seconds_of_audio_and_names_the_segment_and_stage(capsys):
    records = []
    progress = Progress(seconds=90.0, segments=4, label="violin", enabled=True, callback=records.append)
    with progress.shown():
        progress.stage(1, "listen")
        assert progress.bar.postfix == "segment 2/4 listen"
        progress.step({"segment": 1, "run": 0, "step": 4, "loss": 0.25, "probabilities": {"drums": 0.3}})
        assert progress.bar.postfix == "segment 2/4 listen run 1 step 5 loss 0.250"
        progress.advance(22.5)
        progress.advance(22.5)
        assert progress.done == pytest.approx(45.0) and progress.bar.n == pytest.approx(45.0)
        logging.getLogger("tagbox.test").warning("a warning, above the bar")
    err = capsys.readouterr().err
    assert "45.0/90.0 s audio" in err and "a warning, above the bar\n" in err
    assert records == progress.history and len(records) == 1


def test_one_segment_names_only_the_stage():
    progress = Progress(seconds=10.0, segments=1, label="drums", enabled=False)
    progress.stage(0, "refine")
    assert progress._where == "refine"
