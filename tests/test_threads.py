"""The OpenMP thread count pyjlchar gives libmxnet (pyjlchar/bridge/threads.py): the user's
OMP_NUM_THREADS, else one per core this process may use, on the real /proc of this machine; a
machine other processes keep busy is said, not acted on."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from pyjlchar.bridge import threads
from pyjlchar.errors import UserError

CHOSEN = [sys.executable, "-c", "from pyjlchar.bridge import threads; c = threads.choose(); print(c.threads)"]
# What OpenMP itself was given, in a process that started Julia (libmxnet loads libgomp then).
OPENMP = [sys.executable, "-c",
          "import os; from pyjlchar import bridge; jl = bridge.get(); "
          "print(jl.started.threads.threads, jl.eval('ccall((:omp_get_max_threads, \"libgomp.so.1\"), Cint, ())'), "
          "os.environ.get('OMP_NUM_THREADS'), jl.eval('get(ENV, \"OMP_NUM_THREADS\", \"unset\")'))"]
MANY_CORES = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: there is no choice to check")


def without_omp(**extra) -> dict:
    return {**{k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "DMLC_ROLE")}, **extra}


def pin_to_one_cpu():
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def test_the_cores_are_the_processs_own():
    assert 1 <= threads.available() <= os.cpu_count()
    assert threads.available() <= len(os.sched_getaffinity(0))
    # A process kept to one CPU gets one thread, however idle the machine.
    pinned = subprocess.run(CHOSEN, capture_output=True, text=True, check=True, preexec_fn=pin_to_one_cpu,
                            env=without_omp())
    assert pinned.stdout.strip() == "1"


def test_by_default_a_thread_per_core_and_why(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    choice = threads.choose()
    assert choice.threads == threads.available()
    assert choice.reason == "the cores this process may use; OMP_NUM_THREADS overrides"
    assert choice.line().startswith(f"{choice.threads} OpenMP thread{'s' if choice.threads != 1 else ''} (the cores")


def test_omp_num_threads_in_the_environment_wins(monkeypatch):
    out = subprocess.run(CHOSEN, capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "7"})
    assert out.stdout.strip() == "7"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.choose() == threads.Choice(3, "OMP_NUM_THREADS")
    assert threads.choose("server").threads == 3   # the user's count wins everywhere
    assert threads.Choice(1, "OMP_NUM_THREADS").line() == "1 OpenMP thread (OMP_NUM_THREADS)"


@pytest.mark.parametrize("value", ["0", "-1", "two", "2.5", "5000"])
def test_a_bad_omp_num_threads_is_one_sentence(monkeypatch, value):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    with pytest.raises(UserError) as caught:
        threads.choose()
    assert str(caught.value) == f"OMP_NUM_THREADS={value} is not a number of threads from 1 to 4096: fix or unset it"


def test_a_parameter_servers_scheduler_and_servers_take_one(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    for role in ("scheduler", "server"):
        choice = threads.choose(role)
        assert choice.threads == 1 and role in choice.reason
    assert threads.choose("worker").threads == threads.available()


def test_workers_launched_side_by_side_share_the_cores():
    here = threads.available()
    assert threads.share(1) == here and threads.share(here) == 1   # as many workers as cores: one each
    assert threads.share(2 * here) == 1 and threads.share(0) == here
    out = subprocess.run([sys.executable, "-m", "pyjlchar.bridge.threads", "--share", str(here)], capture_output=True,
                         text=True, check=True)
    assert out.stdout == "1\n"   # what `pyjlchar launch` exports on a host of `here` workers
    bad = subprocess.run([sys.executable, "-m", "pyjlchar.bridge.threads", "--share"], capture_output=True, text=True)
    assert bad.returncode == 1 and "usage: python -m pyjlchar.bridge.threads --share WORKERS" in bad.stderr


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


def test_busy_elsewhere_measures_other_processes():
    with every_core_busy():
        busy = threads.busy_elsewhere(0.5)
    assert busy >= 0.5 * len(os.sched_getaffinity(0))   # most of every core, whatever else runs
    assert threads.busy_elsewhere(0.0) >= 0.0


@MANY_CORES
def test_a_machine_kept_busy_by_others_keeps_its_threads_and_says_so():
    # Chosen once, when Julia starts, the count does not follow what runs at that moment: the
    # first line says how busy the machine is and which OMP_NUM_THREADS would leave others their cores.
    code = "from pyjlchar.bridge import threads; c = threads.choose(); print(c.threads); print(c.line())"
    with every_core_busy():
        busy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env=without_omp())
    count, line = busy.stdout.splitlines()
    assert int(count) == threads.available()
    assert "other processes keep " in line and "busy now" in line
    assert "set OMP_NUM_THREADS=" in line and "to leave them their cores" in line


def test_openmp_gets_the_count_while_julia_starts_and_no_child_inherits_it():
    # libgomp reads OMP_NUM_THREADS when libmxnet loads it; afterwards the process's environment
    # is as the user left it, so that a process it starts chooses for itself.
    chosen, openmp, env_python, env_julia = subprocess.run(
        OPENMP, capture_output=True, text=True, check=True, env=without_omp(), timeout=600).stdout.split()
    assert int(chosen) == int(openmp) == threads.available()
    assert (env_python, env_julia) == ("None", "unset")
    given = subprocess.run(OPENMP, capture_output=True, text=True, check=True, timeout=600,
                           env=without_omp(OMP_NUM_THREADS="1")).stdout.split()
    assert given == ["1", "1", "1", "1"]   # the user's own count stays theirs


@MANY_CORES
def test_doctor_reports_the_count_libmxnet_was_given_and_the_busy_machine():
    with every_core_busy():
        out = subprocess.run([sys.executable, "-m", "pyjlchar", "doctor", "--json"], capture_output=True, text=True,
                             env=without_omp(), timeout=600)
    report = json.loads(out.stdout)["mxnet"]
    assert report["omp_threads"] == threads.available(), out.stderr[-2000:]
    assert report["omp_threads_line"].startswith(f"{threads.available()} OpenMP threads (the cores")
    assert "set OMP_NUM_THREADS=" in report["omp_threads_line"]
    told = subprocess.run([sys.executable, "-m", "pyjlchar", "doctor", "--json"], capture_output=True, text=True,
                          env=without_omp(OMP_NUM_THREADS="1"), timeout=600)
    assert json.loads(told.stdout)["mxnet"]["omp_threads_line"] == "1 OpenMP thread (OMP_NUM_THREADS)"
