"""Ray backend: one task per file on a Ray cluster, results gathered on the driver.

Imported only for ``--ray`` (Ray is the optional extra ``tagbox[ray]``). Workers write their
outputs straight into the output folder, which must be shared (the same path on every node);
the driver records each finished file in the manifest and moves the progress bar. A task whose
worker dies mid-file (killed, out of memory, node lost) is run again, up to ``MAX_RETRIES``
times; its group writes are atomic, so a retry never meets a half-written file.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import tagbox
from tagbox.batch.plan import Job
from tagbox.batch.runner import Task, attempt
from tagbox.errors import TagboxError

MAX_RETRIES = 3
CONNECT_TIMEOUT_S = 5.0


def import_ray():
    try:
        import ray
    except ImportError:
        raise TagboxError("--ray needs Ray: pip install 'tagbox[ray]'") from None
    return ray


def check_address(address: str) -> None:
    """Fail in a few seconds with one line when nothing listens at ``host:port`` (Ray would wait long)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise TagboxError(f"Ray address '{address}' is not host:port or ray://host:port")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise TagboxError(f"no Ray cluster answers at {address}: {error.strerror or error}") from None


def connect(ray, address: str | None) -> bool:
    """Join the cluster at ``address``, or start a local one; True if this call started Ray."""
    if address not in (None, "local"):
        check_address(address)
    if ray.is_initialized():
        return False
    if address in (None, "local"):
        # Local workers import the tagbox this driver runs (a checkout need not be installed).
        source = str(Path(tagbox.__file__).resolve().parents[1])
        path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
        ray.init(include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    else:
        ray.init(address=address, log_to_driver=False)
    return True


def tasks(address: str | None, function: Callable, calls: Sequence[tuple[Any, tuple]]) -> Iterator[tuple[Any, Any, str | None]]:
    """``function(*args)`` as one Ray task per ``(key, args)`` call; yields ``(key, result, error)``
    as tasks finish, ``error`` a line when the task failed for good (retries exhausted, node lost).

    Joins the cluster at ``address`` (a local one when None or ``"local"``) and leaves it at the end;
    stopping early (Ctrl-C, the caller breaking off) cancels the tasks still queued."""
    ray = import_ray()
    started = connect(ray, address)
    try:
        remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(function)
        pending = {remote.remote(*args): key for key, args in calls}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    key = pending.pop(ref)
                    try:
                        result, error = ray.get(ref), None
                    except ray.exceptions.RayError as failure:
                        result, error = None, f"Ray task failed: {' '.join(str(failure).split())[:300]}"
                    yield key, result, error
        except BaseException:
            for ref in pending:
                ray.cancel(ref)  # a KeyboardInterrupt in the task: its group writes clean up
            raise
    finally:
        if started:
            ray.shutdown()


def run(todo: Sequence[Job], task: Task, finished: Callable[[Job, dict], None], address: str | None = None, **_) -> None:
    for job, result, error in tasks(address, attempt, [(job, (task, job.absolute())) for job in todo]):
        finished(job, result if error is None else {"status": "failed", "error": error})
