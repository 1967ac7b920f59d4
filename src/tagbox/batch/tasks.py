"""The per-file work of ``tagbox separate`` and ``tagbox tag``, as picklable batch tasks."""

from __future__ import annotations

import json
import math
import os
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from tagbox.audio import matching_encoding, save_blocks
from tagbox.batch.plan import Group, Job
from tagbox.config import Output
from tagbox.errors import TagboxError
from tagbox.inputs import check_file
from tagbox.pipeline import Request
from tagbox.separator import SeparationResult, Separator
from tagbox.stems import StemStream
from tagbox.taggers.ensemble import TaggerEnsemble
from tagbox.tagging import tag_file

Block = tuple[np.ndarray, np.ndarray]
StemMaker = Callable[[np.ndarray, np.ndarray], np.ndarray]


# One separator per process and configuration: worker processes and Ray workers load the
# taggers once, not once per file.
_SEPARATORS: dict[str, Separator] = {}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def describe(result: SeparationResult, taggers: Iterable[str], output: Output) -> dict:
    """What the manifest and the report keep of one source's separation (no audio); ``taggers``
    are those whose probabilities of the source's tags the numbers average; ``plays_in`` counts
    the segments ``output`` did not silence."""
    return {
        "probability_before": _finite(result.probability_before),
        "probability_after": _finite(result.probability_after),
        "presence": [round(p, 4) for p in result.presence],
        "plays_in": sum(not output.silences(p) for p in result.presence),
        "taggers": list(taggers),
        "absent": result.absent,
        "warnings": list(result.warnings),
        "history": {key: [record[key] for record in result.history] for key in ("segment", "run", "step", "loss", "probability")},
    }


def progress(label: str, record: dict, steps: int, runs: int) -> str:
    """A step record as the batch progress shows it: ``drums step 3/15``, with the run when
    several are averaged (``drums run 2/2 step 3/15``)."""
    run = f" run {record['run'] + 1}/{runs}" if runs > 1 else ""
    return f"{label}{run} step {record['step'] + 1}/{steps}"


def _report_step(step: Callable[[str], None], label: str, request: Request, record: dict) -> None:
    step(progress(label, record, request.most_steps, request.runs))


@dataclass
class SeparateTask:
    """Separate ``sources`` from one file and write each output group atomically, in ``encoding``
    (None: at the input's sample depth, :func:`tagbox.audio.matching_encoding`)."""

    preset: str
    options: dict = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    joint: bool = False
    encoding: str | None = None
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
        requested = separator.request(list(self.sources))
        config = {name: list(value) if isinstance(value, tuple) else value
                  for name, value in separator.config.flat().items()}
        return {
            "preset": self.preset, "sources": list(self.sources), "joint": self.joint, "model": separator.name,
            **config, "steps": {source.name: source.steps for source in requested.sources},
            "runs": {source: separator.request(list(self.sources) if self.joint else [source]).runs
                     for source in self.sources},
            "lr": separator.lr, "encoding": self.encoding or "the input's",
        }

    def __call__(self, job: Job, step: Callable[[str], None] | None = None) -> dict:
        start = time.perf_counter()
        separator = self.separator()
        sample_rate, channels = check_file(job.input)  # silent, non-finite or too short: this file fails alone
        sources = {}
        encoding = self.encoding or matching_encoding(job.input, next(iter(job.outputs.values())))
        for group in job.todo:
            names = list(group)[:-1] if self.joint else list(group)[:1]
            request = separator.request(names)
            on_step = None if step is None else partial(_report_step, step, "+".join(names), request)
            # The estimates wait on disk until the whole file is known: memory stays flat in its length.
            with tempfile.TemporaryDirectory(prefix="tagbox-") as scratch:
                stream = StemStream(scratch, len(names), channels, sample_rate)
                try:
                    results = separator.stream_file(job.input, sources=names, sink=stream.write, on_step=on_step)
                finally:
                    stream.close()
                silent = [result.absent for result in results]
                self._save(group, stem_makers(self.joint, list(group)), lambda: stream.blocks(job.input, silent),
                           sample_rate, channels, replaces=job.replaced(group), encoding=encoding)
            sources.update({result.source: describe(result, profile.steered.targets, separator.config.output)
                            for result, profile in zip(results, request.sources)})
        return {"status": "done", "sources": sources, "seconds": round(time.perf_counter() - start, 3), "error": None,
                "encoding": encoding}

    def _save(self, paths: Group, makers: dict[str, StemMaker], blocks: Callable[[], Iterable[Block]],
              sample_rate: int, channels: int, replaces: Iterable[Path] = (), encoding: str | None = None) -> None:
        """Write a group of stems as one, block by block: every file under a temporary name first, then renamed.

        An interruption or failure part-way removes what was written and leaves the stems it was
        to replace (``--force``) as they were; a worker killed outright
        can at worst leave a hidden temporary file, never a group with a missing stem. Once the
        group is written, ``replaces`` (the rest of earlier groups it broke up) are removed.
        """
        staged: dict[Path, Path] = {}
        renamed: list[Path] = []
        try:
            for stem, make in makers.items():
                final = paths[stem]
                if final.exists() and not self.force:
                    raise TagboxError(f"{final} already exists; use --force to overwrite it")
                temporary = final.with_name(f".{final.stem}.{secrets.token_hex(4)}.partial{final.suffix}")
                staged[final] = temporary
                save_blocks(temporary, lambda make=make: (make(*block) for block in blocks()), sample_rate, channels,
                            encoding=encoding or self.encoding, clip=self.clip)
            for final, temporary in staged.items():
                os.replace(temporary, final)
                renamed.append(final)
        except BaseException:  # earlier stems (--force) stay unless this group had begun replacing them
            for final, temporary in staged.items():
                temporary.unlink(missing_ok=True)
            for final in renamed:
                final.unlink(missing_ok=True)
            raise
        for path in replaces:
            path.unlink(missing_ok=True)


def stem_makers(joint: bool, group: list[str]) -> dict[str, StemMaker]:
    """Each stem of ``group`` from a block ``(mixture, estimates)``: the sources' estimates, and
    the residual or the rest of the mixture."""
    if joint:
        *sources, rest = group
        makers: dict[str, StemMaker] = {name: (lambda mix, est, i=i: est[i]) for i, name in enumerate(sources)}
        makers[rest] = lambda mix, est: mix - est.sum(0)
        return makers
    source, residual = group
    return {source: lambda mix, est: est[0], residual: lambda mix, est: mix - est[0]}


@dataclass
class TagTask:
    """Tag one file with an already loaded ensemble (runs in this process only)."""

    ensemble: TaggerEnsemble
    top: int = 5
    segments: float | None = None

    def __call__(self, job: Job, step: Callable[[str], None] | None = None) -> dict:
        return {"status": "done", "tags": tag_file(job.input, self.ensemble, self.top, self.segments)}
