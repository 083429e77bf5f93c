"""MXNet's parameter server, driven from Julia through libmxnet's C API alone, on a loopback
cluster: a scheduler, two servers and two workers, each a process of its own."""
import json
import math
import os
import re
import signal
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
    return subprocess.Popen([sys.executable, "-m", "pyjlchar.bridge", str(NODE), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def cluster_env(port: int, role: str) -> dict:
    return {**os.environ, "DMLC_ROLE": role, "DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": str(port),
            "DMLC_NUM_SERVER": "2", "DMLC_NUM_WORKER": "2", "DMLC_INTERFACE": "lo", "PS_HEARTBEAT_INTERVAL": "1"}


def start_cluster(tmp_path, steps, kvstore="dist_sync", compression="none", worker_env=({}, {})):
    """Starts a loopback job of node.jl (1 scheduler, 2 servers, 2 workers, in this order) and
    one process alone (last)."""
    port = free_port()
    args = lambda name: [tmp_path / name, steps, kvstore, compression]
    nodes = [julia(args(f"{role}{i}.txt"), {**cluster_env(port, role), **(worker_env[i] if role == "worker" else {})})
             for role, n in (("scheduler", 1), ("server", 2), ("worker", 2)) for i in range(n)]
    return nodes + [julia(args("alone.txt")[:3] + ["none"],
                          {k: v for k, v in os.environ.items() if not k.startswith("DMLC_")})]


def run_cluster(tmp_path, steps, **options):
    """The weights each worker and the lone process ended with, and every node's output and exit code."""
    nodes = start_cluster(tmp_path, steps, **options)
    try:
        ends = [(node.communicate(timeout=600)[0], node.returncode) for node in nodes]
    finally:
        for node in nodes:
            node.kill()
    read = lambda name: np.array([float(v) for v in (tmp_path / name).read_text().split()])
    return read("worker0.txt"), read("worker1.txt"), read("alone.txt"), ends


def assert_all_ended_well(ends):
    for out, code in ends:
        assert code == 0, out[-3000:]


def test_two_sync_workers_take_the_steps_of_one_process_on_the_whole_batches(tmp_path):
    w0, w1, one, ends = run_cluster(tmp_path, steps=6)
    assert_all_ended_well(ends)
    np.testing.assert_array_equal(w0, w1)             # every worker took the same steps
    np.testing.assert_allclose(w0, one, atol=1e-5)     # those of one process on the global batches


TRUE_WEIGHTS = np.array([1, -2, 0.5, 3, 0])   # node.jl's regression, bias last


def test_async_workers_train_through_the_servers_optimizer(tmp_path):
    w0, w1, one, ends = run_cluster(tmp_path, steps=20, kvstore="dist_async")
    assert_all_ended_well(ends)
    # Each worker pulled the servers' weights after its last step: both learned, near the
    # target and near one process's result, though not equal to it (the steps interleave).
    start = np.linalg.norm(TRUE_WEIGHTS)   # the weights start near zero
    for w in (w0, w1):
        assert np.linalg.norm(w - TRUE_WEIGHTS) < 0.5 * start
    assert np.linalg.norm(one - TRUE_WEIGHTS) < 0.5 * start


def test_2bit_compressed_sync_workers_stay_equal_and_learn(tmp_path):
    w0, w1, one, ends = run_cluster(tmp_path, steps=20, compression="2bit")
    assert_all_ended_well(ends)
    np.testing.assert_array_equal(w0, w1)   # they still sum the same compressed gradients
    assert not np.allclose(w0, one, atol=1e-5)   # the compression changed the steps
    assert np.linalg.norm(w0 - TRUE_WEIGHTS) < np.linalg.norm(TRUE_WEIGHTS)


def test_a_worker_with_another_model_is_refused_in_one_sentence(tmp_path):
    nodes = start_cluster(tmp_path, steps=2, worker_env=({}, {"NODE_INPUTS": "3"}))
    workers = nodes[3:5]
    try:
        # The scheduler ranks the workers as they register: whichever became worker 1 finds that
        # its model is not worker 0's and ends; the rest of the job waits for it forever.
        deadline = time.monotonic() + 300
        while all(w.poll() is None for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        ended = next(w for w in workers if w.poll() is not None)
        out = ended.stdout.read()
    finally:
        for node in nodes:
            node.kill()
    assert ended.returncode != 0
    assert "worker 1 builds a model with other parameters (names or shapes) than worker 0" in out, out[-3000:]


# ----- `pyjlchar launch`: whole training jobs on loopback ------------------------------------

from test_cli import CORPUS_TEXT, assert_clean_failure, pyjlchar, write_config  # noqa: E402


def worker_threads(workers_here: int) -> str:
    """The threads line of one of `workers_here` workers of a job on this machine: the user's
    OMP_NUM_THREADS, else its share of the cores (bridge/threads.py)."""
    from pyjlchar.bridge import threads

    count = int(os.environ.get("OMP_NUM_THREADS") or threads.share(workers_here))
    return f"{count} OpenMP thread{'s' if count != 1 else ''}"


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
    # Two workers on this machine: each is given its half of the cores, and says so.
    assert out.stderr.count(f"Threads: {worker_threads(2)} (OMP_NUM_THREADS)\n") == 2, out.stderr
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
        if line.startswith("Saved checkpoint to"):   # the first epoch's
            break
    workers = [pid for pid in job_processes(port) if role_of(pid) == "worker"]
    os.kill(workers[-1], 9)
    killed = time.monotonic()
    rest = job.stderr.read()
    assert job.wait(timeout=60) == 1
    assert time.monotonic() - killed < 15
    assert re.search(r"worker \d failed \(exit code -9\), so the whole job was stopped", rest), rest
    # The newest checkpoint, the first epoch's or one of the epoch in progress that worker 0 saved.
    assert f"its last checkpoint is {tmp_path / 'ck' / 'tiny-'}" in rest and "with --resume continues" in rest, rest
    assert "Traceback" not in rest
    time.sleep(1)
    assert job_processes(port) == []   # no process of the job is left


def test_a_dist_kvstore_outside_a_job_is_one_sentence(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    out = pyjlchar("train", "--config", write_config(tmp_path, corpus), "--kvstore", "dist_sync")
    assert_clean_failure(out, "DMLC_ROLE", "pyjlchar launch")


def test_a_launched_async_job_with_compression_lowers_the_nll(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    # A threshold below the default 0.5 lets this tiny model's small gradients through: with 0.5
    # its validation NLL could stay at chance for the few epochs a test affords.
    config = write_config(tmp_path, corpus, epochs=4, kvstore="dist_async", gradient_compression="2bit",
                          compression_threshold=0.05)
    out = pyjlchar("launch", "-n", 2, "-s", 1, "--", "train", "--config", config, timeout=300)
    assert out.returncode == 0, out.stderr
    history = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["train_nll"] < history[0]["train_nll"]
    assert history[-1]["val_nll"] < history[0]["val_nll"]


def test_gradient_compression_outside_a_job_is_one_sentence(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    out = pyjlchar("train", "--config", write_config(tmp_path, corpus), "--gradient-compression", "2bit")
    assert_clean_failure(out, "gradient_compression 2bit", "dist_* kvstore")


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


def test_a_scheduler_port_in_use_is_one_sentence_before_julia(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "pyjlchar", "train", "--config",
                              str(write_config(tmp_path, corpus, kvstore="dist_sync"))],
                             env=cluster_env(port, "scheduler"), capture_output=True, text=True, timeout=120)
        launched = pyjlchar("launch", "--port", port, "-n", 1, "-s", 1, "--", "train", "--config",
                            write_config(tmp_path, corpus, kvstore="dist_sync"), timeout=120)
    assert_clean_failure(out, f"port {port}", "in use", "another port")
    assert time.monotonic() - started < 30   # Julia never started
    assert_clean_failure(launched, f"port {port}", "in use", "--port")
    assert "launch:" not in launched.stderr   # nothing was started


# ----- `pyjlchar launch --hosts`: over ssh, with tests/dist/fake_ssh.py as ssh ----------------

FAKE_SSH = Path(__file__).parent / "dist" / "fake_ssh.py"


def launch_over_ssh(tmp_path: Path, *args, **popen):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("# the test's two 'machines'\n127.0.0.1\n\n127.0.0.1   # the second\n")
    env = {**os.environ, "PYJLCHAR_SSH": f"{sys.executable} {FAKE_SSH}"}
    command = [sys.executable, "-m", "pyjlchar", "launch", "--hosts", str(hosts), "--port", str(free_port()),
               *map(str, args)]
    return subprocess.Popen(command, env=env, text=True, **popen)


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_job_over_ssh_trains_with_each_node_started_through_ssh(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus, epochs=1, kvstore="dist_sync")
    job = launch_over_ssh(tmp_path, "-n", 2, "-s", 1, "--", "train", "--config", config, stderr=subprocess.PIPE)
    _, err = job.communicate(timeout=300)
    assert job.returncode == 0, err
    assert "launch: 2 worker(s), 1 server(s) and a scheduler over ssh on 1 host(s)" in err
    assert err.count("Saved checkpoint to") == 1 and "^C" not in err
    # Each worker's share of its host's cores is worked out on that host (both are this one).
    assert err.count(f"Threads: {worker_threads(2)} (OMP_NUM_THREADS)\n") == 2, err
    assert [h["epoch"] for h in json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())["history"]] == [1]


def test_a_killed_ssh_client_stops_the_job_and_every_remote_node_ends(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    config = write_config(tmp_path, corpus, epochs=50, kvstore="dist_sync")
    job = launch_over_ssh(tmp_path, "-n", 2, "-s", 1, "--", "train", "--config", config, stderr=subprocess.PIPE)
    port = None
    for line in job.stderr:
        if line.startswith("launch:"):
            port = int(line.rsplit(":", 1)[1])
        if line.startswith("Speed:"):
            break
    clients = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children(job.pid)}
    assert len(clients) == 4 and all(b"fake_ssh.py" in c for c in clients.values())
    os.kill(next(pid for pid, c in clients.items() if b"DMLC_ROLE=worker" in c), 9)
    rest = job.stderr.read()
    assert job.wait(timeout=60) == 1
    assert "on 127.0.0.1 failed (exit code -9), so the whole job was stopped" in rest, rest
    # The other clients were killed: their nodes got SIGHUP, and ended (by GRACE_S at most).
    deadline = time.monotonic() + 30
    while job_processes(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job_processes(port) == []


def test_a_bad_hosts_file_is_one_sentence(tmp_path):
    empty, mpi = tmp_path / "empty.txt", tmp_path / "mpi.txt"
    empty.write_text("# nothing yet\n\n")
    mpi.write_text("node1 slots=4\n")
    for hosts, said in ((empty, "names no host"), (mpi, "line 1 of"), (tmp_path / "none.txt", "cannot read")):
        out = pyjlchar("launch", "--hosts", hosts, "--", "train", timeout=60)
        assert_clean_failure(out, said, str(hosts))


@pytest.mark.parametrize("over_ssh", [False, True], ids=["local", "ssh"])
def test_ctrl_c_stops_a_launched_job_and_worker_0_saves_the_epoch_in_progress(tmp_path, over_ssh):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    config = write_config(tmp_path, corpus, epochs=50, kvstore="dist_sync")
    args = ("-n", 2, "-s", 1, "--", "train", "--config", config)
    job = launch_over_ssh(tmp_path, *args, stderr=subprocess.PIPE) if over_ssh else \
        subprocess.Popen([sys.executable, "-m", "pyjlchar", "launch", *map(str, args)], stderr=subprocess.PIPE,
                         text=True)
    port = None
    for line in job.stderr:
        if line.startswith("launch:"):
            port = int(line.rsplit(":", 1)[1])
        if line.startswith("Speed:"):
            break
    job.send_signal(signal.SIGINT)
    sent = time.monotonic()
    rest = job.stderr.read()
    assert job.wait(timeout=60) == 130, rest
    assert time.monotonic() - sent < 20
    assert "Traceback" not in rest
    time.sleep(1)
    assert job_processes(port) == []   # no process of the job is left
    meta = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())
    assert meta.get("partial", {}).get("epoch") == meta["epoch"] + 1, rest   # the epoch in progress
