"""The report pages of a batch and of a benchmark run: self-contained HTML written with the standard library.

Every number shown carries ``data-key`` (its path in ``results.json``, e.g.
``files.0.sources.drums.probability_after``) and ``data-digits``, so a test can check the page
against the results it was drawn from.
"""

from __future__ import annotations

import html
import json
from string import Template
from typing import Sequence

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
section.track { border-top: 2px solid #444; margin-top: 2em; }
.players { display: grid; grid-template-columns: max-content 1fr; gap: 0.3em 1em; align-items: center; }
audio { width: 100%; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
.warning { background: #fff3cd; border-left: 4px solid #e0a800; padding: 0.3em 0.6em; margin: 0.3em 0; }
.failed { color: #a00; }
</style>
</head>
<body>
<h1>$title</h1>
$body
</body>
</html>
""")


def escape(value) -> str:
    return html.escape(str(value), quote=True)


def number(key: str, value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f'<span class="number" data-key="{escape(key)}" data-digits="{digits}">{value:.{digits}f}</span>'


def table(rows: Sequence[Sequence[str]], header: Sequence[str] = ()) -> str:
    head = "<tr>" + "".join(f"<th>{cell}</th>" for cell in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def settings_table(settings: dict) -> str:
    return table([(escape(key), escape(json.dumps(value) if isinstance(value, (dict, list)) else value))
                  for key, value in settings.items()])


def files_table(files: list[dict], names: list[str]) -> str:
    rows = []
    for index, entry in enumerate(files):
        link = f'<a href="#track-{index}">{escape(names[index])}</a>'
        probabilities = "<br>".join(
            f"{escape(source)}: {number(f'files.{index}.sources.{source}.probability_before', info['probability_before'])}"
            f" &rarr; {number(f'files.{index}.sources.{source}.probability_after', info['probability_after'])}"
            + (" (absent)" if info["absent"] else "")
            for source, info in entry.get("sources", {}).items()
        )
        status = escape(entry["status"])
        if entry.get("error"):
            status = f'<span class="failed">{status}: {escape(entry["error"])}</span>'
        rows.append((link, status, number(f"files.{index}.seconds", entry.get("seconds"), 1), probabilities))
    return table(rows, ("file", "status", "seconds", "target tag probability: mixture &rarr; estimate"))


def player(label: str, src: str) -> str:
    return f'<span>{escape(label)}</span><audio controls preload="auto" src="{escape(src)}"></audio>'


def source_block(index: int, source: str, info: dict, media: dict[str, str], joint: bool) -> str:
    """Players, numbers, warnings and pictures of one source of one track; with ``joint`` the rest
    is what every source requested together leaves, else what this one leaves."""
    rest = "rest (the mixture minus every requested source)" if joint else f"no_{source} (the mixture minus the estimate)"
    key = f"files.{index}.sources.{source}"
    warnings = list(info["warnings"])
    if info["absent"]:
        warnings.insert(0, f"'{source}' counted as absent: the estimate is silence")
    players = "".join(player(label, media[name]) for name, label in
                      (("estimate", f"estimate ({source})"), ("rest", rest), ("true", f"true {source}")) if name in media)
    steps = len(info["history"]["loss"])
    curves = (f'<img alt="target tag probability and loss over the steps ({escape(source)})" src="{escape(media["curves"])}">'
              if "curves" in media else f'<p class="note">{escape(source)} took no steering step: its estimate is the '
              f'labelled start, heard once by the taggers (above).</p>')
    return (
        f'<h3>{escape(source)}</h3>'
        + "".join(f'<div class="warning">{escape(w)}</div>' for w in warnings)
        + table([("target tag probability, mixture", number(f"{key}.probability_before", info["probability_before"])),
                 ("target tag probability, estimate", number(f"{key}.probability_after", info["probability_after"])),
                 ("heard by", escape(", ".join(info.get("taggers", [])) or "n/a")),
                 *([("plays (presence per segment)", ", ".join(number(f"{key}.presence.{i}", p) for i, p in
                                                              enumerate(info["presence"])))] if info.get("presence") else []),
                 ("steps", str(steps))])
        + f'<div class="players">{players}</div>'
        + f'<img alt="spectrograms of mixture, estimate and rest ({escape(source)})" src="{escape(media["spectrograms"])}">'
        + (f'<img alt="how likely {escape(source)} plays in each segment" src="{escape(media["presence"])}">'
           if "presence" in media else "")
        + curves
    )


def track_section(index: int, name: str, entry: dict, mixture: str | None, media: dict[str, dict[str, str]]) -> str:
    parts = [f'<section class="track" id="track-{index}"><h2>{escape(name)}</h2>',
             f'<p>{escape(entry["input"])} &middot; {escape(entry["status"])} &middot; '
             f'{number(f"files.{index}.seconds", entry.get("seconds"), 1)} s</p>']
    if mixture:
        parts.append(f'<div class="players">{player("mixture", mixture)}</div>')
    if entry.get("error"):
        parts.append(f'<p class="failed">{escape(entry["error"])}</p>')
    joint = "rest" in entry.get("outputs", {})
    parts += [source_block(index, source, info, media[source], joint) for source, info in entry.get("sources", {}).items()
              if source in media]
    return "".join(parts) + "</section>"


def render(title: str, results: dict, names: list[str], tracks: list[str]) -> str:
    summary = results.get("summary") or {}
    line = (f"last batch: {summary.get('done', 0)} done, {summary.get('skipped', 0)} skipped, {summary.get('failed', 0)} failed"
            f" in {number('summary.seconds', summary.get('seconds'), 1)} s" if summary else "batch not finished")
    if results.get("interrupted"):
        line += " (interrupted)"
    line += f" &middot; started {escape(results.get('started'))}, finished {escape(results.get('finished'))}"
    return PAGE.substitute(title=escape(title), body="\n".join([
        f"<p>{line}</p>", "<h2>Settings</h2>", settings_table(results.get("settings", {})),
        "<h2>Files</h2>", files_table(results["files"], names), *tracks,
    ]))


def _flag(value) -> str:
    return "–" if value is None else "yes" if value else "no"


def _dash(value) -> str:
    return "–" if value is None else str(value)


def eval_summary_table(rows: list[dict]) -> str:
    """Per (source, configuration): SI-SDRi mean and median over (stem, seed) pairs, and the tag probabilities."""
    return table([(escape(r["source"]), escape(r["method"]), str(r["n"]), number(f"summary.{i}.si_sdri_mean", r["si_sdri_mean"], 2),
                   number(f"summary.{i}.si_sdri_median", r["si_sdri_median"], 2),
                   number(f"summary.{i}.si_sdri_seed_std", r["si_sdri_seed_std"], 2),
                   number(f"summary.{i}.p_estimate_mean", r.get("p_estimate_mean")), str(r["undefined"]))
                  for i, r in enumerate(rows)],
                 ("source", "method", "n", "SI-SDRi mean (dB)", "SI-SDRi median (dB)", "± seeds", "p estimate", "undefined"))


def eval_paired_table(rows: list[dict]) -> str:
    return table([(escape(r["method"]), escape(r["metric"]), number(f"paired.{i}.mean_difference", r["mean_difference"], 2),
                   number(f"paired.{i}.standard_error", r["standard_error"], 2), str(r["pairs"]), str(r["improved"]))
                  for i, r in enumerate(rows)],
                 ("method", "metric", "difference (dB)", "standard error", "pairs", "improved"))


def eval_track_section(index: int, track: str, rows: list[tuple[int, dict]]) -> str:
    """One track's results: a row per (source, method, seed), numbers keyed by their index in ``results``."""
    cells = [(escape(r["source"]) + ("" if r.get("present", True) else " (not in the track)"), escape(r["method"]),
              escape(_dash(r.get("seed"))), number(f"results.{i}.si_sdri", r.get("si_sdri"), 2),
              number(f"results.{i}.si_sdr", r.get("si_sdr"), 2), number(f"results.{i}.p_before", r.get("p_before")),
              number(f"results.{i}.p_after", r.get("p_after")), _flag(r.get("absent")),
              number(f"results.{i}.seconds", r.get("seconds"), 2)) for i, r in rows]
    header = ("source", "method", "seed", "SI-SDRi (dB)", "SI-SDR (dB)", "p before", "p after", "declared absent", "seconds")
    return f'<section class="track" id="track-{index}"><h2>{escape(track)}</h2>{table(cells, header)}</section>'


def render_eval(title: str, results: dict) -> str:
    """The page of a benchmark run: settings, summary, paired comparison, links to and sections of every track."""
    by_track: dict[str, list[tuple[int, dict]]] = {}
    for i, record in enumerate(results["results"]):
        by_track.setdefault(record["track"], []).append((i, record))
    excerpt = f"offset {results['offset']:g} s" + (f", duration {results['duration']:g} s" if results["duration"] else "")
    body = [f"<p>{len(by_track)} tracks, {len(results['results'])} results, {excerpt}, "
            f"{len(results['failures'])} failures</p>", "<h2>Settings</h2>",
            settings_table({"datasets": [f"{d['root']} ({d['layout']})" for d in results["datasets"]], "seeds": results["seeds"],
                            "methods": {m["label"]: dict(m["options"]) for m in results["methods"]}, "taggers": results["taggers"]}),
            "<h2>Summary: SI-SDRi (dB), mean and median over (stem, seed) pairs</h2>", eval_summary_table(results["summary"])]
    if results["paired"]:
        body += [f"<h2>Paired comparison with {escape(results['paired'][0]['baseline'])}</h2>",
                 eval_paired_table(results["paired"])]
    if results["failures"]:
        body += ["<h2>Failures</h2>", table([(escape(" / ".join(str(f[k]) for k in ("track", "source", "method") if k in f)),
                                              f'<span class="failed">{escape(f["error"])}</span>') for f in results["failures"]])]
    body += ["<h2>Tracks</h2>", table([(f'<a href="#track-{index}">{escape(track)}</a>', str(len(rows)))
                                      for index, (track, rows) in enumerate(by_track.items())], ("track", "results"))]
    body += [eval_track_section(index, track, rows) for index, (track, rows) in enumerate(by_track.items())]
    return PAGE.substitute(title=escape(title), body="\n".join(body))
