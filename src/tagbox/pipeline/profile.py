"""A source's profile: what every stage knows of one source, resolved once per request.

A request names sources as users write them ("Violin", "female vocal"); here each becomes a
:class:`SourceProfile`: its canonical name, what each judging tagger is asked (its targets),
which taggers listen to components, its fragment head and register, its lowest note, its steps
and whether it competes. Stages read profiles and never resolve a name again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tagbox.config import SeparatorConfig
from tagbox.errors import TagboxError
from tagbox.latents import LATENTS
from tagbox.pipeline.priors import FragmentHead, Register
from tagbox.sources import canonical_name, lowest_frequency, refine_steps, shares_tags
from tagbox.steering import Steered, steered_source
from tagbox.taggers.ensemble import TaggerEnsemble


@dataclass(frozen=True)
class SourceProfile:
    """One source of a request."""

    name: str  # as requested: results and files carry it
    canonical: str  # the source name or raw tag it resolves to
    steered: Steered  # what each judging tagger is asked while steering
    listening: Steered  # the same by the taggers of the shortest window: they label components and hear competitors
    head: FragmentHead | None  # learned from isolated renders, where its tagger is loaded
    register: Register | None  # where its notes lie; None for drums and raw tags
    lowest: float | None  # Hz: nothing below its lowest note is given to it
    steps: int  # steering steps after the start
    competitor: bool = False  # estimated beside the request and not returned


@dataclass(frozen=True)
class Request:
    """The sources asked for together, the competitors that may join them, and how many runs."""

    sources: tuple[SourceProfile, ...]
    competitors: tuple[SourceProfile, ...]
    runs: int

    @property
    def most_steps(self) -> int:
        """The most steps any source may take, a joining competitor's included."""
        return max(source.steps for source in (*self.sources, *self.competitors))


def resolve(config: SeparatorConfig, ensemble: TaggerEnsemble, names: Sequence[str], *,
            warn: Callable[[str], None]) -> Request:
    """The profiles of ``names`` requested together (and of their competitors) under ``config``;
    the ensemble loads a fallback pair for a source its taggers cannot name. Fails before any
    work where a source cannot be steered as asked."""
    rivals = competitors(config, names)
    everyone = [*names, *rivals]

    def profile(name: str, competitor: bool) -> SourceProfile:
        taggers = ensemble.naming(name, extend=config.steering.taggers is None, warn=warn)
        steered = steered_source(taggers, name, everyone, config.steering.objective, config.steering.exclude,
                                 device=ensemble.device, warn=warn)
        listening = steered.shortest_window(ensemble)
        canonical = canonical_name(name)
        head = FragmentHead.of(canonical)
        return SourceProfile(
            name=name, canonical=canonical, steered=listening if competitor else steered, listening=listening,
            head=head if head is not None and head.tagger in ensemble.ids else None, register=Register.of(canonical),
            lowest=lowest_frequency(canonical), steps=steps_for(config, canonical), competitor=competitor)

    requested = tuple(profile(name, competitor=False) for name in names)
    if config.steering.exclude and not any(source.steps for source in requested):
        raise TagboxError(f"--not acts through steering steps, and no source of this request takes one by default "
                          f"({', '.join(names)}): set --steps, or leave --not out")
    # Competitors are steered by their taggers of the shortest window, as the labelling hears:
    # as good as musicnn and FCN together, at two thirds of the cost (docs/decisions.md).
    return Request(requested, tuple(profile(name, competitor=True) for name in rivals), runs_for(config, requested))


def steps_for(config: SeparatorConfig, canonical: str) -> int:
    """Steps a source takes: the config's if set, else its own from the tagged start (drums are
    refined, the others returned as labelled), else the latent's own."""
    if config.steering.steps is not None:
        return int(config.steering.steps)
    return refine_steps(canonical) if config.tagged else LATENTS[config.latent].default_steps


def runs_for(config: SeparatorConfig, requested: Sequence[SourceProfile]) -> int:
    """Runs averaged: the config's if set, else two from the tagged start where a requested source
    takes no step (two decompositions, each labelled, beat one of twice the components), one where
    every source is refined by steps (a second run would double them for little)."""
    if config.runs is not None:
        return int(config.runs)
    return 2 if config.tagged and any(source.steps == 0 for source in requested) else 1


def competitors(config: SeparatorConfig, names: Sequence[str]) -> tuple[str, ...]:
    """The competitors that may join a request for ``names``: none the request names or shares a
    tag with, and none at all unless the latent estimates sources jointly from a start that is
    already an estimate (from a flat start a competitor would take an equal share of every component)."""
    if not (LATENTS[config.latent].joint and config.tagged):
        return ()
    return tuple(rival for rival in config.steering.competitors if not any(shares_tags(rival, name) for name in names))
