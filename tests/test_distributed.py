"""MXNet's parameter server, driven from Julia through libmxnet's C API alone, on a loopback
cluster: a scheduler, two servers and two workers, each a process of its own."""
import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

NODE = Path(__file__).parent / "dist" / "node.jl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def julia(args, env):
    return subprocess.Popen([sys.executable, "-m", "pyjlchar.julia", str(NODE), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def cluster_env(port: int, role: str) -> dict:
    return {**os.environ, "DMLC_ROLE": role, "DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": str(port),
            "DMLC_NUM_SERVER": "2", "DMLC_NUM_WORKER": "2", "DMLC_INTERFACE": "lo", "PS_HEARTBEAT_INTERVAL": "1"}


def test_two_sync_workers_take_the_steps_of_one_process_on_the_whole_batches(tmp_path):
    steps, port = 6, free_port()
    nodes = [julia([tmp_path / f"{role}{i}.txt", steps], cluster_env(port, role))
             for role, n in (("scheduler", 1), ("server", 2), ("worker", 2)) for i in range(n)]
    alone = julia([tmp_path / "alone.txt", steps], {k: v for k, v in os.environ.items() if not k.startswith("DMLC_")})
    try:
        for node in nodes + [alone]:
            out, _ = node.communicate(timeout=600)
            assert node.returncode == 0, out[-3000:]
    finally:
        for node in nodes + [alone]:
            node.kill()
    read = lambda name: np.array([float(v) for v in (tmp_path / name).read_text().split()])
    w0, w1, one = read("worker0.txt"), read("worker1.txt"), read("alone.txt")
    np.testing.assert_array_equal(w0, w1)             # every worker took the same steps
    np.testing.assert_allclose(w0, one, atol=1e-5)     # those of one process on the global batches


# ----- `pyjlchar launch`: whole training jobs on loopback ------------------------------------

from test_charlstm_cli import CORPUS_TEXT, assert_clean_failure, pyjlchar, write_config  # noqa: E402


def job_processes(port: int) -> list[int]:
    """The pids of the processes of the job on `port` (by their DMLC environment)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if f"DMLC_PS_ROOT_PORT={port}".encode() in env:
            pids.append(int(entry.name))
    return pids


def role_of(pid: int) -> str:
    env = dict(item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item)
    return env.get(b"DMLC_ROLE", b"").decode()


def test_a_launched_sync_job_trains_and_worker_0_alone_writes(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus, epochs=2, kvstore="dist_sync")
    out = pyjlchar("launch", "-n", 2, "-s", 2, "--", "train", "--config", config, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "launch: 2 worker(s), 2 server(s)" in out.stderr
    meta = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    assert all(math.isfinite(h["val_nll"]) for h in meta["history"])
    assert out.stderr.count("Saved checkpoint to") == 2   # one per epoch: worker 0 alone writes
    resumed = pyjlchar("launch", "-n", 1, "-s", 1, "--", "train", "--config", config, "--resume", "--epochs", 3,
                       timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming after epoch 2" in resumed.stderr


def test_a_killed_worker_stops_the_whole_job_with_one_sentence(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    config = write_config(tmp_path, corpus, epochs=50, kvstore="dist_sync")
    job = subprocess.Popen([sys.executable, "-m", "pyjlchar", "launch", "-n", "2", "-s", "1", "--", "train",
                            "--config", str(config)], stderr=subprocess.PIPE, text=True)
    port = None
    for line in job.stderr:
        if line.startswith("launch:"):
            port = int(line.rsplit(":", 1)[1])
        if line.startswith("Speed:"):
            break
    workers = [pid for pid in job_processes(port) if role_of(pid) == "worker"]
    os.kill(workers[-1], 9)
    killed = time.monotonic()
    rest = job.stderr.read()
    assert job.wait(timeout=60) == 1
    assert time.monotonic() - killed < 15
    assert "failed (exit code -9), so the whole job was stopped" in rest and "--resume" in rest, rest
    assert "Traceback" not in rest
    time.sleep(1)
    assert job_processes(port) == []   # no process of the job is left


def test_a_dist_kvstore_outside_a_job_is_one_sentence(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    out = pyjlchar("train", "--config", write_config(tmp_path, corpus), "--kvstore", "dist_sync")
    assert_clean_failure(out, "DMLC_ROLE", "pyjlchar launch")


def test_a_dist_worker_that_fails_after_joining_its_job_says_one_sentence_and_exits_1(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT[:20])   # too short for one batch: a UserError once the store is made
    config = write_config(tmp_path, corpus, kvstore="dist_sync")
    env = {**cluster_env(free_port(), "worker"), "DMLC_NUM_SERVER": "1", "DMLC_NUM_WORKER": "1"}
    command = [sys.executable, "-m", "pyjlchar", "train", "--config", str(config)]
    others = [subprocess.Popen(command, env={**env, "DMLC_ROLE": role}, stderr=subprocess.DEVNULL)
              for role in ("scheduler", "server")]
    try:
        worker = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    finally:
        for node in others:
            node.kill()
            node.wait()
    assert worker.returncode == 1
    assert "terminate called" not in worker.stderr
    assert_clean_failure(worker, "one batch needs")

