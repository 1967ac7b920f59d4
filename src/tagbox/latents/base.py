"""What every latent space is: its options, the model it may load, and the estimates it defines.

A space is one class (a :class:`LatentSpace` with a frozen ``Options`` dataclass) plus one entry
in :data:`tagbox.latents.LATENTS`. The Separator loads the space's model once
(:meth:`LatentSpace.load_model`) and builds one space per steered segment as
``Space(mixture, sample_rate, options, model=..., sources=..., seed=...)`` (``sources``: how many
sources it estimates, together). A space is a parameterisation only: where its parameters start
beyond its own defaults (the ``nmf`` latent's tagged start) is set from outside, by the stages of
:mod:`tagbox.pipeline`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import torch
from torch import nn

from tagbox.errors import TagboxError
from tagbox.masks import STFT
from tagbox.settings import flag


@dataclass(frozen=True)
class LatentOptions:
    """Settings of one latent space; each space declares its own subclass, and no setting
    another space takes is accepted by it."""


@dataclass(frozen=True)
class GainOptions(LatentOptions):
    """Options of the spaces whose masks start as one gain everywhere."""

    init_gain: float = field(default=0.99, metadata=flag("--init-gain", "starting mask gain, in (0, 1)", type=float))

    def __post_init__(self) -> None:
        if not 0 < self.init_gain < 1:  # a sigmoid reaches neither end
            raise TagboxError(f"init_gain must be between 0 and 1 (exclusive), got {self.init_gain}")


def gain_logit(gain: float) -> float:
    """The logit whose sigmoid is ``gain``."""
    return math.log(gain / (1 - gain))


class LatentSpace(nn.Module, ABC):
    """Steerable parameters of one segment, and the estimates of the target they define."""

    Options: ClassVar[type[LatentOptions]] = LatentOptions
    default_lr: ClassVar[float]
    default_steps: ClassVar[int]  # from the space's own start, when a config sets none
    joint: ClassVar[bool] = False

    def __init__(self, length: int):
        super().__init__()
        self.length = length

    @classmethod
    def model_name(cls, options: LatentOptions) -> str | None:
        """Id of the model :meth:`load_model` loads (output folders, eval's cache key); None: none."""
        return None

    @classmethod
    def load_model(cls, options: LatentOptions, device: torch.device) -> nn.Module | None:
        """The frozen model every segment's space shares, loaded once per Separator."""
        return None

    @classmethod
    def crowding_warning(cls, options: LatentOptions, sources: int) -> str | None:
        """A warning when ``sources`` estimated together (and the rest) ask for more parts than
        the space can divide a mixture into; None when it can."""
        return None

    @staticmethod
    def working_rate(input_rate: int, model: nn.Module | None) -> int:
        """Sample rate the space works at; masks on the mixture work at the input's own rate."""
        return input_rate

    @abstractmethod
    def estimates(self) -> torch.Tensor:
        """Differentiable mono estimates ``(sources, views, length)`` the taggers judge."""

    @abstractmethod
    def apply(self, channels: torch.Tensor) -> torch.Tensor:
        """Each source's estimate ``(sources, C, length)`` in ``channels (C, length)``."""


class MaskedLatent(LatentSpace):
    """A space whose estimates are masks on a fixed signal at one or more STFT resolutions.

    ``reference`` is that signal (the mono mixture, or its pass through the generator): what the
    estimates leave of it is the rest the Separator's ``judge_rest`` lets the taggers hear.
    ``apply`` averages the views' results, or keeps the last view's with ``last_view_only``.
    """

    last_view_only = False

    def __init__(self, reference: torch.Tensor, stfts: Sequence[STFT]):
        super().__init__(reference.shape[-1])
        self.stfts = list(stfts)
        self.register_buffer("reference", reference)
        with torch.no_grad():
            self.reference_specs = [stft(reference) for stft in self.stfts]

    @abstractmethod
    def masks(self) -> list[torch.Tensor]:
        """One mask ``(sources, freq, frames)`` in [0, 1] per STFT view."""

    def estimates(self) -> torch.Tensor:
        return torch.stack([
            stft.inverse(mask * spec, self.length)
            for stft, mask, spec in zip(self.stfts, self.masks(), self.reference_specs)
        ], dim=1)

    @torch.no_grad()
    def apply(self, channels: torch.Tensor) -> torch.Tensor:
        views = list(zip(self.stfts, self.masks()))
        if self.last_view_only:
            views = views[-1:]
        return torch.stack([
            stft.inverse(mask[:, None] * stft(channels), self.length) for stft, mask in views
        ]).mean(0)
