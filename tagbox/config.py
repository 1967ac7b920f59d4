"""What a separation is configured by: one frozen :class:`SeparatorConfig`, and the presets.

The fields are the single list of settings: ``tagbox separate`` builds its flags from the fields
that carry a ``flag`` in their metadata, ``tagbox eval --config`` accepts exactly the field
names, and eval's cache key is the config itself. Presets are instances. Runtime choices that
do not change the result (device, progress, callbacks) are not part of it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from tagbox.errors import TagboxError, UnknownNameError

DEFAULT_TAGGERS = ("mtat-musicnn", "mtat-fcn")
# Names retired because "tagbox" also names the package and an eval method.
RENAMED = {"tagbox": "reference"}


def _flag(flag: str, help: str, **argparse: Any) -> dict:
    """Field metadata: ``tagbox separate`` offers the field as ``flag`` with these argparse options."""
    return {"flag": flag, "help": help, **argparse}


def int_list(text: str) -> tuple[int, ...]:
    """``"2048,1024,512"`` -> ``(2048, 1024, 512)``."""
    return tuple(int(part) for part in text.split(",") if part)


@dataclass(frozen=True)
class SeparatorConfig:
    """The settings of a separation (see the README's "How it works" for what each one does)."""

    latent: str = field(default="nmf", metadata=_flag("--latent", "latent space to steer"))
    generator: str = field(default="compact", metadata=_flag("--generator", "generator id for the vqvae latent"))
    # None: MTAT musicnn + FCN, plus the pair of another vocabulary for a source MTAT cannot name.
    taggers: tuple[str, ...] | None = field(
        default=None, metadata=_flag("--tagger", "tagger id (repeatable)", action="append", metavar="ID"))
    steps: int | None = field(default=None, metadata=_flag("--steps", "optimisation steps", type=int))
    lr: float | None = field(default=None, metadata=_flag("--lr", "Adam learning rate", type=float))
    fft_sizes: tuple[int, ...] = field(
        default=(2048, 1024, 512), metadata=_flag("--fft-sizes", "mask FFT sizes, e.g. 2048,1024,512 (vqvae latent)", type=int_list))
    mask: bool = field(default=True, metadata=_flag(
        "--no-mask", "return the generator's audio itself (style transfer; vqvae latent)", action="store_false"))
    codebook: str = field(default="frozen", metadata=_flag("--codebook", "codebook policy (vqvae latent)"))
    objective: str = field(default="reference", metadata=_flag("--objective", "what the taggers are asked"))
    exclude: tuple[str, ...] = field(default=(), metadata=_flag(
        "--not", "source or tag the estimate should not contain (repeatable)", action="append", metavar="NAME"))
    windows: int | None = 2
    taggers_per_step: int | None = None
    judge_rest: bool = False
    gain_jitter: float = 0.0
    output_views: str = "all"
    short_audio: str = "wrap"
    average: int = 0
    components: int = field(default=32, metadata=_flag("--components", "NMF components (nmf latent)", type=int))
    time_knots: int = 1
    segment: float | None = field(default=30.0, metadata=_flag("--segment", "seconds per steered segment", type=float))
    overlap: float = field(default=0.25, metadata=_flag("--overlap", "overlap between segments, as a fraction", type=float))
    absent_threshold: float = 0.02
    seed: int = field(default=0, metadata=_flag("--seed", "random seed", type=int))

    def __post_init__(self) -> None:
        for name in ("taggers", "exclude", "fft_sizes"):  # lists and single ids, as --config gives them
            value = getattr(self, name)
            if isinstance(value, (str, int)):
                value = (value,)
            if value is not None:
                object.__setattr__(self, name, tuple(int(v) for v in value) if name == "fft_sizes" else tuple(value))
        _check(self)

    def replace(self, **changes: Any) -> "SeparatorConfig":
        """A copy with ``changes``; a name that is no setting is an error listing the settings."""
        unknown = [name for name in changes if name not in FIELDS]
        if unknown:
            raise UnknownNameError.suggest("setting", unknown[0], FIELDS)
        return dataclasses.replace(self, **changes)

    @property
    def tagger_ids(self) -> tuple[str, ...]:
        return DEFAULT_TAGGERS if self.taggers is None else self.taggers

    def resolved_steps_lr(self) -> tuple[int, float]:
        """Steps and learning rate, the latent's own where unset."""
        from tagbox.latents import LATENTS

        space = LATENTS[self.latent]
        return (space.default_steps if self.steps is None else int(self.steps),
                space.default_lr if self.lr is None else float(self.lr))


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SeparatorConfig))


def _choice(kind: str, value: str, known) -> None:
    if value in RENAMED and RENAMED[value] in known:
        raise UnknownNameError(f"{kind} '{value}' is now called '{RENAMED[value]}'")
    if value not in known:
        raise UnknownNameError(f"unknown {kind} '{value}'; choose from {', '.join(known)}")


def _check(config: SeparatorConfig) -> None:
    """Refuse a config that cannot run, before any model is loaded."""
    from tagbox.generators.codebook import CODEBOOK_POLICIES
    from tagbox.latents import LATENTS
    from tagbox.objectives import OBJECTIVES
    from tagbox.taggers.registry import TAGGERS

    _choice("latent", config.latent, LATENTS)
    _choice("objective", config.objective, OBJECTIVES)
    _choice("codebook policy", config.codebook, CODEBOOK_POLICIES)
    _choice("output_views", config.output_views, ("all", "last"))
    _choice("short_audio", config.short_audio, ("wrap", "pad"))
    for tagger in config.tagger_ids:
        _choice("tagger", tagger, TAGGERS)
    if not config.tagger_ids:
        raise TagboxError("at least one tagger is needed")
    if config.segment is not None and config.segment <= 0:
        raise TagboxError(f"segment must be positive, got {config.segment}")
    if not 0 <= config.overlap < 1:
        raise TagboxError(f"overlap must be in [0, 1), got {config.overlap}")
    if config.taggers_per_step is not None and config.taggers_per_step < 1:
        raise TagboxError(f"taggers_per_step must be at least 1, got {config.taggers_per_step}")
    steps, lr = config.resolved_steps_lr()
    if steps < 1:
        raise TagboxError(f"steps must be at least 1, got {steps}")
    if not (math.isfinite(lr) and lr > 0):
        raise TagboxError(f"lr (the learning rate) must be a positive number, got {lr}")
    if not 0 <= config.average <= steps:
        raise TagboxError(f"average must be between 0 and steps ({steps}), got {config.average}")


PRESETS: dict[str, SeparatorConfig] = {
    "default": SeparatorConfig(),
    # What the reference implementation does: Jukebox, codebook re-initialised from the song
    # and EMA-updated, all-tag BCE, every non-overlapping tagger window, last FFT size's output.
    "faithful": SeparatorConfig(
        latent="vqvae", generator="jukebox-5b", codebook="reference", objective="reference",
        windows=None, output_views="last", short_audio="pad", lr=5.0, steps=100,
    ),
}


def preset(name: str) -> SeparatorConfig:
    if name not in PRESETS:
        raise UnknownNameError(f"unknown preset '{name}'; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
