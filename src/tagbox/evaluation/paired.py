"""Paired comparison of configurations: the same stems and seeds, one difference per pair.

For every method other than the baseline, each (track, source, seed) that both have is a pair
and ``d = metric(method) - metric(baseline)``; a method without a seed (the deterministic ones:
mixture, hpss, ...) is paired with the baseline at every seed. Reported: the mean of ``d`` over
the pairs, its standard error, the numbers of pairs and stems, and how many pairs improved
(``d > 0``). The seeds of one stem share that stem, so they are not independent evidence: the
standard error averages ``d`` within each stem first, then takes std(ddof 1) / sqrt(stems).
Pairs where either result is undefined (NaN, e.g. the SI-SDR of a silent estimate) are left out
and counted.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from tagbox.evaluation.summary import present

METRICS = {"si_sdri": "SI-SDRi", "sdri": "BSSEval SDRi"}


def _index(records: list[dict], label: str, metric: str) -> dict[tuple[str, str], dict]:
    """(track, source) -> {seed: value} of one method."""
    index: dict[tuple[str, str], dict] = defaultdict(dict)
    for record in present(records):
        if record["method"] == label:
            value = record.get(metric)
            index[(record["track"], record["source"])][record.get("seed")] = (
                float("nan") if value is None else float(value)
            )
    return index


def _seeds(first: dict, second: dict) -> set:
    """The seeds to pair at: the shared ones, or all of one side's where the other has none."""
    if None in first or None in second:
        return (first.keys() | second.keys()) - {None} or {None}
    return first.keys() & second.keys()


def compare(records: list[dict], baseline: str, labels: list[str], metric: str = "si_sdri") -> list[dict]:
    """One row per method other than ``baseline``: the paired difference in ``metric``."""
    base = _index(records, baseline, metric)
    rows = []
    for label in labels:
        if label == baseline:
            continue
        other = _index(records, label, metric)
        by_stem: dict[tuple[str, str], list[float]] = {}
        undefined = 0
        for stem in sorted(base.keys() & other.keys()):
            ours, theirs = other[stem], base[stem]
            for seed in sorted(_seeds(ours, theirs), key=str):
                difference = ours.get(seed, ours.get(None)) - theirs.get(seed, theirs.get(None))
                if np.isfinite(difference):
                    by_stem.setdefault(stem, []).append(difference)
                else:
                    undefined += 1
        differences = np.array([d for values in by_stem.values() for d in values])
        stem_means = np.array([np.mean(values) for values in by_stem.values()])
        rows.append(
            {
                "method": label,
                "baseline": baseline,
                "metric": metric,
                "mean_difference": float(differences.mean()) if differences.size else None,
                "standard_error": (
                    float(stem_means.std(ddof=1) / np.sqrt(stem_means.size)) if stem_means.size > 1 else None
                ),
                "pairs": int(differences.size),
                "stems": int(stem_means.size),
                "improved": int(np.sum(differences > 0)),
                "undefined": undefined,
            }
        )
    return rows


def markdown(rows: list[dict]) -> str:
    """One table per metric: the difference from the baseline, mean ± standard error."""
    tables = []
    for metric, name in METRICS.items():
        selected = [r for r in rows if r["metric"] == metric]
        if not selected:
            continue
        lines = [
            f"**Paired {name} difference from {selected[0]['baseline']} (dB; same stems and seeds): mean ± standard "
            "error (over stems), pairs, stems, pairs improved; (k undefined): pairs with a silent estimate, left out**",
            "",
            "| method | difference | pairs | stems | improved |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in selected:
            mean = "–" if r["mean_difference"] is None else f"{r['mean_difference']:+.2f}"
            error = "" if r["standard_error"] is None else f" ± {r['standard_error']:.2f}"
            undefined = f" ({r['undefined']} undefined)" if r["undefined"] else ""
            lines.append(
                f"| {r['method']} | {mean}{error}{undefined} | {r['pairs']} | {r['stems']} | {r['improved']} |"
            )
        tables.append("\n".join(lines))
    return "\n\n".join(tables)
