"""The ``nmf`` latent: gains of the mixture's KL-NMF components, one set per source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from tagbox.errors import TagboxError
from tagbox.latents.base import GainOptions, MaskedLatent, gain_logit
from tagbox.latents.fragments import FragmentHead, with_fragments
from tagbox.latents.labelling import Hear, Heard, share, start_logits
from tagbox.latents.register import Register, in_register
from tagbox.masks import STFT
from tagbox.nmf import kl_nmf
from tagbox.pitch import fundamentals
from tagbox.settings import choice, flag
from tagbox.sources import canonical_name

STARTS = ("flat", "tagged")
# Components when unset, per start. The tagged start labels 16 as well as 32 (+0.19 +- 0.15 dB
# over 95 stems, two seeds) at half the listening, and two runs of 16 cost what one of 32 did;
# the flat start's steering was measured with 32.
COMPONENTS = {"tagged": 16, "flat": 32}


@dataclass(frozen=True)
class NMFOptions(GainOptions):
    """The dictionary's size, how often along the segment a component's gain may change, and
    where the gains start.

    ``start='flat'``: ``init_gain`` for a single source, several sources equal. ``'tagged'``:
    each component's gains from what the taggers hear in it before any step
    (:mod:`tagbox.latents.labelling`), ``sigmoid(slope * standardised evidence + offset)``
    for one source, where each component's evidence is first joined by what a head learned from
    isolated renders of the source makes of its tags (``fragment_weight``, 0 for none;
    :mod:`tagbox.latents.fragments`), then averaged with that of the
    components that sound like it (``share_temperature``, 0 for none;
    :func:`tagbox.latents.labelling.share`), and then lowered the further the component's pitch
    lies from the source's register (``register_weight``, 0 for none;
    :mod:`tagbox.latents.register`).
    """

    components: int | None = field(default=None, metadata=flag(
        "--components", "NMF components (default: 16 from the tagged start, 32 from the flat one)", type=int))
    time_knots: int = 1  # gains per component along the segment, linearly interpolated
    start: str = field(default="tagged", metadata=flag(
        "--start", "where the gains start: flat (init_gain) or tagged (from what the taggers hear in each component)"))
    start_slope: float = 1.5
    start_offset: float = -1.0
    removal_weight: float = 10.0
    fragment_weight: float = 0.5  # 0: no learned head
    share_temperature: float = 0.2  # 0: each component keeps its own evidence
    register_weight: float = 0.25  # 0: pitch plays no part

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("start", self.start, STARTS)
        for name, off in (("fragment_weight", "no learned head"), ("share_temperature", "no sharing"),
                          ("register_weight", "no register")):
            if getattr(self, name) < 0:
                raise TagboxError(f"{name} must be 0 ({off}) or more, got {getattr(self, name)}")
        for name in ("components", "time_knots"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TagboxError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def component_count(self) -> int:
        """``components``, or the start's own where unset."""
        return COMPONENTS[self.start] if self.components is None else self.components


class NMFLatent(MaskedLatent):
    """Gains of the mixture's KL-NMF components (optionally per time knot), one set per source.

    Each component's gains are a softmax over the sources and the rest. For one source this is
    a sigmoid gain per component. They start where the taggers hear each source (``tagged``) or,
    from the flat start, at ``init_gain`` for one source and equal for several.
    """

    Options = NMFOptions
    default_lr = 0.3
    default_steps = 150  # from the flat start
    # From the tagged start, which is already an estimate, the objective is aligned for drums
    # only: on both dev sets 15 steps gave drums +3.21 +- 0.47 dB (22 of 24 stems improved) and
    # cost every other source (71 stems, -1.53 +- 0.26: strings -3.9, violin -2.6). Sources not
    # listed take none.
    tagged_steps: ClassVar[dict[str, int]] = {"drums": 15}
    joint = True
    n_fft = 2048
    hop_length = 512

    def __init__(self, mixture: torch.Tensor, sample_rate: int, options: NMFOptions, *,
                 model: None = None, sources: Sequence[str] = ("source",), seed: int = 0, hear: Hear | None = None):
        super().__init__(mixture, [STFT(self.n_fft, self.hop_length, device=mixture.device)])
        W, H = kl_nmf(self.reference_specs[0].abs(), options.component_count, seed=seed)
        self.register_buffer("W", W)
        self.register_buffer("H", H)
        self.register_buffer("full", W @ H + 1e-8)
        logits = torch.zeros(len(sources) + 1, options.component_count, options.time_knots, device=mixture.device)
        if options.start == "tagged":
            if hear is None:
                raise TagboxError("the tagged start needs the taggers (hear)")
            heard = Heard.listen(self.components(), mixture, hear)
            evidence = with_fragments(heard.evidence(removal_weight=options.removal_weight), heard.tags,
                                      [FragmentHead.of(name) for name in sources], weight=options.fragment_weight)
            evidence = share(evidence, heard.tags, temperature=options.share_temperature)
            if options.register_weight:  # the fundamentals cost a summation over every candidate pitch
                evidence = in_register(evidence, fundamentals(W, self.stfts[0].frequencies(sample_rate)),
                                       [Register.of(name) for name in sources], weight=options.register_weight)
            logits[:] = start_logits(evidence, slope=options.start_slope, offset=options.start_offset)[..., None]
        elif len(sources) == 1:
            logits[0] = gain_logit(options.init_gain)
        self.gain_logits = nn.Parameter(logits)

    @classmethod
    def steps_for(cls, options: NMFOptions, source: str) -> int:
        return cls.tagged_steps.get(canonical_name(source), 0) if options.start == "tagged" else cls.default_steps

    @classmethod
    def runs_for(cls, options: NMFOptions, steps: int) -> int:
        # From the tagged start two runs (two decompositions, each labelled) beat one by
        # +0.21 +- 0.08 dB (95 stems, 16 components). Refined by steps, one: the steps would
        # double, and drums gained only +0.21 from the second run (24 stems, within noise). The
        # flat start was measured with one.
        return 2 if options.start == "tagged" and steps == 0 else 1

    @classmethod
    def resolved_defaults(cls, options: NMFOptions) -> dict[str, object]:
        return {**super().resolved_defaults(options), "components": options.component_count}

    @classmethod
    def crowding_warning(cls, options: NMFOptions, sources: int) -> str | None:
        # A component goes mostly to one source or to the rest: with fewer components than
        # parts, some sources get nothing of their own.
        if sources + 1 <= options.component_count:
            return None
        return (f"{sources} sources and the rest share {options.component_count} NMF components: some get none of "
                f"their own; raise --components to at least {sources + 1}")

    @classmethod
    def starts_separated(cls, options: NMFOptions) -> bool:
        return options.start == "tagged"

    def component_mask(self, k: int) -> torch.Tensor:
        """Component ``k``'s Wiener mask on the reference, ``(freq, frames)``; the K masks sum to one."""
        return self.W[:, k, None] * self.H[k] / self.full

    @torch.no_grad()
    def components(self) -> torch.Tensor:
        """Each component's part of the reference, ``(K, samples)``; they sum to it. One at a
        time: all masks of a 30 s segment at once hold about a gigabyte."""
        spec = self.reference_specs[0]
        return torch.stack([
            self.stfts[0].inverse(self.component_mask(k) * spec, self.length) for k in range(self.H.shape[0])
        ])

    def gains(self) -> torch.Tensor:
        """Per-source component gains ``(sources, K, frames)``, interpolated between time knots."""
        gains = torch.softmax(self.gain_logits, dim=0)[:-1]
        frames = self.H.shape[-1]
        if gains.shape[-1] == 1:
            return gains.expand(-1, -1, frames)
        return F.interpolate(gains, size=frames, mode="linear", align_corners=True)

    def masks(self) -> list[torch.Tensor]:
        return [(self.W @ (self.gains() * self.H)) / self.full]
