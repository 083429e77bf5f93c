"""Apache MXNet's own Python frontend, in a virtual environment of its own.

The project's `.venv` holds the mxnet wheel only for `libmxnet.so` (its Python part breaks
with numpy >= 1.24, its wheel pinning numpy<2). Comparing against the real thing needs the frontend
importable, so it lives in `<cache>/mxnet-python-venv` (`pyjlchar.bridge.paths.cache_dir()`), made
once with `mxnet==1.9.1` and `numpy<1.24`, and reused. Used by `tests/test_mxnet_interop.py`,
`bench/mx_layer.py` and `bench/compare.py`; the frontend is only ever run in subprocesses.
`Venv` is the general recipe (bench/_torch_venv.py makes PyTorch's venv with it).
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pyjlchar.bridge.paths import cache_dir

MXNET_VERSION = "1.9.1"
REQUIREMENTS = [f"mxnet=={MXNET_VERSION}", "numpy<1.24"]
READY = ".pyjlchar-ready"  # written last: a venv without it is incomplete and is made again


class InstallFailed(Exception):
    """The venv could not be created or pip could not install into it (offline, no wheel)."""


def _tail(text: str, n: int = 1500) -> str:
    # pip's warnings about unusable extra index locations are noise here.
    lines = [line for line in text.splitlines() if "is neither a file nor a directory" not in line]
    return "\n".join(lines)[-n:]


class Venv:
    """A venv `<cache>/<name>` holding `requirements`; `probe` (Python code) must print `expect`."""

    def __init__(self, name: str, requirements: list[str], probe: str, expect: str, hint: str = ""):
        self.name, self.requirements, self.probe, self.expect, self.hint = name, requirements, probe, expect, hint

    @property
    def dir(self) -> Path:
        return cache_dir() / self.name

    @property
    def python(self) -> Path:
        return self.dir / "bin" / "python"

    def exists(self) -> bool:
        return (self.dir / READY).exists()

    def ensure(self, log=None) -> Path:
        """The venv's python, creating the venv first when needed.

        Raises InstallFailed when `python -m venv` or pip fails, RuntimeError when the installed
        packages do not pass the probe (a broken install, not a missing one).
        """
        ready = self.dir / READY
        if ready.exists():
            return self.python
        cache_dir().mkdir(parents=True, exist_ok=True)
        with open(cache_dir() / f"{self.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one creator at a time; the others wait, then reuse
            if ready.exists():
                return self.python
            wanted = " ".join(self.requirements)
            if log:
                log(f"creating {self.dir} with {wanted} (once)")
            shutil.rmtree(self.dir, ignore_errors=True)
            proc = subprocess.run([sys.executable, "-m", "venv", str(self.dir)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise InstallFailed(f"`python -m venv {self.dir}` failed:\n{_tail(proc.stderr + proc.stdout)}")
            # pip reuses a wheel it already has (its cache, PIP_FIND_LINKS) before downloading.
            proc = subprocess.run([str(self.python), "-m", "pip", "install", "--disable-pip-version-check",
                                   "-q", *self.requirements], capture_output=True, text=True)
            if proc.returncode != 0:
                raise InstallFailed(f"pip install {wanted} failed{self.hint}:\n{_tail(proc.stderr + proc.stdout)}")
            proc = subprocess.run([str(self.python), "-c", self.probe], capture_output=True, text=True)
            if proc.returncode != 0 or proc.stdout.strip() != self.expect:
                raise RuntimeError(f"{wanted} was installed in {self.dir} but `{self.probe}` printed "
                                   f"{proc.stdout.strip()!r}, not {self.expect!r}:\n{_tail(proc.stderr)}")
            ready.write_text(self.expect + "\n")
        return self.python


MXNET = Venv("mxnet-python-venv", REQUIREMENTS, "import mxnet; print(mxnet.__version__)", MXNET_VERSION)


def venv_dir() -> Path:
    return MXNET.dir


def python_path() -> Path:
    return MXNET.python


def ensure(log=None) -> Path:
    """The mxnet venv's python, creating the venv first when needed (about 20 s with the wheel at hand)."""
    return MXNET.ensure(log)


def run_python(code: str, *args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs `code` with the venv's python (ensure() first); raises with its stderr when it fails."""
    proc = subprocess.run([str(python_path()), "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env if env is not None else os.environ.copy())
    if proc.returncode != 0:
        raise RuntimeError(f"Apache MXNet's Python failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc
