"""A parameter-server job as one of its processes sees it: its role and the DMLC_* variables
that say it (set by `pyjlchar launch` or any other launcher), and the checks that turn a job
that could not work into one sentence before Julia starts."""
from __future__ import annotations

import os
import socket

from ..errors import UserError

VARIABLES = ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT", "DMLC_NUM_SERVER", "DMLC_NUM_WORKER")


def role() -> str | None:
    """This process's role in a parameter-server job (DMLC_ROLE), or None outside one."""
    return os.environ.get("DMLC_ROLE") or None


def is_distributed(kvstore: str) -> bool:
    return kvstore.startswith("dist")


def check_worker(kvstore: str, compression: str) -> None:
    """A training process: a dist_* kvstore needs the job's variables, compression needs a job."""
    if not is_distributed(kvstore):
        if compression != "none":
            raise UserError(f"gradient_compression {compression} compresses what the workers of a parameter-server "
                            f"job send, and kvstore {kvstore} has none: use a dist_* kvstore, or leave "
                            "gradient_compression at none")
        return
    missing = [name for name in VARIABLES if not os.environ.get(name)]
    if missing:
        raise UserError(f"kvstore {kvstore} trains as a worker of a parameter-server job, and {', '.join(missing)} "
                        "is not set: start the job with `pyjlchar launch -n WORKERS -s SERVERS -- train ...`, "
                        "or set the DMLC variables as docs/distributed.md says")


def check_node(kvstore: str) -> None:
    """A scheduler or server: the training it serves must be a job's, and a scheduler's port free."""
    if not is_distributed(kvstore):
        raise UserError(f"this process is a {role()} of a parameter-server job, but the training uses kvstore "
                        f"{kvstore}: add --kvstore dist_sync or dist_async (or set kvstore in [compute])")
    if role() != "scheduler":
        return
    # A port the scheduler cannot listen on is one clear sentence, not ps-lite's "bind failed"
    # check and backtrace after Julia starts.
    port = os.environ.get("DMLC_PS_ROOT_PORT", "")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"DMLC_PS_ROOT_PORT is {port!r}, not a port number: set it to the scheduler's port")
    problem = port_problem(int(port))
    if problem is not None:
        raise UserError(f"the scheduler cannot listen on port {port} (DMLC_PS_ROOT_PORT) on this machine "
                        f"({problem}): start the job on another port (`pyjlchar launch --port`), or end "
                        "what holds this one")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_problem(port: int) -> str | None:
    """Why the scheduler could not listen on `port` on this machine (e.g. "Address already in
    use"), or None. Checked on all addresses, as ps-lite binds the one it is given and a listener
    on any address of the port takes it; SO_REUSEADDR as ZeroMQ's, so that a port closed a
    moment ago counts as free."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError as e:
            return e.strerror or str(e)
    return None
