"""The report page of ``tagbox steer``: input and steered audio side by side, and the tags over the steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tagbox.report import figures
from tagbox.report.page import PAGE, escape, number, player, table


def steer_section(index: int, entry: dict, copy: Callable[[str, Path], str], media_dir: Path, base: Path,
                  folder: Path) -> str:
    """One input: players, spectrograms, the tags before and after per tagger, the tags over the steps."""
    source, steered = Path(entry["input"]), base / entry["output"]
    spectra = {"input": figures.spectrum(source), "steered": figures.spectrum(steered)}
    pictures = [figures.spectrograms(media_dir / "spectrograms.png", spectra),
                figures.tag_curves(media_dir / "tags.png", entry["history"], entry["tags"])]
    rows = [(escape(name), escape(tagger) + (" (judge)" if tagger == entry["judge"] else ""),
             number(f"files.{index}.tags.{name}.{tagger}.0", before), number(f"files.{index}.tags.{name}.{tagger}.1", after))
            for name, by in entry["tags"].items() for tagger, (before, after) in by.items()]
    key = f"files.{index}"
    moved = (f"moved {number(f'{key}.lsd_db', entry['lsd_db'], 1)} dB log-spectral distance from the input (the "
             f"generator's own reconstruction: {number(f'{key}.reconstruction_lsd_db', entry['reconstruction_lsd_db'], 1)} "
             f"dB); SI-SDR to the input {number(f'{key}.si_sdr_db', entry['si_sdr_db'], 1)} dB")
    return (f'<section class="track" id="track-{index}"><h2>{escape(source.name)}</h2>'
            f'<p>toward {escape(", ".join(entry["toward"]) or "–")} &middot; away {escape(", ".join(entry["away"]) or "–")}'
            f' &middot; {entry["steps"]} steps &middot; stay close {entry["stay_close"]:g}</p>'
            f'<div class="players">{player("input", copy("input", source))}{player("steered", copy("steered", steered))}</div>'
            + table(rows, ("tag", "tagger", "before", "after")) + f"<p>{moved}</p>"
            + "".join(f'<img alt="{escape(p.stem)}" src="{escape(p.relative_to(folder).as_posix())}">' for p in pictures)
            + "</section>")


def render_steer(title: str, sections: list[str]) -> str:
    note = ("<p>Each tag's probability by the taggers that steered and by the judge, which did not: a tag that "
            "rises only for the steering taggers changed their opinion, not the music.</p>")
    return PAGE.substitute(title=escape(title), body="\n".join([note, *sections]))
