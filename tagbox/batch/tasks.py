"""The per-file work of ``tagbox separate`` and ``tagbox tag``, as picklable batch tasks."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tagbox.audio import load_audio, save_audio
from tagbox.batch.plan import Group, Job
from tagbox.errors import TagboxError
from tagbox.separator import SeparationResult, Separator
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.tagging import tag_file

# One separator per process and configuration: worker processes and Ray workers load the
# taggers once, not once per file.
_SEPARATORS: dict[str, Separator] = {}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def describe(result: SeparationResult) -> dict:
    """What the manifest and the report keep of one source's separation (no audio)."""
    return {
        "probability_before": _finite(result.probability_before),
        "probability_after": _finite(result.probability_after),
        "absent": result.absent,
        "warnings": list(result.warnings),
        "history": {key: [record[key] for record in result.history] for key in ("segment", "step", "loss", "probability")},
    }


@dataclass
class SeparateTask:
    """Separate ``sources`` from one file and write each output group atomically."""

    preset: str
    options: dict = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    joint: bool = False
    encoding: str = "int16"
    clip: str = "rescale"
    force: bool = False

    def separator(self) -> Separator:
        key = json.dumps([self.preset, self.options], sort_keys=True, default=str)
        if key not in _SEPARATORS:
            _SEPARATORS[key] = Separator.from_preset(self.preset, **self.options, progress=False)
        return _SEPARATORS[key]

    def groups(self) -> list[list[str]]:
        """Stems written together: each source and its residual, or the joint set and the rest."""
        if self.joint:
            return [[*self.sources, "rest"]]
        return [[source, f"no_{source}"] for source in self.sources]

    def settings(self) -> dict:
        """What the manifest and the report show: the separator's whole configuration, as resolved."""
        separator = self.separator()
        config = {key: list(value) if isinstance(value, tuple) else value
                  for key, value in dataclasses.asdict(separator.config).items()}
        return {
            "preset": self.preset, "sources": list(self.sources), "joint": self.joint, "model": separator.name,
            **config, "steps": separator.steps, "lr": separator.lr, "encoding": self.encoding,
        }

    def __call__(self, job: Job, step: Callable[[str], None] | None = None) -> dict:
        start = time.perf_counter()
        separator = self.separator()
        wav, sample_rate = load_audio(job.input)
        sources = {}
        for group in job.todo:
            names = list(self.sources) if self.joint else [next(iter(group))]
            label = "+".join(names)
            separator.callback = None if step is None else (
                lambda record: step(f"{label} step {record['step'] + 1}/{separator.steps}"))
            try:
                if self.joint:
                    results = separator.separate_joint(wav, sample_rate, names)
                    stems = {name: result.target for name, result in results.items()}
                else:
                    result = separator.separate_tensor(wav, sample_rate, names[0])
                    results = {names[0]: result}
                    stems = {names[0]: result.target, f"no_{names[0]}": result.residual}
            finally:
                separator.callback = None
            self._save(group, stems, sample_rate)
            sources.update({name: describe(results[name]) for name in names})
        return {"status": "done", "sources": sources, "seconds": round(time.perf_counter() - start, 3), "error": None}

    def _save(self, paths: Group, stems: dict, sample_rate: int) -> None:
        """Write a group of stems as one: every file under a temporary name first, then renamed.

        An interruption or failure part-way removes what was written; a worker killed outright
        can at worst leave a hidden temporary file, never a group with a missing stem.
        """
        staged: dict[Path, Path] = {}
        try:
            for stem, audio in stems.items():
                final = paths[stem]
                if final.exists() and not self.force:
                    raise TagboxError(f"{final} already exists; use --force to overwrite it")
                temporary = final.with_name(f".{final.stem}.{secrets.token_hex(4)}.partial{final.suffix}")
                staged[final] = save_audio(temporary, audio.cpu(), sample_rate, encoding=self.encoding, clip=self.clip)
            for final, temporary in staged.items():
                os.replace(temporary, final)
        except BaseException:
            for final, temporary in staged.items():
                temporary.unlink(missing_ok=True)
                final.unlink(missing_ok=True)
            raise


@dataclass
class TagTask:
    """Tag one file with an already loaded ensemble (runs in this process only)."""

    ensemble: TaggerEnsemble
    top: int = 5
    segments: float | None = None

    def __call__(self, job: Job, step: Callable[[str], None] | None = None) -> dict:
        return {"status": "done", "tags": tag_file(job.input, self.ensemble, self.top, self.segments)}
