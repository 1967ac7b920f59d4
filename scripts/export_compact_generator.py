#!/usr/bin/env python3
"""Ship a newer checkpoint of the compact generator: export its weights into the package and
pin their sha256 and size in ``tagbox/data/models.json``.

    python scripts/export_compact_generator.py [--run /work/train-runs/compact] [--last]

Uses ``RUN/best.pt`` (best validation SI-SDR) unless ``--last``. Afterwards, refresh the
metrics in ``tagbox/generators/weights/MODEL_CARD.md`` with
``python bench/bench_generator_reconstruction.py`` and the run's ``history.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import torch

from tagbox.training import BEST, LAST, export_weights
from tagbox.weights import sha256sum

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "src" / "tagbox" / "generators" / "weights" / "compact.pt"
REGISTRY = REPO / "src" / "tagbox" / "data" / "models.json"
MAX_BYTES = 10 * 2**20


def pin(model_id: str, path: Path) -> None:
    """Record ``path``'s sha256 and size in the registry entry ``model_id`` (atomically)."""
    data = json.loads(REGISTRY.read_text())
    row = next(m for m in data["models"] if m["id"] == model_id)
    row["sha256"], row["size"] = sha256sum(path), path.stat().st_size
    fd, tmp = tempfile.mkstemp(dir=REGISTRY.parent, suffix=".json.part")
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, REGISTRY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=Path("/work/train-runs/compact"))
    parser.add_argument("--last", action="store_true", help="export last.pt instead of best.pt")
    args = parser.parse_args()
    checkpoint = args.run / (LAST if args.last else BEST)
    export_weights(checkpoint, WEIGHTS)
    if WEIGHTS.stat().st_size > MAX_BYTES:
        export_weights(checkpoint, WEIGHTS, half=True)
    pin("compact", WEIGHTS)
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=False)
    best = max(state["history"], key=lambda h: h["si_sdr"], default=None)
    print(f"{checkpoint} (step {state['step']}, {state['training_seconds'] / 3600:.2f} h) -> "
          f"{WEIGHTS} ({WEIGHTS.stat().st_size / 1e6:.2f} MB); registry pinned")
    if best:
        print(f"best validation: step {best['step']}, SI-SDR {best['si_sdr']:.2f} dB, "
              f"LSD {best['lsd']:.2f} dB")


if __name__ == "__main__":
    main()
