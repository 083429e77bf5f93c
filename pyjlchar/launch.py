"""`pyjlchar launch`: a parameter-server job on this machine: one scheduler, the servers and the
workers, each a `pyjlchar` process whose role comes from the DMLC_* environment (as with any
launcher: MXNet's launch.py, MPI, Kubernetes, a batch scheduler).

The job runs on loopback, on a port that was free a moment before. Every process is watched:
when one fails, the others would wait for it forever (ps-lite has no timeout), so the whole job
is stopped at once and the failed node named. Ctrl-C (or SIGTERM) goes to the workers, whose
worker 0 saves the epoch in progress; whatever has not ended after a grace period is killed.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from .errors import Interrupted, UserError

GRACE_S = 10  # after a stop request, before the stragglers are killed


@dataclass
class Node:
    name: str          # "scheduler", "server 1", "worker 0", ...
    role: str
    proc: subprocess.Popen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def job_environment(role: str, port: int, workers: int, servers: int) -> dict:
    return {**os.environ, "DMLC_ROLE": role, "DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": str(port),
            "DMLC_NUM_WORKER": str(workers), "DMLC_NUM_SERVER": str(servers), "DMLC_INTERFACE": "lo",
            "PS_HEARTBEAT_INTERVAL": "1"}


def start(args: list[str], workers: int, servers: int, port: int) -> list[Node]:
    """Starts the job's processes, each `pyjlchar ARGS` in its role."""
    command = [sys.executable, "-m", "pyjlchar", *args]
    roles = [("scheduler", "scheduler")] + [(f"server {i}", "server") for i in range(servers)] + \
            [(f"worker {i}", "worker") for i in range(workers)]
    nodes = []
    for name, role in roles:
        # Every node's messages reach the terminal; the scheduler and servers print no data.
        quiet = subprocess.DEVNULL if role != "worker" else None
        nodes.append(Node(name, role, subprocess.Popen(command, env=job_environment(role, port, workers, servers),
                                                       stdout=quiet)))
    return nodes


def stop(nodes: list[Node], how: int = signal.SIGKILL) -> None:
    for node in nodes:
        if node.proc.poll() is None:
            try:
                node.proc.send_signal(how)
            except ProcessLookupError:
                pass


def run(args: list[str], workers: int, servers: int, log: Callable[[str], None]) -> None:
    """Runs the job until every process has ended: a UserError naming the node when one failed,
    errors.Interrupted when the job was stopped by a signal."""
    if workers < 1 or servers < 1:
        raise UserError("a parameter-server job needs at least one worker and one server: use -n 1 -s 1 or more")
    port = free_port()
    nodes = start(args, workers, servers, port)
    log(f"launch: {workers} worker(s), {servers} server(s) and a scheduler on 127.0.0.1:{port}")
    stopping_since = None
    received = 0

    def request_stop(signum, frame):
        nonlocal stopping_since, received
        received = received or signum
        stopping_since = stopping_since or time.monotonic()
        stop([n for n in nodes if n.role == "worker"], signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            failed = [n for n in nodes if n.proc.poll() not in (None, 0)]
            if failed and not stopping_since:
                stop(nodes)
                first = failed[0]
                raise UserError(f"{first.name} failed (exit code {first.proc.returncode}), so the whole job was "
                                "stopped: see its messages above; the run's last checkpoint resumes it with "
                                "`--resume`")
            if all(n.proc.poll() is not None for n in nodes):
                break
            if stopping_since and time.monotonic() - stopping_since > GRACE_S:
                stop(nodes)
            time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        stop(nodes)
        for node in nodes:
            node.proc.wait()
    if received:
        raise Interrupted(received)
