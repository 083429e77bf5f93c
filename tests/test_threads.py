"""The OpenMP thread count pyjlchar gives libmxnet: a thread per core that no other process keeps
busy when Julia starts (pyjlchar/cores.py), on the real /proc of this machine."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from pyjlchar import cores

CHOSEN = [sys.executable, "-c", "from pyjlchar import cores; print(cores.omp_threads()['OMP_NUM_THREADS'])"]


def test_one_thread_per_idle_core_at_least_one():
    assert cores.threads_for(2, 0.0) == 2
    assert cores.threads_for(2, 0.3) == 2    # a little background work keeps both cores
    assert cores.threads_for(2, 0.6) == 1    # most of a core taken: leave it
    assert cores.threads_for(2, 1.0) == 1
    assert cores.threads_for(2, 3.0) == 1    # never none
    assert cores.threads_for(16, 4.4) == 12


def test_the_cores_are_the_processs_own():
    assert 1 <= cores.available() <= os.cpu_count()
    # A process kept to one CPU gets one thread, however idle the machine.
    pinned = subprocess.run(CHOSEN, capture_output=True, text=True, check=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}),
                            env={k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"})
    assert pinned.stdout.strip() == "1"


def test_workers_launched_side_by_side_share_the_cores_and_servers_take_one():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "DMLC_ROLE")}
    here = len(os.sched_getaffinity(0))
    shared = subprocess.run(CHOSEN, capture_output=True, text=True, check=True,
                            env={**env, cores.WORKERS_HERE: str(here)})
    assert shared.stdout.strip() == "1"   # as many workers as cores: one each, however idle
    for role in ("scheduler", "server"):
        node = subprocess.run(CHOSEN, capture_output=True, text=True, check=True, env={**env, "DMLC_ROLE": role})
        assert node.stdout.strip() == "1"


def test_omp_num_threads_in_the_environment_wins():
    out = subprocess.run(CHOSEN, capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "7"})
    assert out.stdout.strip() == "7"


def test_a_count_pyjlchar_chose_is_not_taken_for_the_users():
    # A process with Julia embedded has its chosen count in its environment, which a process it
    # starts inherits: that one chooses again (here, pinned to one CPU, one thread).
    inherited = {**os.environ, "OMP_NUM_THREADS": "7", cores.CHOSEN: "7"}
    out = subprocess.run(CHOSEN, capture_output=True, text=True, check=True, env=inherited,
                         preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
    assert out.stdout.strip() == "1"


@contextmanager
def every_core_busy():
    """A busy process per core of ours, running for a moment before the body starts."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in os.sched_getaffinity(0)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def test_a_machine_kept_busy_by_others_gets_one_thread():
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    with every_core_busy():
        busy = subprocess.run(CHOSEN, capture_output=True, text=True, check=True, env=env)
    assert busy.stdout.strip() == "1"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: there is no choice to check")
def test_doctor_reports_the_count_libmxnet_was_given():
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    with every_core_busy():
        out = subprocess.run([sys.executable, "-m", "pyjlchar", "doctor", "--json"], capture_output=True, text=True,
                             env=env, timeout=300)
    report = json.loads(out.stdout)
    assert report["mxnet"]["omp_num_threads"] == "1", out.stderr[-2000:]
