"""What is known of a source before listening, as two stages: its fragment head and its register.

**Fragments.** The taggers know whole recordings; one NMF component of a cello, a note or a few
heard alone, sounds to MTAT musicnn more like a guitar or strings than a cello, so the source's
own tag says little about it. Across all fifty tags it says more: per source, a logistic
regression from a component's tag log-odds to "a piece of this source" was fitted on NMF
components of isolated renders of General MIDI instruments with a soundfont other than the dev
sets' (``scripts/train_fragment_heads.py``; ``tagbox/data/fragments.json``). No mixture and no
separation target went into it. Bass, which MTAT cannot name and the Jamendo taggers that label
it barely hear, has a head over MTAT musicnn's tags too.

**Register.** The taggers hear timbre, and a cello's note can sound to them like a violin's or a
flute's; the two lie octaves apart. Each component's fundamental (:func:`tagbox.pitch.fundamentals`)
places it; the source's register is where the components the labelling already believes in lie,
pulled towards the middle of the instrument's range where one is known (``lowest`` and
``highest`` in ``tagbox/data/sources.json``), and components far from it lose evidence. Sources
without notes (drums) keep theirs.

docs/decisions.md has what each gained, and the weights' choice.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import ClassVar

import torch

from tagbox.pipeline.labelling import log_odds, standardised
from tagbox.pipeline.state import Run, RunStage, Segment, Tools
from tagbox.pitch import fundamentals
from tagbox.sources import SOURCE_NAMES, highest_frequency, is_pitched, lowest_frequency


@dataclass(frozen=True)
class FragmentHead:
    """One source's head: ``weights (tags,)`` and ``bias`` over the log-odds of ``tagger``'s tags."""

    tagger: str
    weights: tuple[float, ...]
    bias: float

    @classmethod
    def of(cls, name: str) -> "FragmentHead | None":
        """The head of source ``name`` (canonical), None where none was fitted."""
        return _heads().get(name)

    def __call__(self, tags: torch.Tensor) -> torch.Tensor:
        """How much each of ``tags (K, tags)`` (probabilities) sounds like a piece of the source, in logits ``(K,)``."""
        return log_odds(tags) @ torch.tensor(self.weights, dtype=tags.dtype, device=tags.device) + self.bias


@lru_cache(maxsize=None)
def _heads() -> dict[str, FragmentHead]:
    document = json.loads(resources.files("tagbox.data").joinpath("fragments.json").read_text())
    return {name: FragmentHead(document["tagger"], tuple(head["weights"]), head["bias"])
            for name, head in document["heads"].items()}


@dataclass(frozen=True)
class FragmentPrior(RunStage):
    """Each source's evidence, standardised, plus ``weight`` times its head's standardised verdict
    on the components' tags. Sources without a head (drums, raw tags) keep theirs."""

    name: ClassVar[str] = "fragment_prior"
    weight: float

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        evidence = run.evidence
        if evidence.shape[-1] < 2:  # one component: nothing to standardise over
            return run
        combined = evidence.clone()
        for index, source in enumerate(segment.sources):
            if source.head is not None:
                verdict = source.head(run.heard.tags[source.head.tagger])
                combined[index] = standardised(evidence[index]) + self.weight * standardised(verdict)
        return replace(run, evidence=combined)


@dataclass(frozen=True)
class Register:
    """What is known of a source's pitch before listening: the middle of its range, in octaves
    (log2 Hz), or None where no range is listed (a piano spans every register)."""

    centre: float | None = None

    PRIOR_WEIGHT: ClassVar[float] = 2.0  # the range's centre against the components' weights (summing to 1):
    # false positives would otherwise pull the register towards theirs
    LEAST_SPREAD: ClassVar[float] = 0.25  # octaves: one note's components would otherwise make the register a point

    @classmethod
    def of(cls, name: str) -> "Register | None":
        """The register prior of source ``name`` (canonical); None for a source without notes, a
        raw tag or a name that is no source."""
        if name not in SOURCE_NAMES or not is_pitched(name):
            return None
        lowest, highest = lowest_frequency(name), highest_frequency(name)
        if lowest is None or highest is None:
            return cls()
        return cls(centre=(math.log2(lowest) + math.log2(highest)) / 2)

    def locate(self, belief: torch.Tensor, octaves: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The register's middle and spread in octaves, from each component's ``octaves (K,)``
        weighted by ``belief (K,)`` (summing to 1) and this prior."""
        middle = (belief * octaves).sum()
        if self.centre is not None:
            middle = (middle + self.PRIOR_WEIGHT * self.centre) / (1 + self.PRIOR_WEIGHT)
        spread = (belief * (octaves - middle) ** 2).sum().sqrt().clamp(min=self.LEAST_SPREAD)
        return middle, spread


@dataclass(frozen=True)
class RegisterPrior(RunStage):
    """Each source's evidence, standardised, minus ``weight`` times each component's squared
    distance (in spreads, at most :attr:`MOST_DISTANCE`) from the source's register; the belief
    that places the register is the softmax of the standardised evidence."""

    name: ClassVar[str] = "register_prior"
    weight: float

    MOST_DISTANCE: ClassVar[float] = 3.0  # spreads: beyond, a component is simply out of the register

    def run(self, run: Run, segment: Segment, tools: Tools) -> Run:
        evidence = run.evidence
        registers = [source.register for source in segment.sources]
        if evidence.shape[-1] < 2 or all(register is None for register in registers):
            return run
        # The fundamentals cost a summation over every candidate pitch: only where a register reads them.
        octaves = fundamentals(run.latent.W, run.latent.frequencies()).log2()
        standard = standardised(evidence)
        placed = evidence.clone()
        for index, register in enumerate(registers):
            if register is not None:
                middle, spread = register.locate(torch.softmax(standard[index], 0), octaves)
                distance = ((octaves - middle) / spread).clamp(-self.MOST_DISTANCE, self.MOST_DISTANCE)
                placed[index] = standard[index] - self.weight * distance**2
        return replace(run, evidence=placed)
