"""Absent-source measurement: silence for a source the track lacks, audio for one it has.

Over the (track, source, seed) results of each method that reports its verdict (tagbox: the
Separator's ``absent`` flag, set when the target-tag probability stays under its
``absent_threshold`` both on the mixture and after steering):

- asked for a source the track has no stem for: a *true negative* when the method declared it
  absent (returned silence), a *false positive* when it returned audio; the false positives'
  mean energy share of the mixture says how much of the track was passed off as the source;
- asked for a stem the track has: a *false negative* when the method declared it absent.
"""

from __future__ import annotations

import numpy as np

from tagbox.evaluation.summary import OVERALL, by_source_and_method

VERDICT = "absent"


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


def absent_summary(records: list[dict], methods: list[str]) -> list[dict]:
    """One row per (source, method) with a verdict, then one ``overall`` row per method."""
    groups = by_source_and_method([record for record in records if VERDICT in record])
    sources = sorted({source for source, _ in groups} - {OVERALL}) + [OVERALL]
    rows = []
    for method in methods:
        for source in sources:
            group = groups.get((source, method))
            if not group:
                continue
            missing = [r for r in group if not r.get("present", True)]
            there = [r for r in group if r.get("present", True)]
            hallucinated = [r for r in missing if not r[VERDICT]]
            silenced = [r for r in there if r[VERDICT]]
            energy = [r["energy_ratio"] for r in hallucinated]
            rows.append(
                {
                    "source": source,
                    "method": method,
                    "asked_absent": len(missing),
                    "true_negatives": len(missing) - len(hallucinated),
                    "false_positives": len(hallucinated),
                    "false_positive_rate": _rate(len(hallucinated), len(missing)),
                    "false_positive_energy_share": float(np.mean(energy)) if energy else None,
                    "asked_present": len(there),
                    "false_negatives": len(silenced),
                    "false_negative_rate": _rate(len(silenced), len(there)),
                    "thresholds": sorted({r["absent_threshold"] for r in group if "absent_threshold" in r}),
                }
            )
    return rows


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def markdown(rows: list[dict]) -> str:
    """The absent-source table, one line per (method, source)."""
    if not rows:
        return ""
    lines = [
        "**Absent sources: asked for a source the track lacks, true negatives (silence) and false positives "
        "(audio; their mean energy share of the mixture); asked for a stem it has, false negatives (silence). "
        "Counts over (track, source, seed)**",
        "",
        "| method | threshold | source | asked absent | TN | FP | FP rate | FP energy | asked present | FN | FN rate |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        threshold = ", ".join(f"{t:g}" for t in r["thresholds"]) or "–"
        source = f"**{r['source']}**" if r["source"] == OVERALL else r["source"]
        lines.append(
            f"| {r['method']} | {threshold} | {source} | {r['asked_absent']} | {r['true_negatives']} | "
            f"{r['false_positives']} | {_percent(r['false_positive_rate'])} | "
            f"{_percent(r['false_positive_energy_share'])} | {r['asked_present']} | {r['false_negatives']} | "
            f"{_percent(r['false_negative_rate'])} |"
        )
    return "\n".join(lines)
