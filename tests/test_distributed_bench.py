"""bench/distributed.py: its model of a network's traffic (fast) and its quick mode end to end
(slow: loopback parameter-server jobs). No timings are asserted: the machine may be busy."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
import distributed  # noqa: E402


def test_small_arrays_go_whole_to_one_server_and_big_ones_are_cut_across_all():
    # Keys by sorted name from 1: server (key * 9973) % 2 is 1 for "a", 0 for "b".
    push, pull = distributed.server_loads({"a": 10, "b": 30}, 2, two_bit=False)
    assert push == pull == [120, 40]
    push, pull = distributed.server_loads({"big": 3_000_001}, 3, two_bit=False)
    assert sum(pull) == 4 * 3_000_001 and max(pull) - min(pull) <= 4
    # 2 bits a value: 16 values a word, rounded up per array; the pull stays 32-bit.
    push, pull = distributed.server_loads({"a": 17}, 1, two_bit=True)
    assert push == [8] and pull == [68]


@pytest.mark.parametrize("machines", [2, 4, 16])
def test_evenly_spread_gradients_cross_each_link_about_twice(machines):
    values = 2_000_000 * machines   # one big array: exactly B / M on every server
    gradient = 4 * values
    assert distributed.busiest_link_bytes({"w": values}, machines) == pytest.approx(
        2 * gradient * (machines - 1) / machines)


def test_projection_adds_communication_to_compute():
    args = distributed.parse_args(["--machines", "4", "--gbits", "8", "--latency-us", "0"])
    (row,) = distributed.projection({"w": 4_000_000}, compute_s=0.1, args=args)
    comm = row["8"]["comm_s"]
    assert comm == pytest.approx(2 * 16e6 * 3 / 4 / 1e9)   # 8 Gbit/s is 1e9 bytes/s
    assert row["8"]["speedup"] == pytest.approx(4 * 0.1 / (0.1 + comm))
    assert row["8"]["efficiency"] == pytest.approx(row["8"]["speedup"] / 4)


def test_too_few_batches_for_the_workers_is_refused(capsys):
    with pytest.raises(SystemExit):
        distributed.parse_args(["--workers", "4", "--batches", "8"])
    assert "--batches must give every worker" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_mode_measures_communication_training_and_projects():
    proc = subprocess.run([sys.executable, str(BENCH / "distributed.py"), "--quick", "--json"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert [(r["workers"], r["servers"]) for r in result["communication"]] == [(1, 1), (2, 1)]
    assert all(r["seconds_per_batch"] > 0 and r["bytes_sent_per_worker"] == 4 * r["values"]
               for r in result["communication"])
    runs = [(r["workers"], r["compression"]) for r in result["training"]]
    assert runs[:3] == [(0, "none"), (1, "none"), (2, "none")]
    # One worker of a job takes the steps the plain process takes.
    alone, one_worker = result["training"][0], result["training"][1]
    assert one_worker["val_nll"] == pytest.approx(alone["val_nll"], abs=1e-4)
    assert [row["machines"] for row in result["projection"]["lstm"]["none"]] == [2, 4, 8, 16]
