"""Run a batch's files on a backend: this process, worker processes, or a Ray cluster.

Whatever the backend, a file's failure becomes a ``failed`` result (reported on stderr and in the
manifest) and never stops the others; an interrupt stops the batch after the manifest says
what finished. Backends live in a registry; Ray's is imported only when asked for.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from typing import Callable, Protocol, Sequence

import torch
from tqdm import tqdm

from tagbox.batch.manifest import Manifest
from tagbox.batch.plan import Job

Result = dict
Finished = Callable[[Job, Result], None]


class Task(Protocol):
    """Processes one file and returns what the manifest records for it (``status`` ``done``).

    ``step`` receives a short text about the current file's progress (e.g. ``drums step 3/100``).
    Tasks sent to worker processes or Ray must pickle.
    """

    def __call__(self, job: Job, step: Callable[[str], None] | None = None) -> Result: ...


def attempt(task: Task, job: Job, step: Callable[[str], None] | None = None) -> Result:
    """Run ``task`` on ``job``; any error becomes a ``failed`` result with a one-line reason."""
    start = time.perf_counter()
    try:
        return task(job, step)
    except Exception as error:  # one bad file must not stop the batch
        reason = " ".join(str(error).split()) or type(error).__name__
        return {"status": "failed", "error": reason, "seconds": round(time.perf_counter() - start, 3)}


@dataclass
class Summary:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return f"{self.done} done, {self.skipped} skipped, {self.failed} failed in {self.seconds:.1f} s"


def _serial(todo: Sequence[Job], task: Task, finished: Finished, bar: tqdm, **_) -> None:
    for job in todo:
        bar.set_postfix_str(job.input.name)
        finished(job, attempt(task, job, lambda text, name=job.input.name: bar.set_postfix_str(f"{name} {text}")))


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def _processes(todo: Sequence[Job], task: Task, finished: Finished, bar: tqdm, workers: int = 1, **_) -> None:
    """``workers`` spawned processes sharing this process's threads (a fork would inherit torch's pools)."""
    threads = max(1, torch.get_num_threads() // workers)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_set_threads, initargs=(threads,))
    futures: dict[Future, Job] = {pool.submit(attempt, task, job): job for job in todo}
    recorded: set[Future] = set()

    def record(future: Future) -> None:
        try:
            result = future.result()
        except Exception as error:  # a worker that died (killed, out of memory)
            result = {"status": "failed", "error": f"worker failed: {type(error).__name__}: {error}"}
        recorded.add(future)
        finished(futures[future], result)

    try:
        for future in as_completed(futures):
            record(future)
    finally:
        # On an interrupt: drop queued files, let running ones end (Ctrl-C interrupts them too),
        # and record those that finished meanwhile.
        pool.shutdown(wait=True, cancel_futures=True)
        for future in futures:
            if future not in recorded and future.done() and not future.cancelled() and future.exception() is None:
                record(future)


def _ray(todo: Sequence[Job], task: Task, finished: Finished, bar: tqdm, **options) -> None:
    importlib.import_module("tagbox.batch.ray_backend").run(todo, task, finished, **options)


BACKENDS: dict[str, Callable[..., None]] = {"serial": _serial, "processes": _processes, "ray": _ray}


def run_batch(
    jobs: Sequence[Job],
    task: Task,
    *,
    backend: str = "serial",
    manifest: Manifest | None = None,
    progress: bool = True,
    on_result: Callable[[Job, Result, Callable[[str], None]], None] | None = None,
    **options,
) -> Summary:
    """Run ``task`` on every job not finished yet; return the counts. ``options`` go to the backend."""
    todo = [job for job in jobs if not job.finished]
    summary = Summary(skipped=len(jobs) - len(todo))
    start = time.perf_counter()
    bar = tqdm(total=len(jobs), initial=summary.skipped, unit="file", desc="files", disable=None if progress else True,
               dynamic_ncols=True)

    def finished(job: Job, result: Result) -> None:
        if result["status"] == "failed":
            summary.failed += 1
            bar.write(f"tagbox: error: {job.input}: {result['error']}", file=sys.stderr)
        else:
            summary.done += 1
        if manifest is not None:
            manifest.record(job, result)
        if on_result is not None:
            on_result(job, result, bar.write)
        bar.update(1)

    interrupted = True
    try:
        BACKENDS[backend](todo, task, finished, bar, **options)
        interrupted = False
    finally:
        bar.close()
        summary.seconds = round(time.perf_counter() - start, 3)
        if manifest is not None:
            manifest.finish(asdict(summary), interrupted=interrupted)
    return summary
