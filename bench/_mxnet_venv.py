"""Apache MXNet's own Python frontend, in a virtual environment of its own.

The project's `.venv` holds the mxnet wheel only for `libmxnet.so` (its Python part breaks
with numpy >= 1.24, see PLATFORM.md). Comparing against the real thing needs the frontend
importable, so it lives in `<cache>/mxnet-python-venv` (`pyjlchar.runtime.cache_dir()`), made
once with `mxnet==1.9.1` and `numpy<1.24`, and reused. Used by `tests/test_mxnet_interop.py`
and `bench/mx_layer.py`; the frontend is only ever run in subprocesses.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pyjlchar.runtime import cache_dir

MXNET_VERSION = "1.9.1"
REQUIREMENTS = [f"mxnet=={MXNET_VERSION}", "numpy<1.24"]
READY = ".pyjlchar-ready"  # written last: a venv without it is incomplete and is made again


class InstallFailed(Exception):
    """The venv could not be created or pip could not install the frontend (offline, no wheel)."""


def venv_dir() -> Path:
    return cache_dir() / "mxnet-python-venv"


def python_path() -> Path:
    return venv_dir() / "bin" / "python"


def _tail(text: str, n: int = 1500) -> str:
    # pip's warnings about unusable extra index locations are noise here.
    lines = [line for line in text.splitlines() if "is neither a file nor a directory" not in line]
    return "\n".join(lines)[-n:]


def ensure(log=None) -> Path:
    """The venv's python, creating the venv first when needed (about 20 s with the wheel at hand).

    Raises InstallFailed when `python -m venv` or pip fails, RuntimeError when the installed
    frontend does not import (a broken install, not a missing one).
    """
    ready = venv_dir() / READY
    if ready.exists():
        return python_path()
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / "mxnet-python-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one creator at a time; the others wait, then reuse
        if ready.exists():
            return python_path()
        if log:
            log(f"creating {venv_dir()} with {' '.join(REQUIREMENTS)} (once)")
        shutil.rmtree(venv_dir(), ignore_errors=True)
        proc = subprocess.run([sys.executable, "-m", "venv", str(venv_dir())], capture_output=True, text=True)
        if proc.returncode != 0:
            raise InstallFailed(f"`python -m venv {venv_dir()}` failed:\n{_tail(proc.stderr + proc.stdout)}")
        # pip reuses a wheel it already has (its cache, PIP_FIND_LINKS) before downloading.
        proc = subprocess.run([str(python_path()), "-m", "pip", "install", "--disable-pip-version-check",
                               "-q", *REQUIREMENTS], capture_output=True, text=True)
        if proc.returncode != 0:
            raise InstallFailed(f"pip install {' '.join(REQUIREMENTS)} failed:\n{_tail(proc.stderr + proc.stdout)}")
        proc = subprocess.run([str(python_path()), "-c", "import mxnet; print(mxnet.__version__)"],
                              capture_output=True, text=True)
        if proc.returncode != 0 or proc.stdout.strip() != MXNET_VERSION:
            raise RuntimeError(f"mxnet was installed in {venv_dir()} but does not import as "
                               f"{MXNET_VERSION}:\n{_tail(proc.stderr + proc.stdout)}")
        ready.write_text(MXNET_VERSION + "\n")
    return python_path()


def run_python(code: str, *args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs `code` with the venv's python (ensure() first); raises with its stderr when it fails."""
    proc = subprocess.run([str(python_path()), "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env if env is not None else os.environ.copy())
    if proc.returncode != 0:
        raise RuntimeError(f"Apache MXNet's Python failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc
