"""Where things are: the checkout, the cache, Julia, libmxnet, and the environment Julia needs.

The embedded bridge and `python -m pyjlchar.runtime` (the `scripts/julia` wrapper) both take
their settings from here, so Julia run either way sees the same project, depot and libraries.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

ROOT = Path(__file__).resolve().parent.parent
MXNET_HINT = "install the mxnet wheel (pip install --no-deps mxnet==1.9.1) or set MXNET_LIBRARY_PATH"


def cache_dir() -> Path:
    """The project's cache (Julia depot, libunwind, corpora): PYJLCHAR_CACHE or ./.cache."""
    return Path(os.environ.get("PYJLCHAR_CACHE") or ROOT / ".cache")


def libunwind_dir() -> Path:
    return cache_dir() / "libunwind"


def julia_executable() -> str:
    """$JULIA, else `julia` on PATH."""
    exe = os.environ.get("JULIA") or shutil.which("julia")
    if not exe or not shutil.which(exe):
        raise UserError("Julia was not found: run scripts/test or scripts/main once to install it, "
                        "or set JULIA=/path/to/julia (Julia >= 1.5)")
    return shutil.which(exe)


@dataclass
class JuliaInfo:
    executable: str
    version: str
    bindir: str
    libjulia: str
    sysimage: str

    @property
    def needs_old_libunwind(self) -> bool:
        # Julia 1.5 crashes on exceptions with bookworm's libunwind 1.6 (PLATFORM.md).
        return self.version.startswith("1.5.")


_QUERY = ('using Libdl; print(join([string(VERSION), Sys.BINDIR, '
          'first(filter(p -> occursin(r"libjulia\\.so", p), Libdl.dllist())), '
          'unsafe_string(Base.JLOptions().image_file)], "\\n"))')


def julia_info() -> JuliaInfo:
    """Facts about the Julia installation, asked once and cached by the executable's mtime."""
    exe = julia_executable()
    real = os.path.realpath(exe)
    key = f"{real}:{os.stat(real).st_mtime_ns}"
    cache_file = cache_dir() / "julia-info.json"
    try:
        cached = json.loads(cache_file.read_text())
        if cached.pop("key") == key:
            return JuliaInfo(**cached)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    env = dict(os.environ)
    prepend_libunwind(env)
    proc = subprocess.run([exe, "--startup-file=no", "-e", _QUERY], capture_output=True, text=True, env=env)
    lines = proc.stdout.split("\n")
    if proc.returncode != 0 or len(lines) != 4:
        raise UserError(f"{exe} did not run ({proc.stderr.strip()[-200:] or 'no output'}): "
                        "reinstall Julia >= 1.5 or point JULIA at a working one")
    info = JuliaInfo(exe, *lines)
    if not info.version.startswith("1.5.") and tuple(map(int, info.version.split(".")[:2])) < (1, 5):
        raise UserError(f"Julia {info.version} is too old: install Julia >= 1.5 or set JULIA")
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, **info.__dict__}))
    os.replace(tmp, cache_file)
    return info


def prepend_libunwind(env: dict) -> None:
    if libunwind_dir().is_dir():
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in [str(libunwind_dir()), env.get("LD_LIBRARY_PATH", "")] if p)


def libmxnet_path() -> Path:
    """libmxnet.so: MXNET_LIBRARY_PATH, else the one in the installed mxnet wheel.

    The wheel's folder is found without importing its Python package (which fails with
    numpy >= 1.24 and would load a second copy of the library)."""
    override = os.environ.get("MXNET_LIBRARY_PATH")
    if override:
        path = Path(override)
        if not path.is_file():
            raise UserError(f"MXNET_LIBRARY_PATH={override} is not a file: point it at libmxnet.so or unset it")
        return path
    spec = importlib.util.find_spec("mxnet")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "libmxnet.so"
        if path.is_file():
            return path
    raise UserError(f"libmxnet was not found: {MXNET_HINT}")


def julia_environment(info: JuliaInfo) -> dict:
    """Environment variables for Julia, embedded or as a child process."""
    env = {
        "JULIA_PROJECT": str(ROOT),
        "JULIA_LOAD_PATH": "@" + os.pathsep + "@stdlib",
        "JULIA_DEPOT_PATH": str(cache_dir() / "julia-depot"),
        "MXNET_LIBRARY_PATH": str(libmxnet_path()),
        # One OpenMP thread per operator: libmxnet's engine threads already keep the cores busy,
        # and spinning OpenMP teams on top of them (or of any other busy process) slowed
        # training more than tenfold on 2 cores (measured). Set OMP_NUM_THREADS to override.
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS") or "1",
        # libmxnet would print an MKLDNN line on stdout at every bind.
        "MXNET_SUBGRAPH_VERBOSE": os.environ.get("MXNET_SUBGRAPH_VERBOSE", "0"),
    }
    if info.needs_old_libunwind:
        if not (libunwind_dir() / "libunwind.so.8").exists():
            raise UserError("Julia 1.5 needs the private libunwind 1.3.2, which is missing: run scripts/test "
                            "or scripts/main once to fetch it")
        env["LD_LIBRARY_PATH"] = os.environ.get("LD_LIBRARY_PATH", "")
        prepend_libunwind(env)
    return env


def main(argv: list[str]) -> None:
    """`python -m pyjlchar.runtime [julia args...]`: runs Julia with the project's settings, on
    pyjlchar's system image when one is built for these sources and no image is given."""
    from . import sysimage

    info = julia_info()
    env = dict(os.environ)
    env.update(julia_environment(info))
    given = any(a.startswith("-J") or a == "--sysimage" or a.startswith("--sysimage=") for a in argv)
    image = [] if given else [f"--sysimage={sysimage.choose(info)[0]}"]
    os.execve(info.executable, [info.executable, "--startup-file=no", *image, *argv], env)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except UserError as e:
        sys.exit(f"error: {e}")
