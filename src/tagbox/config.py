"""What a separation is configured by: one frozen :class:`SeparatorConfig`, and the presets.

The fields, with the chosen latent's own options (``latent_options``, one frozen dataclass per
latent), are the single list of settings: ``tagbox separate`` builds its flags from the fields
that carry a ``flag`` in their metadata, ``tagbox eval --config`` accepts exactly the setting
names, and eval's cache key is the config itself. :meth:`SeparatorConfig.replace` takes the
latent's settings by name too, and refuses one the chosen latent does not take. Presets are
instances. Runtime choices that do not change the result (device, progress, callbacks) are not
part of it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.latents import LATENTS, LatentOptions, VQVAEOptions, latent_settings, not_taken
from tagbox.settings import choice
from tagbox.settings import flag as _flag
from tagbox.sources import canonical_name, shares_tags

DEFAULT_TAGGERS = ("mtat-musicnn", "mtat-fcn")


@dataclass(frozen=True)
class SeparatorConfig:
    """The settings of a separation (see the README's "How it works" for what each one does)."""

    latent: str = field(default="nmf", metadata=_flag("--latent", "latent space to steer"))
    # The latent's own settings; None: its defaults.
    latent_options: LatentOptions | None = None
    # None: MTAT musicnn + FCN, plus the pair of another vocabulary for a source MTAT cannot name.
    taggers: tuple[str, ...] | None = field(
        default=None, metadata=_flag("--tagger", "tagger id (repeatable)", action="append", metavar="ID"))
    # None: the latent's own, per source (from the tagged start: drums 15, others 0).
    steps: int | None = field(default=None, metadata=_flag(
        "--steps", "optimisation steps (default: the latent's own for each source)", type=int))
    lr: float | None = field(default=None, metadata=_flag("--lr", "Adam learning rate", type=float))
    objective: str = field(default="reference", metadata=_flag("--objective", "what the taggers are asked"))
    exclude: tuple[str, ...] = field(default=(), metadata=_flag(
        "--not", "source or tag the estimate should not contain (repeatable)", action="append", metavar="NAME"))
    windows: int | None = 2
    taggers_per_step: int | None = None
    judge_rest: bool = False
    gain_jitter: float = 0.0
    short_audio: str = "wrap"
    average: int = 0
    segment: float | None = field(default=30.0, metadata=_flag("--segment", "seconds per steered segment", type=float))
    overlap: float = field(default=0.25, metadata=_flag("--overlap", "overlap between segments, as a fraction", type=float))
    absent_threshold: float = 0.02
    seed: int = field(default=0, metadata=_flag("--seed", "random seed", type=int))
    # Estimates averaged over runs seeded seed, seed + 1, ...: each run decomposes and labels the
    # mixture afresh, and their errors differ. None: the latent's own (2 from the tagged start).
    runs: int | None = field(default=None, metadata=_flag(
        "--runs", "average the estimates of N runs with seeds seed, seed+1, ... (default: the latent's own)", type=int))
    # Sources estimated beside the requested ones in every segment whose mixture the taggers hear
    # them in (the source's tag probability at least competitor_threshold), and not returned: a
    # request cannot name what else plays, and what a competitor takes the target no longer
    # holds. Only drums are heard reliably in mixtures (detection AUC 0.97 on the dev sets; 0.6-0.8
    # for the others); see the README's "competitors" for what they gain.
    competitors: tuple[str, ...] = field(default=("drums",), metadata=_flag(
        "--competitor", "source estimated beside the requested ones where the taggers hear it, not written "
        "(repeatable; 'none' for none; default drums)", action="append", metavar="NAME"))
    competitor_threshold: float = 0.03
    # Nothing below a source's lowest note is given to it (violin G3, cello C2, flute B3, guitar
    # D2; :mod:`tagbox.ranges`): there it can only be another source.
    ranges: bool = field(default=True, metadata=_flag(
        "--no-ranges", "keep what lies below an instrument's lowest note in its estimate", action="store_false"))

    def __post_init__(self) -> None:
        for name in ("taggers", "exclude", "competitors"):  # lists and single ids, as --config gives them
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        if self.competitors in (None, ("none",)):  # --competitor none; eval's --config reads 'none' as None
            object.__setattr__(self, "competitors", ())
        choice("latent", self.latent, LATENTS)
        if self.latent_options is None:
            object.__setattr__(self, "latent_options", LATENTS[self.latent].Options())
        _check(self)

    def replace(self, **changes: Any) -> "SeparatorConfig":
        """A copy with ``changes``, which may name the latent's settings (``components=16``).

        A new ``latent`` starts from its own defaults; a setting only other latents take is an
        error naming them, and a name that is no setting an error listing the settings."""
        latent = changes.pop("latent", self.latent)
        choice("latent", latent, LATENTS)
        own = {setting.name for setting in dataclasses.fields(LATENTS[latent].Options)}
        options = {name: changes.pop(name) for name in [*changes] if name in own}
        for name in changes:
            if name in latent_settings():
                raise not_taken(name, latent)
            if name not in FIELDS:
                raise UnknownNameError.suggest("setting", name, settings())
        base = changes.pop("latent_options", self.latent_options if latent == self.latent else None)
        if base is None:
            base = LATENTS[latent].Options()
        return dataclasses.replace(self, latent=latent, latent_options=dataclasses.replace(base, **options), **changes)

    @property
    def tagger_ids(self) -> tuple[str, ...]:
        return DEFAULT_TAGGERS if self.taggers is None else self.taggers

    def steps_for(self, source: str) -> int:
        """Steps ``source`` is steered for: ``steps`` if set, else the latent's own for it."""
        return LATENTS[self.latent].steps_for(self.latent_options, source) if self.steps is None else int(self.steps)

    def runs_for(self, sources: Sequence[str]) -> int:
        """Runs averaged when ``sources`` are separated together: ``runs`` if set, else the most
        the latent takes for any of them."""
        if self.runs is not None:
            return int(self.runs)
        return max(LATENTS[self.latent].runs_for(self.latent_options, self.steps_for(source)) for source in sources)

    def competitors_for(self, names: Sequence[str]) -> tuple[str, ...]:
        """The competitors that may join a request for ``names``: none the request names or shares
        a tag with, and none at all unless the latent estimates sources jointly from a start that
        is already an estimate (from a flat start a competitor would take an equal share of every
        component)."""
        space = LATENTS[self.latent]
        if not (space.joint and space.starts_separated(self.latent_options)):
            return ()
        return tuple(rival for rival in self.competitors if not any(shares_tags(rival, name) for name in names))

    def most_steps(self, names: Sequence[str]) -> int:
        """The most steps any source of a request for ``names`` takes, its competitors included."""
        return max(self.steps_for(name) for name in [*names, *self.competitors_for(names)])

    def resolved_lr(self) -> float:
        """The learning rate, the latent's own where unset."""
        return LATENTS[self.latent].default_lr if self.lr is None else float(self.lr)


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SeparatorConfig))


def settings() -> tuple[str, ...]:
    """Every name :meth:`SeparatorConfig.replace` and eval's ``--config`` take: the fields and
    the latents' settings."""
    return (*FIELDS, *(name for name in latent_settings() if name not in FIELDS))


def _check(config: SeparatorConfig) -> None:
    """Refuse a config that cannot run, before any model is loaded."""
    from tagbox.objectives import OBJECTIVES
    from tagbox.sources import SOURCE_NAMES
    from tagbox.taggers.registry import TAGGERS

    options, expected = config.latent_options, LATENTS[config.latent].Options
    if type(options) is not expected:
        raise TagboxError(f"the {config.latent} latent takes {expected.__name__}, not {type(options).__name__}")
    choice("objective", config.objective, OBJECTIVES)
    choice("short_audio", config.short_audio, ("wrap", "pad"))
    for tagger in config.tagger_ids:
        choice("tagger", tagger, TAGGERS)
    if not config.tagger_ids:
        raise TagboxError("at least one tagger is needed")
    if config.segment is not None and config.segment <= 0:
        raise TagboxError(f"segment must be positive, got {config.segment}")
    if not 0 <= config.overlap < 1:
        raise TagboxError(f"overlap must be in [0, 1), got {config.overlap}")
    if config.runs is not None and config.runs < 1:
        raise TagboxError(f"runs must be at least 1, got {config.runs}")
    if config.taggers_per_step is not None and config.taggers_per_step < 1:
        raise TagboxError(f"taggers_per_step must be at least 1, got {config.taggers_per_step}")
    separated = LATENTS[config.latent].starts_separated(options)
    if config.steps is not None and config.steps < (0 if separated else 1):
        least = "0 (the start itself)" if separated else "1"
        raise TagboxError(f"steps must be at least {least}, got {config.steps}")
    lr = config.resolved_lr()
    if not (math.isfinite(lr) and lr > 0):
        raise TagboxError(f"lr (the learning rate) must be a positive number, got {lr}")
    for name in config.competitors:
        canonical_name(name)  # an unknown name fails here, not at the first segment
    if not 0 < config.competitor_threshold < 1:
        raise TagboxError(f"competitor_threshold must be between 0 and 1 (exclusive), got {config.competitor_threshold}")
    if config.average < 0:
        raise TagboxError(f"average must be at least 0, got {config.average}")
    most = config.steps if config.steps is not None else max(map(config.steps_for, SOURCE_NAMES))
    if config.average > most:
        raise TagboxError(f"average must be at most steps ({most}), got {config.average}")


PRESETS: dict[str, SeparatorConfig] = {
    "default": SeparatorConfig(),
    # What the reference implementation does: Jukebox, codebook re-initialised from the song
    # and EMA-updated, all-tag BCE, every non-overlapping tagger window, last FFT size's output.
    "faithful": SeparatorConfig(
        latent="vqvae", latent_options=VQVAEOptions(generator="jukebox-5b", codebook="reference", output_views="last"),
        objective="reference", windows=None, short_audio="pad", lr=5.0, steps=100, competitors=(), ranges=False,
    ),
}


def preset(name: str) -> SeparatorConfig:
    if name not in PRESETS:
        raise UnknownNameError(f"unknown preset '{name}'; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
