"""How many OpenMP threads libmxnet's operators get: one per core that this process may use and
that no other process keeps busy, measured when Julia starts.

Measured with the original's model on 2 cores (`pyjlchar bench`, README "Threads"): on a quiet
machine 2 threads train the fused cell about twice as fast as 1; beside another busy process,
2 threads spin waiting for each other on a core the other process holds, and training runs at
half the speed of 1 thread. libmxnet and oneDNN fix the team size when
they start (omp_set_num_threads later changes nothing), so the count is chosen once, from the
cores idle at that moment: the CPU time the machine spent outside this process between this
module's import and Julia's start, at least PROBE_S apart. OMP_NUM_THREADS overrides it.
Workers that `pyjlchar launch` starts side by side split the cores among them, since each would
find them idle; the launchers of other tools cannot say so: there, set OMP_NUM_THREADS.
"""
from __future__ import annotations

import os
import time

PROBE_S = 0.1  # long enough for 10 clock ticks per core, short beside Julia's start
# How many of a job's workers `pyjlchar launch` started on this machine: they share its cores.
WORKERS_HERE = "PYJLCHAR_WORKERS_HERE"
# The OMP_NUM_THREADS that pyjlchar chose, not the user (see omp_threads).
CHOSEN = "PYJLCHAR_CHOSEN_OMP_THREADS"


def available() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def _busy_ticks(cpus: set[int]) -> int:
    """Clock ticks `cpus` have spent busy (not idle, not waiting for I/O) since boot."""
    busy = 0
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                ticks = [int(f) for f in fields[:8]]   # user nice system idle iowait irq softirq steal
                busy += sum(ticks) - ticks[3] - ticks[4]
    return busy


def _snapshot() -> tuple[float, int, float] | None:
    try:
        own = os.times()
        return time.monotonic(), _busy_ticks(os.sched_getaffinity(0)), own.user + own.system
    except (OSError, ValueError):
        return None   # no /proc (or an unreadable one): nothing to measure with


_AT_IMPORT = _snapshot()


def busy_elsewhere() -> float:
    """Cores' worth of CPU time other processes took since this module was imported (waiting
    until PROBE_S have passed); 0 when it cannot be measured."""
    if _AT_IMPORT is None:
        return 0.0
    started, busy, own = _AT_IMPORT
    time.sleep(max(0.0, started + PROBE_S - time.monotonic()))
    now = _snapshot()
    if now is None:
        return 0.0
    seconds = now[0] - started
    others = (now[1] - busy) / os.sysconf("SC_CLK_TCK") - (now[2] - own)
    return max(0.0, others / seconds)


def threads_for(cores: int, busy: float) -> int:
    """One thread per core left idle by `busy` cores' worth of other work (half a core rounds
    to a whole), at least one."""
    return max(1, cores - int(busy + 0.5))


def omp_threads() -> dict:
    """The environment that gives libmxnet its threads: the user's OMP_NUM_THREADS; else one for
    a parameter-server job's scheduler or server (they do little arithmetic); else `threads_for`
    the cores now idle, of this process's share when `pyjlchar launch` starts several workers
    on this machine. A chosen count is marked as such (CHOSEN): Julia embedded in a Python
    process needs it in that process's environment, and the processes it starts, which inherit
    it, must choose their own."""
    user = os.environ.get("OMP_NUM_THREADS")
    if user and user != os.environ.get(CHOSEN):
        return {"OMP_NUM_THREADS": user}
    if os.environ.get("DMLC_ROLE") in ("scheduler", "server"):
        chosen = 1
    else:
        chosen = threads_for(max(1, available() // max(1, int(os.environ.get(WORKERS_HERE) or 1))), busy_elsewhere())
    return {"OMP_NUM_THREADS": str(chosen), CHOSEN: str(chosen)}
