"""`pyjlchar launch`: a parameter-server job of one scheduler, the servers and the workers, each a
`pyjlchar` process whose role comes from the DMLC_* environment (as with any launcher: MXNet's
launch.py, MPI, Kubernetes, a batch scheduler). On this machine on loopback, or with a hosts file
on other machines, each node started there over ssh.

Every process is watched: when one fails, the others would wait for it forever (ps-lite has no
timeout), so the whole job is stopped at once and the failed node named. Ctrl-C (or SIGTERM) goes
to the workers, whose worker 0 saves the epoch in progress; whatever has not ended after a grace
period is killed.
"""
from __future__ import annotations

import glob
import ipaddress
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import job
from ..bridge import threads
from ..errors import Interrupted, UserError

GRACE_S = 10  # after a stop request, before the stragglers are killed
SSH_PORT = 9091  # the scheduler's port on the first host of a job over ssh, unless --port says otherwise


@dataclass
class Node:
    name: str          # "scheduler", "server 1", "worker 0 on 10.0.0.2", ...
    role: str
    proc: subprocess.Popen
    over_ssh: bool = False

    def interrupt(self, signum: int) -> None:
        """Asks the node to stop. Over ssh (a terminal of its own, ssh -tt) that is Ctrl-C typed
        into its terminal, which the kernel of its host turns into SIGINT: ssh forwards no signal."""
        if self.proc.poll() is not None:
            return
        try:
            if self.over_ssh:
                self.proc.stdin.write(b"\x03")
                self.proc.stdin.flush()
            else:
                self.proc.send_signal(signum)
        except (ProcessLookupError, BrokenPipeError):
            pass

    def kill(self) -> None:
        """Ends the process at once; over ssh the client, whose end hangs up the node's terminal:
        the node gets SIGHUP, which it takes as a stop request (and ends by itself GRACE_S later
        if it is blocked in ps-lite)."""
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass


def read_hosts(path: str) -> list[str]:
    """The hosts a hosts file names: one per line; `#` starts a comment; blank lines are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read the hosts file {path} ({getattr(e, 'strerror', None) or e}): "
                        "give a text file with one host per line") from None
    hosts = []
    for number, line in enumerate(lines, 1):
        host = line.split("#", 1)[0].strip()
        if len(host.split()) > 1:
            raise UserError(f"line {number} of {path} is not one host ({host!r}): write one host name or "
                            "address per line, nothing else")
        if host:
            hosts.append(host)
    if not hosts:
        raise UserError(f"the hosts file {path} names no host: write one host name or address per line")
    return hosts


def addresses(hosts: list[str], path: str) -> dict[str, str]:
    """Each host's IPv4 address, as this machine resolves it. ps-lite binds each node to the
    address it is given (DMLC_NODE_HOST, and DMLC_PS_ROOT_URI for the scheduler), and ZeroMQ
    binds addresses only, not names."""
    found = {}
    for host in dict.fromkeys(hosts):
        try:
            found[host] = socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]
        except socket.gaierror as e:
            raise UserError(f"host {host} (in {path}) has no IPv4 address here ({e.strerror}): fix the name, "
                            "or write its address instead") from None
    loopback = [h for h, a in found.items() if ipaddress.ip_address(a).is_loopback]
    if loopback and len(loopback) < len(found):
        host = loopback[0]
        raise UserError(f"host {host} (in {path}) is the loopback address {found[host]} here, which the other "
                        "hosts cannot reach: write its network address instead")
    return found


def job_variables(role: str, root: str, port: int, workers: int, servers: int) -> dict:
    return {"DMLC_ROLE": role, "DMLC_PS_ROOT_URI": root, "DMLC_PS_ROOT_PORT": str(port),
            "DMLC_NUM_WORKER": str(workers), "DMLC_NUM_SERVER": str(servers), "PS_HEARTBEAT_INTERVAL": "1"}


def ssh_command(host: str, variables: dict, args: list[str], workers_here: int = 0) -> list[str]:
    """`ssh -tt HOST` running `pyjlchar ARGS` in this working directory with this Python, under
    `variables` and this process's PYJLCHAR_* settings (the remote login environment has neither).
    A worker, one of `workers_here` on its host, gets its share of that host's cores as
    OMP_NUM_THREADS, worked out there (or this process's OMP_NUM_THREADS, when the user set one).

    -tt gives the node a terminal of its own on its host: when this ssh client ends, killed
    included, sshd closes that terminal and the kernel sends the node SIGHUP, so that no node
    outlives its client (without a terminal, one that prints nothing, as the scheduler, would run
    on unnoticed). It also carries Ctrl-C to the node (Node.interrupt). `stty -echo -onlcr` keeps
    that terminal from echoing the Ctrl-C and writing "\\r\\n" for "\\n"; `exec` makes the node
    the process the terminal hangs up on. PYJLCHAR_SSH replaces `ssh` (a command line, e.g.
    `ssh -p 2222`)."""
    settings = {k: v for k, v in os.environ.items() if k.startswith("PYJLCHAR_") and k != "PYJLCHAR_SSH"}
    python = shlex.quote(sys.executable)
    threads_there = ""
    if workers_here and os.environ.get("OMP_NUM_THREADS"):
        settings["OMP_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"]
    elif workers_here:
        threads_there = f'export OMP_NUM_THREADS="$({python} -m pyjlchar.bridge.threads --share {workers_here})" && '
    command = shlex.join(["env", *(f"{k}={v}" for k, v in {**settings, **variables}.items()),
                          sys.executable, "-m", "pyjlchar", *args])
    remote = f"stty -echo -onlcr 2>/dev/null; cd {shlex.quote(os.getcwd())} && {threads_there}exec {command}"
    # BatchMode: a host that asks for a password fails at once instead of prompting in several
    # processes at a time; LogLevel=ERROR drops -tt's "Connection to HOST closed." A host that
    # stops answering (frozen, cut off) ends its client within about 6 s (ServerAlive*), so the
    # job is stopped as for a failed node: ps-lite alone would wait for it forever.
    try:
        ssh = shlex.split(os.environ.get("PYJLCHAR_SSH") or "ssh")
    except ValueError as e:
        raise UserError(f"PYJLCHAR_SSH={os.environ['PYJLCHAR_SSH']!r} is not a command line ({e}): "
                        "quote it as a shell would, or unset it") from None
    return [*ssh, "-tt", "-o", "BatchMode=yes",
            "-o", "LogLevel=ERROR", "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=3", host, remote]


def start(args: list[str], workers: int, servers: int, port: int, hosts: list[str] | None = None,
          address: dict[str, str] | None = None) -> list[Node]:
    """Starts the job's processes, each `pyjlchar ARGS` in its role: on loopback, or with `hosts`
    the scheduler on the first and the servers and the workers round-robin over them, over ssh."""
    roles = [("scheduler", "scheduler", 0)] + [(f"server {i}", "server", i) for i in range(servers)] + \
            [(f"worker {i}", "worker", i) for i in range(workers)]
    nodes = []
    # Workers side by side on one machine would each take all its cores: each gets its share.
    placed = [hosts[i % len(hosts)] if hosts else None for i in range(workers)]
    for name, role, i in roles:
        here = placed.count(placed[i]) if role == "worker" else 0
        if hosts is None:
            share = {"OMP_NUM_THREADS": str(threads.share(here))} if here and not os.environ.get("OMP_NUM_THREADS") else {}
            env = {**os.environ, **job_variables(role, "127.0.0.1", port, workers, servers), "DMLC_INTERFACE": "lo",
                   **share}
            # Every node's messages reach the terminal; the scheduler and servers print no data.
            quiet = subprocess.DEVNULL if role != "worker" else None
            nodes.append(Node(name, role, subprocess.Popen([sys.executable, "-m", "pyjlchar", *args], env=env,
                                                           stdout=quiet)))
        else:
            host = hosts[0] if role == "scheduler" else hosts[i % len(hosts)]
            variables = {**job_variables(role, address[hosts[0]], port, workers, servers),
                         "DMLC_NODE_HOST": address[host]}
            # The node's terminal carries its stdout and stderr as one: all of it is messages.
            nodes.append(Node(f"{name} on {host}", role, subprocess.Popen(ssh_command(host, variables, args, here),
                                                                          stdin=subprocess.PIPE, stdout=2),
                              over_ssh=True))
    return nodes


def last_checkpoint(run: Path) -> Path | None:
    """The newest checkpoint file of the run with prefix `run` (an epoch's or a mid-epoch one)."""
    files = list(run.parent.glob(f"{glob.escape(run.name)}-[0-9][0-9][0-9][0-9]*.params"))
    return max(files, key=lambda f: f.stat().st_mtime, default=None)


def run(args: list[str], workers: int, servers: int, log: Callable[[str], None], hosts_file: str | None = None,
        port: int | None = None, run_prefix: Path | None = None) -> None:
    """Runs the job until every process has ended: a UserError naming the node when one failed
    (and the newest checkpoint of the run it trains, whose prefix is `run_prefix`), errors.Interrupted when
    the job was stopped by a signal. `hosts_file`: over ssh on its hosts; `port`: the
    scheduler's (default a free one on loopback, SSH_PORT over ssh)."""
    if workers < 1 or servers < 1:
        raise UserError("a parameter-server job needs at least one worker and one server: use -n 1 -s 1 or more")
    if hosts_file is None:
        hosts = address = None
        if port is None:
            port = job.free_port()
        elif (problem := job.port_problem(port)) is not None:
            raise UserError(f"port {port} cannot take the job's scheduler ({problem}): choose another with "
                            "--port, or leave --port out for a free one")
        where = f"on 127.0.0.1:{port}"
    else:
        hosts = read_hosts(hosts_file)
        address = addresses(hosts, hosts_file)
        port = SSH_PORT if port is None else port
        where = f"over ssh on {len(set(hosts))} host(s), the scheduler on {address[hosts[0]]}:{port}"
    nodes = start(args, workers, servers, port, hosts, address)
    log(f"launch: {workers} worker(s), {servers} server(s) and a scheduler {where}")
    stopping_since = None
    received = 0
    # A node ends itself GRACE_S after a stop signal if it is still blocked in ps-lite then
    # (streams.InterruptWatch). Over ssh the scheduler and the servers get one too, so that every
    # remote node ends on its own and is seen to end; the clients are killed only if that fails.
    stopped = [n for n in nodes if n.role == "worker" or n.over_ssh]
    kill_after = GRACE_S + (5 if hosts else 0)

    def request_stop(signum, frame):
        nonlocal stopping_since, received
        received = received or signum
        stopping_since = stopping_since or time.monotonic()
        for node in stopped:
            node.interrupt(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            failed = [n for n in nodes if n.proc.poll() not in (None, 0)]
            if failed and not stopping_since:
                for node in nodes:
                    node.kill()
                first = failed[0]
                saved = last_checkpoint(run_prefix) if run_prefix is not None else None
                resume = (f"its last checkpoint is {saved}: the same command with --resume continues from there"
                          if saved else "it saved no checkpoint yet: run the same command again")
                raise UserError(f"{first.name} failed (exit code {first.proc.returncode}), so the whole job was "
                                f"stopped (see its messages above); {resume}")
            if all(n.proc.poll() is not None for n in nodes):
                break
            if stopping_since and time.monotonic() - stopping_since > kill_after:
                for node in nodes:
                    node.kill()
            time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for node in nodes:
            node.kill()
            node.proc.wait()
            if node.proc.stdin is not None:
                try:
                    node.proc.stdin.close()
                except BrokenPipeError:
                    pass
    if received:
        raise Interrupted(received)
