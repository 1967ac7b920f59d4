"""The fooling check: does the tagger believe an estimate more than it believes the true stem?

Steering by a tagger can produce adversarial output: a near-mixture that the tagger rates as
the target source with high confidence (see shared/research/feasibility.md). So next to
SI-SDRi we report the target-tag probability of the estimate and of the true stem, and flag an
estimate that the tagger rates far above the true stem while SI-SDRi stays near zero.
"""

from __future__ import annotations

import numpy as np

DEFAULT_TAGGER = "mtat-musicnn"
# "Far above": the estimate convinces the tagger this much more than the real stem does...
FOOLING_MARGIN = 0.25
# ...while separating next to nothing.
FOOLING_MAX_SI_SDRI_DB = 1.0


def is_fooled(p_estimate: float | None, p_stem: float | None, si_sdri: float) -> bool:
    """Whether an estimate looks like a tagger-fooling near-mixture."""
    if p_estimate is None or p_stem is None or not np.isfinite(si_sdri):
        return False
    return p_estimate >= p_stem + FOOLING_MARGIN and si_sdri < FOOLING_MAX_SI_SDRI_DB


class TagProbe:
    """Target-tag probability of audio under one tagger: the highest probability among the
    source's tags (e.g. drums, beat, beats), from the mean over the tagger's windows of the mono
    downmix at the tagger's rate. ``None`` when the vocabulary has no tag for the source."""

    def __init__(self, tagger_id: str):
        from tagbox.taggers import load_tagger

        self.tagger = load_tagger(tagger_id)
        self.id = tagger_id

    def target_probability(self, audio: np.ndarray, sample_rate: int, source: str) -> float | None:
        import torch

        from tagbox.audio import resample
        from tagbox.sources import source_tags
        from tagbox.taggers import predict

        tags = source_tags(source, self.tagger.vocabulary)
        if not tags:
            return None
        mono = torch.as_tensor(np.asarray(audio, dtype=np.float32).mean(axis=0))
        with torch.no_grad():
            probabilities = predict(self.tagger, resample(mono, sample_rate, self.tagger.sample_rate))
        index = [self.tagger.tags.index(tag) for tag in tags]
        return float(probabilities[index].max())
