"""What pretrained taggers hear in a file: top tags per tagger, for the whole file or per segment."""

from __future__ import annotations

from pathlib import Path

import torch

from tagbox.audio import check_audio, load_audio
from tagbox.resample import resample
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.taggers.frontend import SAMPLE_RATE


def top_tags(tags: list[str], probs: torch.Tensor, n: int) -> list[dict]:
    """The ``n`` most probable tags, highest first, as ``{"tag", "probability"}`` records."""
    values, indices = probs.topk(min(n, len(tags)))
    return [{"tag": tags[i], "probability": round(v, 4)} for v, i in zip(values.tolist(), indices.tolist())]


def tag_file(path: Path, ensemble: TaggerEnsemble, top: int, segment_seconds: float | None) -> dict:
    """Top tags of one file for each tagger, per segment (one segment covering it all by default)."""
    wav, sample_rate = load_audio(path)
    check_audio(wav, what=str(path))
    mono = resample(torch.from_numpy(wav).to(ensemble.device).mean(0), sample_rate, SAMPLE_RATE)
    duration = wav.shape[-1] / sample_rate
    segment = mono.shape[-1] if segment_seconds is None else max(1, round(segment_seconds * SAMPLE_RATE))
    heard = [ensemble.probabilities(piece, SAMPLE_RATE) for piece in mono.split(segment)]
    step = duration if segment_seconds is None else segment_seconds
    segments = [
        {"start": round(i * step, 3), "end": round(min((i + 1) * step, duration), 3),
         "taggers": {t.id: top_tags(t.tags, probabilities[t.id], top) for t in ensemble.taggers}}
        for i, probabilities in enumerate(heard)
    ]
    return {"path": str(path), "duration": round(duration, 3), "segments": segments}
