"""How strongly each pretrained tagger recognises each source on its own: the recognisability table.

Steering can only pull out a source the taggers hear when it plays alone. For every stem of a
multitrack set (synth-dev by default) and every pretrained tagger whose vocabulary can express
the stem's source, this takes the source's target probability (the mean probability of its
tags, as the Separator reports it) on the isolated stem and on the track's mixture, each
wrapped around to fill whole tagger windows, averages them per (tagger, source), and gives a
verdict:

    recognised  <=>  p_isolated >= MIN_ISOLATED  and  p_isolated - p_mixture >= MIN_MARGIN

The first condition says the tagger hears the source alone at all; the second that hearing it
alone is clearly more convincing than hearing the mixture, i.e. the objective rewards removing
the rest. The margin is a difference, not a ratio: a source the tagger already hears well in
mixtures (guitar at 0.5) is still recognised when alone it scores 0.67, while a ratio of 2
would ask for the impossible. Writes ``tagbox/data/recognisability.json`` (read by
:mod:`tagbox.recognisability`, which makes ``tagbox separate`` warn about weak pairs) and prints
a Markdown table.

    TAGBOX_WEIGHTS_MIRROR=/work/shared/weights OMP_NUM_THREADS=1 python bench/recognisability.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from tagbox.audio import load_audio
from tagbox.steering import source_probability
from tagbox.taggers import TAGGERS
from tagbox.taggers.ensemble import TaggerEnsemble

SHARED = Path(os.environ.get("TAGBOX_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DEFAULT_DATA = SHARED / "data" / "synth-dev"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "tagbox" / "data" / "recognisability.json"
MIN_ISOLATED = 0.3
MIN_MARGIN = 0.1
COMMAND = "TAGBOX_WEIGHTS_MIRROR=/work/shared/weights OMP_NUM_THREADS=1 python bench/recognisability.py"


def pretrained_taggers() -> list[str]:
    return [tagger_id for tagger_id, spec in TAGGERS.items() if spec.pretrained]


def stem_probabilities(tagger_ids: list[str], data: Path) -> list[dict]:
    """One row per (tagger, stem) the tagger can express: p on the stem alone and on its mixture,
    as :func:`tagbox.steering.source_probability` gives it (the Separator's number)."""
    tracks = json.loads((data / "index.json").read_text())["tracks"]
    rows = []
    with tqdm(total=len(tagger_ids) * len(tracks), unit="track") as bar:
        for tagger_id in tagger_ids:
            ensemble = TaggerEnsemble.load(tagger_id)
            bar.set_description(tagger_id)
            for track in tracks:
                mixture, rate = load_audio(data / track["mixture"])
                for stem in track["stems"]:
                    p_mixture = source_probability(ensemble, mixture, sample_rate=rate, source=stem)
                    if p_mixture is None:
                        continue
                    isolated, stem_rate = load_audio(data / track["dir"] / f"{stem}.flac")
                    rows.append({
                        "tagger": tagger_id, "source": stem, "track": track["id"],
                        "p_isolated": source_probability(ensemble, isolated, sample_rate=stem_rate, source=stem),
                        "p_mixture": p_mixture,
                    })
                bar.update(1)
    return rows


def aggregate(rows: list[dict]) -> dict[str, dict[str, dict]]:
    """Per tagger and source: n, mean probabilities and the verdict."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["tagger"], row["source"])].append(row)
    table: dict[str, dict[str, dict]] = defaultdict(dict)
    for (tagger_id, source), group in groups.items():
        isolated = float(np.mean([row["p_isolated"] for row in group]))
        mixture = float(np.mean([row["p_mixture"] for row in group]))
        table[tagger_id][source] = {
            "n": len(group),
            "p_isolated": round(isolated, 4),
            "p_mixture": round(mixture, 4),
            "recognised": isolated >= MIN_ISOLATED and isolated - mixture >= MIN_MARGIN,
        }
    return {tagger_id: dict(sorted(entries.items())) for tagger_id, entries in table.items()}


def markdown(table: dict[str, dict[str, dict]]) -> str:
    lines = ["| tagger | source | n | p isolated | p mixture | recognised |", "|---|---|---|---|---|---|"]
    for tagger_id, entries in table.items():
        for source, entry in entries.items():
            lines.append(
                f"| {tagger_id} | {source} | {entry['n']} | {entry['p_isolated']:.3f} | {entry['p_mixture']:.3f} "
                f"| {'yes' if entry['recognised'] else '**no**'} |"
            )
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, path)
    path.chmod(0o644)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="multitrack set with index.json")
    parser.add_argument("--taggers", nargs="+", default=pretrained_taggers(), choices=pretrained_taggers())
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = stem_probabilities(args.taggers, args.data)
    table = aggregate(rows)
    index = json.loads((args.data / "index.json").read_text())
    document = {
        "_comment": (
            "How strongly each pretrained tagger recognises each source on its own. For every stem of the "
            "data set whose source the tagger's vocabulary can express (tagbox.sources.source_tags), the "
            "mean probability of the source's tags (tagbox.steering.source_probability, mono, resampled to 16 kHz, "
            "wrapped around to fill whole tagger windows, mean over the windows) on the isolated stem and "
            "on its track's mixture, averaged per tagger and source. Written by bench/recognisability.py; "
            "read by tagbox.recognisability."
        ),
        "command": " ".join([COMMAND, *sys.argv[1:]]),
        "data": {"name": index.get("name", args.data.name), "tracks": len(index["tracks"]),
                 "stems": sum(len(track["stems"]) for track in index["tracks"])},
        "rule": {
            "recognised": "p_isolated >= min_isolated and p_isolated - p_mixture >= min_margin",
            "min_isolated": MIN_ISOLATED,
            "min_margin": MIN_MARGIN,
        },
        "taggers": table,
    }
    write_atomic(args.out, json.dumps(document, indent=1) + "\n")
    print(markdown(table))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
