"""Paired comparison: pairs by (track, source, seed), standard error over stems."""

from __future__ import annotations

import numpy as np
import pytest

from tagbox.evaluation.paired import compare, markdown


def record(track, method, seed, si_sdri, source="drums", **extra):
    return {"track": track, "source": source, "method": method, "seed": seed, "si_sdri": si_sdri, **extra}


BASE = [record(t, "base", s, v) for t, values in (("t1", (1.0, 2.0)), ("t2", (3.0, 5.0))) for s, v in zip((0, 1), values)]


def test_mean_difference_and_standard_error_over_stems():
    other = [record("t1", "new", 0, 2.0), record("t1", "new", 1, 4.0), record("t2", "new", 0, 3.0),
             record("t2", "new", 1, 4.0), record("t3", "new", 0, 9.0)]  # t3: no baseline, no pair
    (row,) = compare(BASE + other, "base", ["base", "new"])
    differences = [1.0, 2.0, 0.0, -1.0]
    stem_means = [1.5, -0.5]
    assert row["mean_difference"] == pytest.approx(np.mean(differences))
    assert row["standard_error"] == pytest.approx(np.std(stem_means, ddof=1) / np.sqrt(2))
    assert (row["pairs"], row["stems"], row["improved"], row["undefined"]) == (4, 2, 2, 0)


def test_only_shared_seeds_pair_and_a_seedless_method_pairs_at_every_seed():
    one_seed = [record("t1", "new", 1, 2.0)]
    assert compare(BASE + one_seed, "base", ["new"])[0]["pairs"] == 1
    seedless = [record("t1", "hpss", None, 2.0), record("t2", "hpss", None, 2.0)]
    row = compare(BASE + seedless, "base", ["hpss"])[0]
    assert row["pairs"] == 4 and row["mean_difference"] == pytest.approx(np.mean([1.0, 0.0, -1.0, -3.0]))


def test_undefined_pairs_are_left_out_and_counted():
    silence = [record("t1", "silence", None, float("nan")), record("t2", "silence", None, None)]
    row = compare(BASE + silence, "base", ["silence"])[0]
    assert (row["pairs"], row["undefined"], row["mean_difference"], row["standard_error"]) == (0, 4, None, None)
    assert "| silence | – (4 undefined) | 0 | 0 | 0 |" in markdown([row])


def test_absent_queries_are_not_paired():
    query = [record("t1", "new", 0, None, present=False), record("t1", "new", 0, 3.0)]
    assert compare(BASE + query, "base", ["new"])[0]["pairs"] == 1


def test_markdown_names_the_baseline_and_metric():
    other = [record("t1", "new", 0, 2.0), record("t2", "new", 0, 4.0)]
    text = markdown(compare(BASE + other, "base", ["new"]))
    assert "Paired SI-SDRi difference from base" in text
    assert "| new | +1.00 ± 0.00 | 2 | 2 | 2 |" in text
