"""``tagbox eval --ray``: one Ray task per track, outcomes gathered on the driver as they finish.

Imported only for ``--ray`` (Ray is the optional extra ``tagbox[ray]``). It runs its tasks the way
``separate --ray`` does (:func:`tagbox.batch.ray_backend.tasks`: an address that does not answer
is refused in seconds, no address starts a local instance, a task whose worker dies is retried).
Each task runs :func:`~tagbox.evaluation.runner.evaluate_track`, which reads and writes the
per-result cache files itself, so the cache folder and the datasets must be at the same path on
every node; a rerun skips what any node finished, and atomic cache writes mean a retried task
never meets half a result.
"""

from __future__ import annotations

from typing import Iterator

from tagbox.batch.ray_backend import tasks
from tagbox.evaluation.runner import EvalPlan, TrackOutcome, evaluate_track, worker_threads


def _evaluate(threads: int, plan: EvalPlan, *item) -> TrackOutcome:
    """The task: a worker process may serve several tasks, so its thread count is set each time."""
    worker_threads(threads)
    return evaluate_track(plan, *item)


def outcomes(plan: EvalPlan, items: list[tuple], address: str | None, threads: int = 1) -> Iterator[TrackOutcome]:
    """The outcome of every (track, sources, absent sources) item, in the order tasks finish."""
    for track, outcome, error in tasks(address, _evaluate, [(item[0], (threads, plan, *item)) for item in items]):
        yield outcome if error is None else TrackOutcome(track, failures=[{"track": track, "error": error}])
