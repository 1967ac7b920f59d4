"""``tagbox eval --ray``: one Ray task per track, outcomes gathered on the driver as they finish.

Imported only for ``--ray`` (Ray is the optional extra ``tagbox[ray]``). It joins the cluster
the way ``separate --ray`` does (:func:`tagbox.batch.ray_backend.connect`: an address that does
not answer is refused in seconds, no address starts a local instance). Each task runs
:func:`~tagbox.evaluation.runner.evaluate_track`, which reads and writes the per-result cache
files itself, so the cache folder and the datasets must be at the same path on every node; a
rerun skips what any node finished. A task whose worker dies is retried up to ``MAX_RETRIES``
times; its cache writes are atomic, so a retry never meets half a result.
"""

from __future__ import annotations

from typing import Iterator

from tagbox.batch.ray_backend import MAX_RETRIES, connect, import_ray
from tagbox.evaluation.runner import EvalPlan, TrackOutcome, evaluate_track, worker_threads


def _evaluate(threads: int, plan: EvalPlan, *item) -> TrackOutcome:
    """The task: a worker process may serve several tasks, so its thread count is set each time."""
    worker_threads(threads)
    return evaluate_track(plan, *item)


def outcomes(plan: EvalPlan, items: list[tuple], address: str | None, threads: int = 1) -> Iterator[TrackOutcome]:
    """The outcome of every (track, sources, absent sources) item, in the order tasks finish."""
    ray = import_ray()
    started = connect(ray, address)
    try:
        remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_evaluate)
        pending = {remote.remote(threads, plan, *item): item[0] for item in items}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    track = pending.pop(ref)
                    try:
                        yield ray.get(ref)
                    except ray.exceptions.RayError as error:  # retries exhausted, node lost
                        yield TrackOutcome(track, failures=[{"track": track, "error": f"Ray task failed: {_short(error)}"}])
        except BaseException:  # Ctrl-C, or the driver stopped listening: drop the tasks still queued
            for ref in pending:
                ray.cancel(ref)
            raise
    finally:
        if started:
            ray.shutdown()


def _short(error: Exception) -> str:
    return " ".join(str(error).split())[:300]
