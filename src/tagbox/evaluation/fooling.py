"""The fooling check: does the tagger believe an estimate more than it believes the true stem?

Steering by a tagger can produce adversarial output: a near-mixture that the tagger rates as
the target source with high confidence (see shared/research/feasibility.md). So next to
SI-SDRi we report the target-tag probability of the estimate and of the true stem, and flag an
estimate that the tagger rates far above the true stem while SI-SDRi stays near zero.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch

from tagbox.pipeline.labelling import log_odds

DEFAULT_TAGGER = "mtat-musicnn"
# "Far above" is measured in log-odds, because probabilities saturate: a true stem the tagger
# already rates 0.7 cannot be beaten by 0.25 in probability, but 0.88 is 3x its odds.
FOOLING_LOG_ODDS = 1.0
# ...while separating next to nothing.
FOOLING_MAX_SI_SDRI_DB = 1.0


def is_fooled(p_estimate: float | None, p_stem: float | None, si_sdri: float) -> bool:
    """Whether an estimate looks like a tagger-fooling near-mixture: its target-tag odds are at
    least e times the true stem's while its SI-SDRi is under 1 dB."""
    if p_estimate is None or p_stem is None or not np.isfinite(si_sdri):
        return False
    gap = log_odds(torch.tensor(p_estimate, dtype=torch.float64)) - log_odds(torch.tensor(p_stem, dtype=torch.float64))
    return float(gap) >= FOOLING_LOG_ODDS and si_sdri < FOOLING_MAX_SI_SDRI_DB


def probe(tagger_ids: tuple[str, ...], device: str = "cpu") -> Callable[..., float | None]:
    """``probe(audio, sample_rate=, source=)``: the target probability the check reads, the number
    a separation by these taggers reports for the same audio (:func:`tagbox.steering.source_probability`)."""
    from tagbox.steering import source_probability
    from tagbox.taggers.ensemble import TaggerEnsemble

    return partial(source_probability, TaggerEnsemble.load(tagger_ids, device=device))
