"""A hierarchical VQ-VAE whose modules mirror OpenAI Jukebox's, so its checkpoints load as-is.

Every level l has its own encoder from raw audio, its own codebook and its own decoder back to
audio; levels differ only in how far they downsample (hop_length(l)). Module names and the
order of entries inside ``nn.Sequential`` containers (ReLUs included) reproduce Jukebox's, so
``load_state_dict`` of the official 5b checkpoint is strict and needs no renaming. The layer
structure follows the description in ``shared/reference/jukebox_vqvae/SPEC.md``.

Steering (TagBox) needs three steps, kept separate so a caller runs only what it needs:
:meth:`VQVAE.encode` (once per clip), :meth:`VQVAE.quantise` and :meth:`VQVAE.decode` (every
optimisation step, on one level only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tagbox.errors import AudioError, TagboxError, UnknownNameError, WeightsError
from tagbox.generators.codebook import CODEBOOK_POLICIES, Bottleneck, straight_through


@dataclass(frozen=True)
class VQVAEConfig:
    """Hyperparameters, named after Jukebox's (``hvqvae_multipliers`` -> ``multipliers``).

    ``multipliers[l]`` scales both width and depth of every block of level l. ``mu`` is the
    codebook EMA decay (used by the ``reference`` codebook policy and training); ``commit`` the
    weight of the commitment loss (training only).
    """

    sample_rate: int
    levels: int
    downs_t: tuple[int, ...]
    strides_t: tuple[int, ...]
    emb_width: int
    l_bins: int
    width: int
    depth: int
    multipliers: tuple[int, ...]
    m_conv: float = 1.0
    dilation_growth_rate: int = 3
    dilation_cycle: int | None = None
    reverse_decoder_dilation: bool = True
    mu: float = 0.99
    channels: int = 1
    commit: float = 0.02

    def hop_length(self, level: int) -> int:
        return math.prod(s**d for s, d in zip(self.strides_t[: level + 1], self.downs_t))


class ResConv1DBlock(nn.Module):
    """Pre-activation residual block: x + conv1x1(relu(dilated_conv3(relu(x))))."""

    def __init__(self, width: int, hidden: int, dilation: int):
        super().__init__()
        self.model = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(width, hidden, 3, padding=dilation, dilation=dilation),
            nn.ReLU(inplace=True),  # acts on the conv output only: saves a buffer, same values
            nn.Conv1d(hidden, width, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        out = self.model(x)
        out += x  # in place on a fresh tensor; equals x + out bit for bit
        return out


class Resnet1D(nn.Module):
    """``depth`` residual blocks with dilations growth**j (j wrapping at ``cycle``)."""

    def __init__(self, width: int, depth: int, config: VQVAEConfig, reverse: bool = False):
        super().__init__()
        cycle = config.dilation_cycle
        blocks = [
            ResConv1DBlock(
                width,
                int(config.m_conv * width),
                config.dilation_growth_rate ** (j if cycle is None else j % cycle),
            )
            for j in range(depth)
        ]
        if reverse:
            blocks.reverse()
        self.model = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def _down(in_ch: int, out_ch: int, stride: int) -> nn.Conv1d:
    return nn.Conv1d(in_ch, out_ch, 2 * stride, stride, stride // 2)


def _up(in_ch: int, out_ch: int, stride: int) -> nn.ConvTranspose1d:
    return nn.ConvTranspose1d(in_ch, out_ch, 2 * stride, stride, stride // 2)


class EncoderConvBlock(nn.Module):
    """``down_t`` (strided conv, Resnet1D) stages, then a conv to ``emb_width`` channels."""

    def __init__(self, in_ch: int, down_t: int, stride: int, width: int, depth: int,
                 config: VQVAEConfig):
        super().__init__()
        stages = [
            nn.Sequential(_down(in_ch if i == 0 else width, width, stride),
                          Resnet1D(width, depth, config))
            for i in range(down_t)
        ]
        self.model = nn.Sequential(*stages, nn.Conv1d(width, config.emb_width, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class DecoderConvBock(nn.Module):
    """Mirror of EncoderConvBlock; the misspelt name is Jukebox's (kept for recognisability)."""

    def __init__(self, down_t: int, stride: int, width: int, depth: int, config: VQVAEConfig):
        super().__init__()
        emb = config.emb_width
        reverse = config.reverse_decoder_dilation
        stages = [
            nn.Sequential(Resnet1D(width, depth, config, reverse=reverse),
                          _up(width, emb if i == down_t - 1 else width, stride))
            for i in range(down_t)
        ]
        self.model = nn.Sequential(nn.Conv1d(emb, width, 3, 1, 1), *stages)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def _level_shape(config: VQVAEConfig, level: int) -> tuple[int, int]:
    multiplier = config.multipliers[level]
    return config.width * multiplier, config.depth * multiplier


class Encoder(nn.Module):
    """Audio -> level-l latents through level blocks 0..l (all with level l's width/depth)."""

    def __init__(self, config: VQVAEConfig, level: int):
        super().__init__()
        width, depth = _level_shape(config, level)
        self.level_blocks = nn.ModuleList(
            EncoderConvBlock(config.channels if b == 0 else config.emb_width,
                             config.downs_t[b], config.strides_t[b], width, depth, config)
            for b in range(level + 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        for block in self.level_blocks:
            x = block(x)
        return x


class Decoder(nn.Module):
    """Level-l latents -> audio through level blocks l..0, then a conv to ``channels``."""

    def __init__(self, config: VQVAEConfig, level: int):
        super().__init__()
        width, depth = _level_shape(config, level)
        self.level_blocks = nn.ModuleList(
            DecoderConvBock(config.downs_t[b], config.strides_t[b], width, depth, config)
            for b in range(level + 1)
        )
        self.out = nn.Conv1d(config.emb_width, config.channels, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        for block in reversed(self.level_blocks):
            x = block(x)
        return self.out(x)


class VQVAE(nn.Module):
    """Jukebox-style VQ-VAE: one encoder, codebook and decoder per level.

    Audio is (N, channels, T) float at :attr:`sample_rate` (no resampling here); latents are
    (N, emb_width, T // hop_length(level)); decoded audio is (N, channels, hop * L).
    """

    def __init__(self, config: VQVAEConfig):
        super().__init__()
        self.config = config
        self.encoders = nn.ModuleList(Encoder(config, level) for level in range(config.levels))
        self.decoders = nn.ModuleList(Decoder(config, level) for level in range(config.levels))
        self.bottleneck = Bottleneck(config.levels, config.l_bins, config.emb_width, config.mu)

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def levels(self) -> int:
        return self.config.levels

    @property
    def emb_width(self) -> int:
        return self.config.emb_width

    def hop_length(self, level: int) -> int:
        self._check_level(level)
        return self.config.hop_length(level)

    def encode(self, x: Tensor, level: int) -> Tensor:
        """Unquantised level-``level`` latents; a tail shorter than one hop is dropped."""
        hop = self.hop_length(level)
        if x.dim() != 3 or x.shape[1] != self.config.channels:
            raise AudioError(
                f"generator input must be shaped (batch, {self.config.channels}, samples), "
                f"got {tuple(x.shape)}"
            )
        if x.shape[-1] < hop:
            raise AudioError(
                f"audio is too short for level {level}: {x.shape[-1]} samples, need at least "
                f"{hop} ({hop / self.sample_rate * 1000:.2f} ms at {self.sample_rate} Hz)"
            )
        return self.encoders[level](x.float())

    def quantise(self, z: Tensor, level: int) -> tuple[Tensor, Tensor]:
        """Nearest pretrained codes and straight-through ``zq``; the codebook is not changed."""
        self._check_latents(z, level)
        return straight_through(z, self.bottleneck.level_blocks[level].k)

    def decode(self, zq: Tensor, level: int) -> Tensor:
        """Audio from level-``level`` latents, running that level's decoder only."""
        self._check_latents(zq, level)
        return self.decoders[level](zq)

    def codebook_session(self, policy: str = "frozen", seed: int | None = None) -> "Quantiser":
        """A quantiser for one separation under codebook ``policy`` (see ``codebook.py``).

        Its mutable state (``reference`` policy) lives in the returned object, so the model's
        pretrained codebooks are never touched and each session starts fresh. ``seed`` makes
        the policy's randomness reproducible; None draws from torch's global RNG, like the
        reference.
        """
        if policy not in CODEBOOK_POLICIES:
            raise UnknownNameError(
                f"unknown codebook policy '{policy}'; known: {', '.join(CODEBOOK_POLICIES)}"
            )
        device = self.bottleneck.level_blocks[0].k.device
        generator = None if seed is None else torch.Generator(device=device).manual_seed(seed)
        return Quantiser(self, CODEBOOK_POLICIES[policy](self.bottleneck, generator))

    def load_weights(self, state_dict: dict[str, Tensor], name: str = "checkpoint") -> None:
        """Strict load; a leading ``module.`` is stripped and tensors are cast to float32.

        A mismatch raises WeightsError naming the first missing, unexpected and mis-shaped keys.
        """
        state = {
            key.removeprefix("module."): value.float() if value.is_floating_point() else value
            for key, value in state_dict.items()
        }
        own = self.state_dict()
        problems = []
        for label, keys in (
            ("missing", [k for k in own if k not in state]),
            ("unexpected", [k for k in state if k not in own]),
            ("wrong shape", [
                f"{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}"
                for k in own if k in state and state[k].shape != own[k].shape
            ]),
        ):
            if keys:
                more = f" (+{len(keys) - 3} more)" if len(keys) > 3 else ""
                problems.append(f"{len(keys)} {label}: {', '.join(keys[:3])}{more}")
        if problems:
            raise WeightsError(f"{name} does not fit this generator: " + "; ".join(problems))
        self.load_state_dict(state, strict=True)

    def _check_level(self, level: int) -> None:
        if not 0 <= level < self.levels:
            raise TagboxError(f"level {level} does not exist; this generator has levels "
                              f"0..{self.levels - 1}")

    def _check_latents(self, z: Tensor, level: int) -> None:
        self._check_level(level)
        if z.dim() != 3 or z.shape[1] != self.emb_width:
            raise TagboxError(
                f"latents must be shaped (batch, {self.emb_width}, frames), got {tuple(z.shape)}"
            )


class Quantiser:
    """``quantise(z, level)`` under one codebook policy, for one separation."""

    def __init__(self, model: VQVAE, policy):
        self.model = model
        self.policy = policy

    def quantise(self, z: Tensor, level: int) -> tuple[Tensor, Tensor]:
        """(codes (N, L) int64, zq (N, emb, L)) with a straight-through gradient to ``z``."""
        self.model._check_latents(z, level)
        return self.policy.quantise(z, level)
