"""Summary tables: statistics per source and method, metric names, flags."""

from __future__ import annotations

import numpy as np
import pytest

from tagbox.evaluation.summary import markdown, summarize


def record(track, source, method, si_sdri, **extra):
    return {"track": track, "source": source, "method": method, "si_sdri": si_sdri, "si_sdr": si_sdri - 3.0,
            "sdr": None, "seconds": 0.5, **extra}


RECORDS = [
    record("t1", "drums", "hpss", 6.0),
    record("t2", "drums", "hpss", 2.0),
    record("t3", "drums", "hpss", 1.0),
    record("t1", "bass", "hpss", float("nan")),
    record("t1", "drums", "mixture", 0.0),
]


def test_mean_and_median_per_source_and_overall():
    rows = {(r["source"], r["method"]): r for r in summarize(RECORDS, ["mixture", "hpss"])}
    drums = rows[("drums", "hpss")]
    assert (drums["n"], drums["si_sdri_mean"], drums["si_sdri_median"]) == (3, pytest.approx(3.0), 2.0)
    overall = rows[("overall", "hpss")]
    assert overall["n"] == 4 and overall["undefined"] == 1 and overall["si_sdri_mean"] == pytest.approx(3.0)
    assert rows[("bass", "hpss")]["si_sdri_mean"] is None
    assert ("bass", "mixture") not in rows


def test_markdown_names_each_metric_and_lists_flagged_estimates():
    records = RECORDS + [
        record("t4", "drums", "tagbox", 0.1, tagger="mtat-musicnn", p_estimate=0.9, p_stem=0.3),
        record("t5", "drums", "tagbox", 5.0, tagger="mtat-musicnn", p_estimate=0.9, p_stem=0.3),
    ]
    methods = ["mixture", "hpss", "tagbox"]
    text = markdown(summarize(records, methods), methods, records)
    assert "**SI-SDRi (dB; SI-SDR of the estimate minus SI-SDR of the mixture)" in text
    assert "| drums | 3 | 0.0 / 0.0 | 3.0 / 2.0 | 2.5 / 2.5 |" in text  # n: the most stems of any method
    assert "| bass | 1 | – | – / – (1 undefined) | – |" in text
    assert "BSSEval" not in text  # no SDR was measured
    assert "Target-tag probability (mtat-musicnn)" in text and "[1 fooled]" in text
    assert "| t4 | drums | tagbox | 0.1 | 0.90 | 0.30 |" in text
    assert "| t5 |" not in text  # it did separate


def test_seed_spread_is_the_std_of_per_seed_means_and_absent_queries_are_left_out():
    seeded = [
        record("t1", "drums", "tagbox", 1.0, seed=0), record("t2", "drums", "tagbox", 3.0, seed=0),
        record("t1", "drums", "tagbox", 4.0, seed=1), record("t2", "drums", "tagbox", 4.0, seed=1),
        record("t1", "piano", "tagbox", float("nan"), seed=0, present=False),
    ]
    rows = {(r["source"], r["method"]): r for r in summarize(seeded + RECORDS, ["hpss", "tagbox"])}
    drums = rows[("drums", "tagbox")]
    assert (drums["n"], drums["seeds"], drums["si_sdri_mean"]) == (4, 2, pytest.approx(3.0))
    assert drums["si_sdri_seed_std"] == pytest.approx(np.std([2.0, 4.0], ddof=1))
    assert ("piano", "tagbox") not in rows
    assert rows[("drums", "hpss")]["si_sdri_seed_std"] is None  # one run, no spread
    text = markdown(list(rows.values()), ["hpss", "tagbox"], seeded)
    assert "| drums | 4 | 3.0 / 2.0 | 3.0 / 3.5 ±1.41 |" in text


def test_sdr_improvement_is_summarised_beside_sdr():
    records = [record("t1", "drums", "silence", float("nan"), sdr=0.0, sdri=4.0),
               record("t2", "drums", "silence", float("nan"), sdr=0.0, sdri=2.0)]
    (row, _) = summarize(records, ["silence"])
    assert (row["sdri_mean"], row["sdri_median"], row["sdr_median"]) == (3.0, 3.0, 0.0)
    text = markdown([row, _], ["silence"], records)
    assert "BSSEval v4 SDRi (dB; SDR of the estimate minus SDR of the mixture)" in text
    assert "| drums | 2 | 3.0 / 3.0 |" in text
