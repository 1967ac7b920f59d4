"""The fooling check: does the tagger believe an estimate more than it believes the true stem?

Steering by a tagger can produce adversarial output: a near-mixture that the tagger rates as
the target source with high confidence (see shared/research/feasibility.md). So next to
SI-SDRi we report the target-tag probability of the estimate and of the true stem, and flag an
estimate that the tagger rates far above the true stem while SI-SDRi stays near zero.
"""

from __future__ import annotations

import numpy as np

from tagbox.errors import UnknownNameError

DEFAULT_TAGGER = "mtat-musicnn"
# "Far above" is measured in log-odds, because probabilities saturate: a true stem the tagger
# already rates 0.7 cannot be beaten by 0.25 in probability, but 0.88 is 3x its odds.
FOOLING_LOG_ODDS = 1.0
# ...while separating next to nothing.
FOOLING_MAX_SI_SDRI_DB = 1.0


def log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def is_fooled(p_estimate: float | None, p_stem: float | None, si_sdri: float) -> bool:
    """Whether an estimate looks like a tagger-fooling near-mixture: its target-tag odds are at
    least e times the true stem's while its SI-SDRi is under 1 dB."""
    if p_estimate is None or p_stem is None or not np.isfinite(si_sdri):
        return False
    return log_odds(p_estimate) - log_odds(p_stem) >= FOOLING_LOG_ODDS and si_sdri < FOOLING_MAX_SI_SDRI_DB


class TagProbe:
    """Target-tag probability of audio, defined as the Separator reports it: the mean probability
    of the source's own tags (e.g. drums, beat, beats), averaged over the tagger's windows of the
    mono downmix at 16 kHz, then over the taggers whose vocabulary has a tag for the source.
    ``None`` when none has. The taggers run on ``device``; the audio is moved there."""

    def __init__(self, tagger_ids: tuple[str, ...], device: str = "cpu"):
        from tagbox.taggers import load_tagger

        self.device = device
        self.taggers = [load_tagger(tagger_id, device=device) for tagger_id in tagger_ids]

    def target_probability(self, audio: np.ndarray, sample_rate: int, source: str) -> float | None:
        import torch

        from tagbox.audio import resample
        from tagbox.sources import source_tags
        from tagbox.taggers import predict

        mono = torch.as_tensor(np.asarray(audio, dtype=np.float32).mean(axis=0), device=self.device)
        values = []
        for tagger in self.taggers:
            try:
                tags = source_tags(source, tagger.vocabulary)
            except UnknownNameError:  # a dataset's own stem name (e.g. Slakh "brass"): no tag for it
                return None
            if not tags:
                continue
            with torch.no_grad():
                probabilities = predict(tagger, resample(mono, sample_rate, tagger.sample_rate))
            values.append(float(probabilities[[tagger.tags.index(tag) for tag in tags]].mean()))
        return float(np.mean(values)) if values else None
