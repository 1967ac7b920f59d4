"""How many CPU threads torch should use: the cores that are actually free, shared among workers.

torch starts one OpenMP thread per core it can see. When several jobs share a machine, each
takes every core and they thrash: three separations on two cores took 627 s for 10 s of audio
instead of about 50 s (issue 11). So the command-line tools size torch's pool to the cores this
process may run on (its CPU affinity, which containers and ``taskset`` narrow) minus the load
already running there (and a cgroup CPU quota, where one is set), divided among the worker processes, unless the user says otherwise
(``--threads``, or ``OMP_NUM_THREADS`` in the environment).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from tagbox.errors import TagboxError

THREADS_ENV = "OMP_NUM_THREADS"
LOADAVG = "/proc/loadavg"
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def usable_cores() -> int:
    """Cores this process may run on: its affinity mask, capped by a cgroup CPU quota if any."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path(CGROUP_CPU_MAX).read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # no cgroup v2 limit here
        pass
    return max(1, cores)


def busy_cores() -> float:
    """What other work keeps busy: the one-minute load average, or the tasks runnable right now
    besides this one if more (the average lags by a minute, so jobs started together miss each other)."""
    try:
        fields = Path(LOADAVG).read_text().split()
        return max(float(fields[0]), int(fields[3].split("/")[0]) - 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return 0.0


def free_cores() -> int:
    """Usable cores not busy with other work, at least one."""
    cores = usable_cores()
    return max(1, min(cores, round(cores - busy_cores())))


def default_threads(workers: int = 1) -> int:
    """``OMP_NUM_THREADS`` if set, else the free cores shared among ``workers`` processes."""
    explicit = os.environ.get(THREADS_ENV, "").strip()
    if explicit.isdigit() and int(explicit) > 0:
        return int(explicit)
    return max(1, free_cores() // max(1, workers))


def check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise TagboxError(f"--threads must be at least 1, got {threads}")


def use_threads(threads: int | None = None, workers: int = 1) -> int:
    """Set torch's intra-op threads to ``threads`` (default: :func:`default_threads`); returns it."""
    import torch

    check_threads(threads)
    count = default_threads(workers) if threads is None else threads
    torch.set_num_threads(count)
    return count
