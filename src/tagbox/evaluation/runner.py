"""Run methods x seeds x tracks x sources, cache every result, and summarise.

Each (track, source, method, seed) result is a small JSON file named by a hash of everything
that determines it (dataset path, track, source, excerpt, method kind, options and seed,
taggers), so an interrupted run resumes where it stopped and a track whose results are all
cached is not even read. Besides the stems a track has, the methods that can declare a source
absent (tagbox) are asked for sources it lacks: those records carry ``present: False``, the
method's verdict and the estimate's energy share, but no SI-SDR (there is no reference).

A track that cannot be loaded, or a method that fails on it, is recorded and skipped; failures
are not cached, so the next run retries them.

With ``jobs > 1`` tracks are spread over worker processes started with ``spawn`` (safe with
torch), each limited to ``threads`` OpenMP threads (one by default) so that workers do not
fight over cores; with ``ray`` over Ray tasks (:mod:`tagbox.evaluation.ray_runner`).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator

import numpy as np
from platformdirs import user_cache_dir
from tqdm import tqdm

from tagbox import __version__
from tagbox.evaluation.datasets import load_track
from tagbox.evaluation.fooling import probe as load_probe
from tagbox.evaluation.methods import DECIDES_ABSENCE, MethodSpec, build_method
from tagbox.evaluation.selection import DatasetRoot, locate
from tagbox.metrics import bss_sdr, si_sdr
from tagbox.weights import CACHE_ENV

logger = logging.getLogger(__name__)
# The fields a cached result holds; bumped when they change (2: seed, present, sdri, the method's
# info), so that results cached without a field are computed again instead of summarised as gaps.
RECORD_VERSION = 2


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or user_cache_dir("tagbox")) / "eval"


@dataclass(frozen=True)
class EvalPlan:
    """Everything a worker needs to evaluate one track (plain data: it is sent to processes)."""

    roots: tuple[DatasetRoot, ...]
    methods: tuple[MethodSpec, ...]
    cache_dir: str
    offset: float = 0.0
    duration: float | None = None
    taggers: tuple[str, ...] = ()
    bss: bool = True
    # Where the fooling check and the tagbox methods that set no device of their own run.
    device: str = "cpu"

    def result_key(self, track_id: str, source: str, method: MethodSpec, present: bool = True) -> str:
        root, track = locate(self.roots, track_id)
        description = {
            "tagbox": __version__,
            "record": RECORD_VERSION,
            "dataset": str(Path(root.root).resolve()),
            "layout": root.layout,
            "track": track,
            "source": source,
            "offset": self.offset,
            "duration": self.duration,
            "method": method.key(),
            "taggers": list(self.taggers),
            # How the fooling check fills short windows (it padded them before TaggerEnsemble).
            "probe": "wrap",
            "bss": self.bss,
        }
        if self.device != "cpu":  # another device rounds differently; CPU keys stay as they were
            description["device"] = self.device
        if not present:
            description["absent_query"] = True
        return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:32]

    def cache_path(self, track_id: str, source: str, method: MethodSpec, present: bool = True) -> Path:
        return Path(self.cache_dir) / f"{self.result_key(track_id, source, method, present)}.json"

    def queries(self, sources: tuple[str, ...], absent: tuple[str, ...]) -> list[tuple[str, MethodSpec, bool]]:
        """(source, method, present) for every stem and method, and every absent source and
        method that can declare a source absent."""
        return [(source, spec, True) for source in sources for spec in self.methods] + [
            (source, spec, False) for source in absent for spec in self.methods if spec.kind in DECIDES_ABSENCE
        ]


@dataclass
class TrackOutcome:
    """What one track produced: result records, failures, and warnings raised while loading."""

    track: str
    records: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    computed: int = 0


@dataclass
class EvalReport:
    records: list[dict]
    failures: list[dict]
    computed: int


def evaluate_track(plan: EvalPlan, track_id: str, sources: tuple[str, ...], absent: tuple[str, ...] = ()) -> TrackOutcome:
    """Every (source, method, seed) result of one track, from the cache where possible; ``absent``
    lists sources the track has no stem for, asked of the methods that can declare absence."""
    outcome = TrackOutcome(track_id)
    todo = []
    for source, spec, present in plan.queries(sources, absent):
        path = plan.cache_path(track_id, source, spec, present)
        if path.exists():
            outcome.records.append(dict(json.loads(path.read_text()), track=track_id, method=spec.label))
        else:
            todo.append((source, spec, present))
    if not todo:
        return outcome
    try:
        root, name = locate(plan.roots, track_id)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            track = load_track(Path(root.root), root.layout, name, plan.offset, plan.duration)
        outcome.warnings = [str(w.message) for w in caught]
    except Exception as error:  # one broken track must not abort the run
        outcome.failures.append({"track": track_id, "error": _describe(error)})
        return outcome
    probe = _probe(plan.taggers, plan.device) if plan.taggers else None
    references: dict[str, dict] = {}
    for source, spec, present in todo:
        try:
            if present and source not in references:
                references[source] = _reference_scores(plan, track, source, probe)
            record = _evaluate(plan, track, source, spec, references.get(source), probe)
        except Exception as error:
            logger.debug("%s failed on %s/%s", spec.label, track_id, source, exc_info=True)
            outcome.failures.append(
                {"track": track_id, "source": source, "method": spec.label, "error": _describe(error)}
            )
            continue
        record["track"] = track_id
        write_json(plan.cache_path(track_id, source, spec, present), record)
        outcome.records.append(record)
        outcome.computed += 1
    return outcome


def run_evaluation(
    plan: EvalPlan,
    track_sources: dict[str, tuple[str, ...]],
    jobs: int = 1,
    progress: bool = True,
    absent: dict[str, tuple[str, ...]] | None = None,
    threads: int = 1,
    ray: str | None = None,
) -> EvalReport:
    """Evaluate every track (in ``jobs`` processes, or as Ray tasks on the cluster at ``ray``,
    ``"local"`` for a local one), logging load warnings and failures.

    ``absent``: track id -> sources it lacks, to ask the methods that can declare absence."""
    absent = absent or {}
    Path(plan.cache_dir).mkdir(parents=True, exist_ok=True)
    if plan.taggers:
        _probe(plan.taggers, plan.device)  # fail before the first track if a tagger cannot be loaded
    items = [(name, sources, absent.get(name, ())) for name, sources in track_sources.items()]
    if ray:
        done = importlib.import_module("tagbox.evaluation.ray_runner").outcomes(plan, items, ray, threads)
    elif jobs > 1:
        done = _pooled(plan, items, jobs, threads)
    else:
        done = (evaluate_track(plan, *item) for item in items)
    bar = tqdm(done, total=len(items), desc="tracks", unit="track", disable=not progress)
    outcomes = [_logged(outcome) for outcome in bar]
    order = {name: i for i, name in enumerate(track_sources)}
    outcomes.sort(key=lambda o: order[o.track])
    return EvalReport(
        records=[r for o in outcomes for r in o.records],
        failures=[f for o in outcomes for f in o.failures],
        computed=sum(o.computed for o in outcomes),
    )


def _pooled(plan: EvalPlan, items: list[tuple], jobs: int, threads: int) -> Iterator[TrackOutcome]:
    """Tracks evaluated in ``jobs`` spawned processes, yielded as they finish."""
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=worker_threads, initargs=(threads,)) as pool:
        futures = [pool.submit(evaluate_track, plan, *item) for item in items]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:  # Ctrl-C: drop the queued tracks instead of finishing them
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _logged(outcome: TrackOutcome) -> TrackOutcome:
    """Say what went wrong with a track as soon as it is done."""
    for message in outcome.warnings:
        logger.warning("warning: %s", message)
    for failure in outcome.failures:
        where = "/".join(failure[k] for k in ("track", "source", "method") if k in failure)
        logger.warning("skipped %s: %s", where, failure["error"])
    return outcome


def _reference_scores(plan: EvalPlan, track, source: str, probe) -> dict:
    """Per (track, source): the mixture's SI-SDR and SDR, and the true stem's tag probability."""
    stem = track.stems[source]
    return {
        "si_sdr_mixture": si_sdr(stem, track.mixture),
        "sdr_mixture": bss_sdr(stem, track.mixture, track.sample_rate) if plan.bss else None,
        "p_stem": probe(stem, sample_rate=track.sample_rate, source=source) if probe else None,
    }


def _evaluate(plan: EvalPlan, track, source: str, spec: MethodSpec, reference: dict | None, probe) -> dict:
    """One result; ``reference`` is None for a source the track lacks (nothing to score against)."""
    method = _method(spec, plan.device)
    start = time.perf_counter()
    answer = method(track.mixture, track.sample_rate, source, track)
    seconds = time.perf_counter() - start
    estimate = np.asarray(answer.audio, dtype=np.float32)
    if estimate.shape != track.mixture.shape:
        raise ValueError(f"estimate shape {estimate.shape} differs from the mixture's {track.mixture.shape}")
    record = {
        "source": source,
        "method": spec.label,
        "seed": spec.seed,
        "present": reference is not None,
        "seconds": seconds,
        "energy_ratio": _energy(estimate) / max(_energy(track.mixture), 1e-20),
        **answer.info,
    }
    if reference is None:
        return record
    stem = track.stems[source]
    score = si_sdr(stem, estimate)
    sdr = bss_sdr(stem, estimate, track.sample_rate) if plan.bss else None
    return {
        **record,
        "si_sdr": score,
        "si_sdri": score - reference["si_sdr_mixture"],
        "sdr": sdr,
        "sdri": None if sdr is None else sdr - reference["sdr_mixture"],
        "tagger": "+".join(plan.taggers) or None,
        "p_estimate": probe(estimate, sample_rate=track.sample_rate, source=source) if probe else None,
        "p_stem": reference["p_stem"],
    }


@lru_cache(maxsize=None)
def _method(spec: MethodSpec, device: str):
    """Methods are built once per process (a tagbox Separator loads its models once)."""
    return build_method(spec, device=device)


_probe = lru_cache(maxsize=None)(load_probe)  # one tagger ensemble per process


def worker_threads(threads: int) -> None:
    """Worker initializer: torch (imported later, by a method that needs it) starts with ``threads``."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _energy(signal: np.ndarray) -> float:
    return float(np.sum(signal.astype(np.float64) ** 2))


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__


def write_json(path: Path, data) -> None:
    """Write atomically: a crash leaves the old file or none, never half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w") as handle:
        json.dump(data, handle, indent=1, allow_nan=True)
    os.replace(temporary, path)

