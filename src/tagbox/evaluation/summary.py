"""Summary tables of an evaluation: mean and median per source and method, as Markdown and JSON.

Every table names its metric in its title. SI-SDRi leads (it cannot be gamed by quiet output);
BSSEval v4 SDR is aggregated the museval way (median over 1 s frames, then median over stems).
A method run with several seeds is summarised over all (stem, seed) pairs; its spread across
seeds is the sample standard deviation (ddof 1) of its per-seed means. Only the stems a track
has are summarised here; the absent-source queries are summarised by ``absent.py``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from tagbox.evaluation.fooling import (
    FOOLING_LOG_ODDS,
    FOOLING_MAX_SI_SDRI_DB,
    is_fooled,
)

OVERALL = "overall"
# What each number of ``tagbox eval --json`` means, written into the JSON beside them.
METRIC_NOTES = {
    "si_sdr": "SI-SDR of the estimate, dB (zero-mean, scale-invariant; Le Roux 2019); NaN for a silent estimate",
    "si_sdri": "SI-SDR of the estimate minus SI-SDR of the mixture, dB",
    "sdr": "BSSEval v4 SDR (museval, images mode, 1 s frames, median over frames), dB; 0 for all-zero output",
    "sdri": "SDR of the estimate minus SDR of the mixture, dB",
    "si_sdri_seed_std": "sample standard deviation (ddof 1) of the per-seed mean SI-SDRi",
    "paired": "mean of (method - baseline) over shared (track, source, seed) pairs; standard error over the "
    "per-stem mean differences",
    "seconds": "wall time of the method on the stem, s",
    "p_estimate": "mean probability of the source's tags for the estimate, over windows and taggers",
    "p_stem": "the same for the true stem",
    "fooled": "log-odds of p_estimate >= those of p_stem + 1 while si_sdri < 1 dB",
    "absent": "tagbox declared the source absent and returned silence (p_before and p_after, the target-tag "
    "probability on the mixture and on the steered estimate, both under absent_threshold)",
    "present": "false for an absent-source query: a source the track has no stem for",
    "energy_ratio": "energy of the estimate over that of the mixture",
}


def _finite(values) -> np.ndarray:
    array = np.array([v for v in values if v is not None], dtype=np.float64)
    return array[np.isfinite(array)]


def _stat(values, how) -> float | None:
    array = _finite(values)
    return float(how(array)) if array.size else None


def flagged(records: list[dict]) -> list[dict]:
    """Results whose estimate the tagger believes far more than the true stem, SI-SDRi near 0."""
    return [r for r in present(records) if is_fooled(r.get("p_estimate"), r.get("p_stem"), r["si_sdri"])]


def present(records: list[dict]) -> list[dict]:
    """The results of stems the track has (not the absent-source queries)."""
    return [r for r in records if r.get("present", True)]


def seed_spread(group: list[dict], key: str = "si_sdri") -> float | None:
    """Sample standard deviation of the per-seed means; None with fewer than two seeds."""
    by_seed: dict[int, list] = defaultdict(list)
    for record in group:
        if record.get("seed") is not None:
            by_seed[record["seed"]].append(record.get(key))
    means = [m for m in (_stat(values, np.mean) for values in by_seed.values()) if m is not None]
    return float(np.std(means, ddof=1)) if len(means) > 1 else None


def by_source_and_method(records: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Records grouped by (source, method), each also counted under (``overall``, method)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        groups[(record["source"], record["method"])].append(record)
        groups[(OVERALL, record["method"])].append(record)
    return groups


def summarize(records: list[dict], methods: list[str]) -> list[dict]:
    """One row per (source, method), then one ``overall`` row per method over all stems and seeds."""
    records = present(records)
    groups = by_source_and_method(records)
    counts = defaultdict(int)
    for record in records:
        counts[record["source"]] += 1
    sources = sorted(counts, key=lambda s: (-counts[s], s)) + [OVERALL]
    rows = []
    for source in sources:
        for method in methods:
            group = groups.get((source, method))
            if not group:
                continue
            column = lambda key: [r.get(key) for r in group]  # noqa: E731
            rows.append(
                {
                    "source": source,
                    "method": method,
                    "n": len(group),
                    "seeds": len({r.get("seed") for r in group} - {None}),
                    "undefined": len(group) - _finite(column("si_sdri")).size,
                    "si_sdri_mean": _stat(column("si_sdri"), np.mean),
                    "si_sdri_median": _stat(column("si_sdri"), np.median),
                    "si_sdri_seed_std": seed_spread(group),
                    "si_sdr_mean": _stat(column("si_sdr"), np.mean),
                    "si_sdr_median": _stat(column("si_sdr"), np.median),
                    "sdr_median": _stat(column("sdr"), np.median),
                    "sdr_mean": _stat(column("sdr"), np.mean),
                    "sdri_mean": _stat(column("sdri"), np.mean),
                    "sdri_median": _stat(column("sdri"), np.median),
                    "seconds_mean": _stat(column("seconds"), np.mean),
                    "p_estimate_mean": _stat(column("p_estimate"), np.mean),
                    "p_stem_mean": _stat(column("p_stem"), np.mean),
                    "fooled": len(flagged(group)),
                }
            )
    return rows


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(rows: list[dict], methods: list[str], title: str, cell) -> str:
    """A source x method table; ``cell(row)`` renders one (source, method) result."""
    by_key = {(r["source"], r["method"]): r for r in rows}
    sources = list(dict.fromkeys(r["source"] for r in rows))
    lines = [
        f"**{title}**",
        "",
        "| source | n | " + " | ".join(methods) + " |",
        "|---|---:|" + "---:|" * len(methods),
    ]
    for source in sources:
        n = max(by_key[(source, m)]["n"] for m in methods if (source, m) in by_key)
        cells = [cell(by_key[(source, m)]) if (source, m) in by_key else "–" for m in methods]
        name = f"**{source}**" if source == OVERALL else source
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(rows: list[dict], methods: list[str], records: list[dict]) -> str:
    """The printed report: one table per metric, then any estimates flagged as fooling the tagger."""
    tables = [
        _table(
            rows, methods,
            "SI-SDRi (dB; SI-SDR of the estimate minus SI-SDR of the mixture), mean / median over "
            "(stem, seed) pairs; ±s: standard deviation of the per-seed means; "
            "(k undefined): silent estimates, left out of the mean",
            lambda r: f"{_fmt(r['si_sdri_mean'])} / {_fmt(r['si_sdri_median'])}"
            + (f" ±{_fmt(r['si_sdri_seed_std'], 2)}" if r["si_sdri_seed_std"] is not None else "")
            + (f" ({r['undefined']} undefined)" if r["undefined"] else ""),
        ),
        _table(
            rows, methods,
            "SI-SDR of the estimate (dB, zero-mean, scale-invariant), mean / median over stems",
            lambda r: f"{_fmt(r['si_sdr_mean'])} / {_fmt(r['si_sdr_median'])}",
        ),
    ]
    if any(r["sdr_median"] is not None for r in rows):
        tables.append(
            _table(
                rows, methods,
                "BSSEval v4 SDR (dB; museval: 1 s frames, median over frames), median / mean over stems. "
                "Rewards quiet output: a near-silent estimate scores about 0 dB",
                lambda r: f"{_fmt(r['sdr_median'])} / {_fmt(r['sdr_mean'])}",
            )
        )
        tables.append(
            _table(
                rows, methods,
                "BSSEval v4 SDRi (dB; SDR of the estimate minus SDR of the mixture), mean / median. "
                "Compare with the silence anchor: all-zero output scores 0 dB SDR",
                lambda r: f"{_fmt(r['sdri_mean'])} / {_fmt(r['sdri_median'])}",
            )
        )
    tables.append(
        _table(rows, methods, "Wall time of the method per stem (s), mean", lambda r: _fmt(r["seconds_mean"], 2))
    )
    tagger = next((r.get("tagger") for r in records if r.get("tagger")), None)
    if tagger:
        tables.append(
            _table(
                rows, methods,
                f"Target-tag probability ({tagger}): estimate / true stem, mean; [k fooled] counts estimates whose "
                f"log-odds exceed the true stem's by >= {FOOLING_LOG_ODDS:g} with SI-SDRi < {FOOLING_MAX_SI_SDRI_DB:g} dB",
                lambda r: f"{_fmt(r['p_estimate_mean'], 2)} / {_fmt(r['p_stem_mean'], 2)}"
                + (f" [{r['fooled']} fooled]" if r["fooled"] else ""),
            )
        )
        fooled = flagged(records)
        if fooled:
            lines = ["**Flagged: the tagger rates the estimate far above the true stem, SI-SDRi near zero**", ""]
            lines += [
                "| track | source | method | SI-SDRi (dB) | p estimate | p true stem |",
                "|---|---|---|---:|---:|---:|",
            ]
            lines += [
                f"| {r['track']} | {r['source']} | {r['method']} | {_fmt(r['si_sdri'])} | "
                f"{_fmt(r['p_estimate'], 2)} | {_fmt(r['p_stem'], 2)} |"
                for r in fooled
            ]
            tables.append("\n".join(lines))
    return "\n\n".join(tables)
