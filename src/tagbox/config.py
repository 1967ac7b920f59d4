"""What a separation is configured by: one frozen :class:`SeparatorConfig`, nested by concern, and the presets.

A config has a section per concern: the latent space steered and how it decomposes a segment
(``latent`` and its ``latent_options``, one frozen dataclass per latent), the tagged start's
``labelling``, the ``steering`` (taggers, objective, Adam, competitors) and the ``output``
(segments, the absent-source rule). Setting names are unique across sections, so they are taken
flat everywhere: ``tagbox separate`` builds its flags from the fields that carry a ``flag``,
``tagbox eval --config`` and :meth:`SeparatorConfig.replace` accept every name
(``components=8``, ``share_temperature=0.1``), and a setting the chosen latent does not take is
refused with the latents that do. Presets are instances. Runtime choices that do not change the
result (device, progress, callbacks) are not part of it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from tagbox.errors import TagboxError, UnknownNameError
from tagbox.latents import LATENTS, LatentOptions, VQVAEOptions, latent_settings, not_taken
from tagbox.settings import choice
from tagbox.settings import flag as _flag
from tagbox.sources import SOURCE_NAMES, canonical_name, refine_steps

DEFAULT_TAGGERS = ("mtat-musicnn", "mtat-fcn")
# Stages of the default pipeline a config may leave out, and stages it may add to the default,
# which are measured but not (yet) part of it (tagbox.pipeline.build names them).
OPTIONAL_STAGES = ("fragment_prior", "share", "register_prior", "range_floor", "presence")
EXTRA_STAGES = ("position_prior",)


def _tuple(value: Any) -> tuple | None:
    """Lists and single ids as tuples, as flags and eval's ``--config`` give them."""
    return (value,) if isinstance(value, str) else (None if value is None else tuple(value))


@dataclass(frozen=True)
class Labelling:
    """The tagged start (``nmf`` latent): how what the taggers hear in each component becomes its
    starting gain (docs/how-it-works.md, stages evidence to start gains)."""

    removal_weight: float = 10.0  # one component of many changes the mixture's tags little
    fragment_weight: float = 0.5
    share_temperature: float = 0.2
    register_weight: float = 0.25
    position_weight: float = 0.25
    start_slope: float = 1.5
    start_offset: float = -1.0

    def __post_init__(self) -> None:
        for name, stage in (("fragment_weight", "fragment_prior"), ("share_temperature", "share"),
                            ("register_weight", "register_prior"), ("position_weight", "position_prior")):
            if not getattr(self, name) > 0:
                raise TagboxError(f"{name} must be positive, got {getattr(self, name)}; "
                                  f"to leave the stage out, set without={stage} (or leave add={stage} out)")


@dataclass(frozen=True)
class Steering:
    """Who judges, what they are asked, and how Adam moves the latent."""

    # None: MTAT musicnn + FCN, plus the pair of another vocabulary for a source MTAT cannot name.
    taggers: tuple[str, ...] | None = field(
        default=None, metadata=_flag("--tagger", "tagger id (repeatable; `tagbox list taggers`)", action="append", metavar="ID"))
    # None: each source's own (from the tagged start: drums 15, others 0; tagbox.pipeline.profile).
    steps: int | None = field(default=None, metadata=_flag(
        "--steps", "optimisation steps (default: each source's own: from the tagged start drums 15, others 0)", type=int))
    lr: float | None = field(default=None, metadata=_flag("--lr", "Adam learning rate (default: the latent's own)", type=float))
    objective: str = field(default="reference", metadata=_flag(
        "--objective", "what the taggers are asked while steering: reference (every tag of the vocabulary: the source's "
        "up, all others down) or focused (only the source's tags up and other sources' down)"))
    exclude: tuple[str, ...] = field(default=(), metadata=_flag(
        "--not", "source or tag the estimate should not contain: a negative of the focused objective, so it acts "
        "only with --objective focused and through steering steps (repeatable)", action="append", metavar="NAME"))
    windows: int | None = 2
    taggers_per_step: int | None = None
    judge_rest: bool = False
    gain_jitter: float = 0.0
    short_audio: str = "wrap"
    average: int = 0
    # Sources estimated beside the requested ones in every segment whose mixture the taggers hear
    # them in, and not returned: a request cannot name what else plays, and what a competitor
    # takes the target no longer holds. Only drums are heard reliably in mixtures.
    competitors: tuple[str, ...] = field(default=("drums",), metadata=_flag(
        "--competitor", "source estimated beside the requested ones wherever the taggers hear it in the mixture, "
        "and not written, so that it does not end up in them (repeatable; 'none' for none; default drums)",
        action="append", metavar="NAME"))
    competitor_threshold: float = 0.03

    def __post_init__(self) -> None:
        for name in ("taggers", "exclude", "competitors"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        if self.competitors in (None, ("none",)):  # --competitor none; eval's --config reads 'none' as None
            object.__setattr__(self, "competitors", ())

    @property
    def tagger_ids(self) -> tuple[str, ...]:
        return DEFAULT_TAGGERS if self.taggers is None else self.taggers


@dataclass(frozen=True)
class Output:
    """How a long input is cut and what is returned for a source the taggers do not hear."""

    segment: float | None = field(default=30.0, metadata=_flag("--segment", "seconds per steered segment", type=float))
    overlap: float = field(default=0.25, metadata=_flag("--overlap", "overlap between segments, as a fraction", type=float))
    absent_threshold: float = 0.02
    presence_threshold: float = field(default=0.0, metadata=_flag(
        "--presence-threshold", "where the probability that a source plays in a segment is under P, its estimate "
        "there is silence (tagged start; 0, the default, keeps every estimate)", type=float, metavar="P"))

    def silences(self, presence: float) -> bool:
        """Whether a segment where the source plays with probability ``presence`` is returned as
        silence (the presence stage's rule; an undefined probability keeps the estimate)."""
        return presence < self.presence_threshold


SECTIONS = {"labelling": Labelling, "steering": Steering, "output": Output}


@dataclass(frozen=True)
class SeparatorConfig:
    """The settings of a separation (docs/how-it-works.md says what each stage does with them)."""

    latent: str = field(default="nmf", metadata=_flag(
        "--latent", "latent space to steer: nmf (gains of the mixture's NMF components, the default), vqvae (a "
        "generator's latents, TagBox's own) or mask (a free mask, the negative control)"))
    # The latent's own settings; None: its defaults.
    latent_options: LatentOptions | None = None
    labelling: Labelling = Labelling()
    steering: Steering = Steering()
    output: Output = Output()
    seed: int = field(default=0, metadata=_flag("--seed", "random seed", type=int))
    # Estimates averaged over runs seeded seed, seed + 1, ...: each run decomposes and labels the
    # mixture afresh, and their errors differ. None: 2 from the tagged start for a request with a
    # source that takes no step, else 1 (tagbox.pipeline.runs).
    runs: int | None = field(default=None, metadata=_flag(
        "--runs", "average the estimates of N runs with seeds seed, seed+1, ... (default: 2 from the tagged start "
        "where a source takes no step, else 1)", type=int))
    without: tuple[str, ...] = field(default=(), metadata=_flag(
        "--without", f"leave a stage of the default out (repeatable): {', '.join(OPTIONAL_STAGES)}",
        action="append", metavar="STAGE"))
    add: tuple[str, ...] = field(default=(), metadata=_flag(
        "--add", f"add a measured stage that is not (yet) in the default (repeatable): {', '.join(EXTRA_STAGES)}",
        action="append", metavar="STAGE"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "without", _tuple(self.without) or ())
        object.__setattr__(self, "add", _tuple(self.add) or ())
        choice("latent", self.latent, LATENTS)
        if self.latent_options is None:
            object.__setattr__(self, "latent_options", LATENTS[self.latent].Options())
        _check(self)

    @classmethod
    def of(cls, **settings: Any) -> "SeparatorConfig":
        """The default config with ``settings`` by flat name: ``SeparatorConfig.of(steps=5, components=8)``."""
        return cls().replace(**settings)

    def replace(self, **changes: Any) -> "SeparatorConfig":
        """A copy with ``changes`` by flat name, whatever their section (``components=16``).

        A new ``latent`` starts from its own defaults; a setting only other latents take is an
        error naming them, and a name that is no setting an error listing the settings."""
        latent = changes.pop("latent", self.latent)
        choice("latent", latent, LATENTS)
        own = {setting.name for setting in dataclasses.fields(LATENTS[latent].Options)}
        options = {name: changes.pop(name) for name in [*changes] if name in own}
        sections = {section: {name: changes.pop(name) for name in [*changes] if name in _names(kind)}
                    for section, kind in SECTIONS.items()}
        base = changes.pop("latent_options", self.latent_options if latent == self.latent else None)
        for name in changes:
            if name in latent_settings():
                raise not_taken(name, latent)
            if name not in TOP:
                raise UnknownNameError.suggest("setting", name, settings())
        if latent != "nmf" and sections["labelling"]:
            raise TagboxError(f"{next(iter(sections['labelling']))} is a setting of the nmf latent's tagged start; "
                              f"the {latent} latent does not take it")
        if base is None:
            base = LATENTS[latent].Options()
        return dataclasses.replace(
            self, latent=latent, latent_options=dataclasses.replace(base, **options),
            **{section: dataclasses.replace(getattr(self, section), **values) for section, values in sections.items()},
            **changes)

    def flat(self) -> dict[str, Any]:
        """Every setting this config holds by its flat name, as :meth:`replace` takes them (what a
        manifest records)."""
        holders = (self, self.latent_options, *(getattr(self, section) for section in SECTIONS))
        return {setting.name: getattr(holder, setting.name) for holder in holders
                for setting in dataclasses.fields(holder) if setting.name not in (*SECTIONS, "latent_options")}

    @property
    def tagged(self) -> bool:
        """Whether the latent starts from what the taggers hear (the ``nmf`` latent's tagged
        start): the start is then already an estimate, and 0 steps a separation."""
        return self.latent == "nmf" and self.latent_options.start == "tagged"

    def resolved_lr(self) -> float:
        """The learning rate, the latent's own where unset."""
        return LATENTS[self.latent].default_lr if self.steering.lr is None else float(self.steering.lr)


def _names(kind: type) -> set[str]:
    return {setting.name for setting in dataclasses.fields(kind)}


TOP: tuple[str, ...] = tuple(name for name in _names(SeparatorConfig) if name not in SECTIONS and name != "latent_options")


def settings() -> tuple[str, ...]:
    """Every name :meth:`SeparatorConfig.replace` and eval's ``--config`` take: the sections'
    fields and the latents' settings."""
    names = [*TOP, *(setting.name for kind in SECTIONS.values() for setting in dataclasses.fields(kind))]
    return (*names, *(name for name in latent_settings() if name not in names))


def flagged_settings() -> list[dataclasses.Field]:
    """The settings offered as ``tagbox separate`` flags: the config's, then every latent's."""
    fields = [*dataclasses.fields(SeparatorConfig), *(f for kind in SECTIONS.values() for f in dataclasses.fields(kind)),
              *latent_settings().values()]
    return [setting for setting in fields if "flag" in setting.metadata]


def _check(config: SeparatorConfig) -> None:
    """Refuse a config that cannot run, before any model is loaded."""
    from tagbox.objectives import OBJECTIVES
    from tagbox.taggers.registry import TAGGERS

    options, expected = config.latent_options, LATENTS[config.latent].Options
    if type(options) is not expected:
        raise TagboxError(f"the {config.latent} latent takes {expected.__name__}, not {type(options).__name__}")
    steering, output = config.steering, config.output
    choice("objective", steering.objective, OBJECTIVES)
    choice("short_audio", steering.short_audio, ("wrap", "pad"))
    for tagger in steering.tagger_ids:
        choice("tagger", tagger, TAGGERS)
    if not steering.tagger_ids:
        raise TagboxError("at least one tagger is needed")
    for stage in config.without:
        choice("stage", stage, OPTIONAL_STAGES)
    for stage in config.add:
        choice("stage to add", stage, EXTRA_STAGES)
    if steering.exclude and steering.objective != "focused":
        raise TagboxError("--not (exclude) names negatives of the focused objective (--objective focused); the "
                          f"{steering.objective} objective does not read it")
    if output.segment is not None and output.segment <= 0:
        raise TagboxError(f"segment must be positive, got {output.segment}")
    if not 0 <= output.presence_threshold <= 1:
        raise TagboxError(f"presence_threshold must be in [0, 1], got {output.presence_threshold}")
    if not 0 <= output.overlap < 1:
        raise TagboxError(f"overlap must be in [0, 1), got {output.overlap}")
    if config.runs is not None and config.runs < 1:
        raise TagboxError(f"runs must be at least 1, got {config.runs}")
    if steering.taggers_per_step is not None and steering.taggers_per_step < 1:
        raise TagboxError(f"taggers_per_step must be at least 1, got {steering.taggers_per_step}")
    if steering.steps is not None and steering.steps < (0 if config.tagged else 1):
        least = "0 (the start itself)" if config.tagged else "1"
        raise TagboxError(f"steps must be at least {least}, got {steering.steps}")
    lr = config.resolved_lr()
    if not (math.isfinite(lr) and lr > 0):
        raise TagboxError(f"lr (the learning rate) must be a positive number, got {lr}")
    for name in steering.competitors:
        canonical_name(name)  # an unknown name fails here, not at the first segment
    if not 0 < steering.competitor_threshold < 1:
        raise TagboxError(f"competitor_threshold must be between 0 and 1 (exclusive), got {steering.competitor_threshold}")
    if steering.average < 0:
        raise TagboxError(f"average must be at least 0, got {steering.average}")
    most = steering.steps if steering.steps is not None else max(
        map(refine_steps, SOURCE_NAMES)) if config.tagged else LATENTS[config.latent].default_steps
    if steering.average > most:
        raise TagboxError(f"average must be at most steps ({most}), got {steering.average}")


PRESETS: dict[str, SeparatorConfig] = {
    "default": SeparatorConfig(),
    # What the reference implementation does: Jukebox, codebook re-initialised from the song
    # and EMA-updated, all-tag BCE, every non-overlapping tagger window, last FFT size's output.
    "faithful": SeparatorConfig(
        latent="vqvae", latent_options=VQVAEOptions(generator="jukebox-5b", codebook="reference", output_views="last"),
        steering=Steering(objective="reference", windows=None, short_audio="pad", lr=5.0, steps=100, competitors=()),
        without=("range_floor",),
    ),
}


def preset(name: str) -> SeparatorConfig:
    if name not in PRESETS:
        raise UnknownNameError(f"unknown preset '{name}'; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
