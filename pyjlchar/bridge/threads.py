"""How many OpenMP threads libmxnet's operators get: OMP_NUM_THREADS when the user sets it, else
one per core this process may use (its CPU affinity, capped by a cgroup CPU quota).

libmxnet and oneDNN fix their team size when they start (omp_set_num_threads later changes
nothing), so the count is chosen once, when Julia starts, and said: train's first log line and
`pyjlchar doctor` give it and why. It does not depend on what else runs, with one exception
that is said instead of acted on: when other processes already keep cores busy at that moment,
the line says how many and how to override, because a team of threads then waits on the cores
the others hold (measured on 2 cores with the original's model: 2 threads beside a busy
process trained at about half the speed of 1). The count reaches libmxnet through this
process's environment only while Julia starts (bridge/start.py), so that no process started
later inherits it as if a user had chosen it. `pyjlchar launch` gives each worker its share
explicitly (OMP_NUM_THREADS on its command line; `python -m pyjlchar.bridge.threads --share N`
prints a host's share of N workers).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

from ..errors import UserError

PROBE_S = 0.1  # how long other processes' CPU time is measured for: 10 clock ticks per core
# Busy cores (other processes') from which the first log line warns: half a core's worth.
WARN_BUSY = 0.5


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


def busy_elsewhere(seconds: float = PROBE_S) -> float:
    """Cores' worth of CPU time other processes take, measured over `seconds`; 0 when it cannot
    be measured (no /proc)."""
    try:
        cpus = os.sched_getaffinity(0)
        start, busy, own = time.monotonic(), _busy_ticks(cpus), sum(os.times()[:2])
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        others = (_busy_ticks(cpus) - busy) / os.sysconf("SC_CLK_TCK") - (sum(os.times()[:2]) - own)
    except (OSError, ValueError):
        return 0.0
    return max(0.0, others / elapsed)


@dataclass(frozen=True)
class Choice:
    """The OpenMP threads libmxnet gets, and the sentence that says why."""
    threads: int
    reason: str
    warning: str | None = None

    def line(self) -> str:
        return f"{self.threads} OpenMP thread{'s' if self.threads != 1 else ''} ({self.reason})" + \
            (f"; {self.warning}" if self.warning else "")


def choose(role: str | None = None) -> Choice:
    """The threads for this process: the user's OMP_NUM_THREADS; one for a parameter-server
    job's scheduler or server (`role`; they do little arithmetic); else the cores it may use."""
    user = os.environ.get("OMP_NUM_THREADS")
    if user:
        if not user.isdigit() or not 0 < int(user) <= 4096:
            raise UserError(f"OMP_NUM_THREADS={user} is not a number of threads from 1 to 4096: fix or unset it")
        return Choice(int(user), "OMP_NUM_THREADS")
    if role in ("scheduler", "server"):
        return Choice(1, f"a parameter-server {role} does little arithmetic")
    cores = available()
    busy = busy_elsewhere() if cores > 1 else 0.0
    warning = None
    if busy >= WARN_BUSY:
        warning = (f"other processes keep {busy:.1f} of them busy now, and a team of {cores} threads beside them "
                   f"can run at half the speed of fewer (measured on 2 cores): set OMP_NUM_THREADS="
                   f"{max(1, cores - round(busy))} to leave them their cores")
    return Choice(cores, "the cores this process may use; OMP_NUM_THREADS overrides", warning)


def share(workers: int) -> int:
    """One worker's threads when `workers` of a job share this machine."""
    return max(1, available() // max(1, workers))


if __name__ == "__main__":
    # `python -m pyjlchar.bridge.threads --share N`: what `pyjlchar launch` gives each of N workers on a host.
    if len(sys.argv) != 3 or sys.argv[1] != "--share" or not sys.argv[2].isdigit():
        sys.exit("usage: python -m pyjlchar.bridge.threads --share WORKERS")
    print(share(int(sys.argv[2])))
