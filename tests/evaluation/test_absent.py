"""Absent-source rates: true negatives, false positives and their energy, false negatives."""

from __future__ import annotations

import pytest

from tagbox.evaluation.absent import absent_summary, markdown


def record(source, present, absent, energy=0.5, method="tagbox", threshold=0.02):
    return {"track": "t", "source": source, "method": method, "present": present, "absent": absent,
            "energy_ratio": energy, "absent_threshold": threshold}


RECORDS = [
    record("piano", False, True, 0.0),
    record("piano", False, False, 0.4),
    record("piano", False, False, 0.2),
    record("piano", True, True, 0.0),
    record("drums", True, False),
    record("drums", True, False),
    {"track": "t", "source": "drums", "method": "hpss", "present": True, "energy_ratio": 0.3},  # no verdict
]


def test_counts_and_rates_per_source_and_overall():
    rows = {(r["source"], r["method"]): r for r in absent_summary(RECORDS, ["hpss", "tagbox"])}
    piano = rows[("piano", "tagbox")]
    assert (piano["asked_absent"], piano["true_negatives"], piano["false_positives"]) == (3, 1, 2)
    assert piano["false_positive_rate"] == pytest.approx(2 / 3)
    assert piano["false_positive_energy_share"] == pytest.approx(0.3)
    assert (piano["asked_present"], piano["false_negatives"], piano["false_negative_rate"]) == (1, 1, 1.0)
    overall = rows[("overall", "tagbox")]
    assert (overall["asked_present"], overall["false_negatives"]) == (3, 1)
    assert overall["false_negative_rate"] == pytest.approx(1 / 3) and overall["thresholds"] == [0.02]
    assert rows[("drums", "tagbox")]["false_positive_rate"] is None
    assert not any(method == "hpss" for _, method in rows)


def test_markdown_shows_the_threshold_and_rates():
    text = markdown(absent_summary(RECORDS, ["tagbox"]))
    assert "| tagbox | 0.02 | piano | 3 | 1 | 2 | 67 % | 30 % | 1 | 1 | 100 % |" in text
    assert "| tagbox | 0.02 | **overall** | 3 | 1 | 2 | 67 % | 30 % | 3 | 1 | 33 % |" in text
    assert markdown([]) == ""
