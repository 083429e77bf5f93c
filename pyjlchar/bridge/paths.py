"""Where things are: the checkout, the cache, Julia, libmxnet, and the environment Julia needs.

The embedded bridge and `python -m pyjlchar.bridge` (the `scripts/julia` wrapper) both take
their settings from here, so Julia run either way sees the same project, depot and libraries.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

PACKAGE = Path(__file__).resolve().parent.parent
# What pyjlchar runs in Julia (julia/, Project.toml, Manifest.toml) and its shipped configs: an
# installed wheel carries them in pyjlchar/_share (setup.py), a checkout has them at its top.
INSTALLED = (PACKAGE / "_share").is_dir()
ROOT = PACKAGE / "_share" if INSTALLED else PACKAGE.parent
# The libmxnet pyjlchar runs on: the last release of Apache MXNet, from the `mxnet` wheel.
MXNET_VERSION = "1.9.1"
SETUP_HINT = "run `pyjlchar setup`"
MXNET_HINT = f"{SETUP_HINT} (it installs the mxnet wheel), or set MXNET_LIBRARY_PATH to a libmxnet.so"


def cache_dir() -> Path:
    """Per-machine state (Julia depot, libunwind, system image, corpora): $PYJLCHAR_CACHE, else
    the checkout's .cache, else the user's cache folder (~/.cache/pyjlchar on Linux)."""
    given = os.environ.get("PYJLCHAR_CACHE")
    if given:
        if "\0" in given or os.path.exists(given) and not os.path.isdir(given):
            raise UserError(f"PYJLCHAR_CACHE={given!r} is not a folder: set it to a folder (made if missing) or unset it")
        return Path(given).absolute()
    if not INSTALLED:
        return ROOT / ".cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("pyjlchar"))


def libunwind_dir() -> Path:
    return cache_dir() / "libunwind"


def julia_executable() -> str:
    """$JULIA, else `julia` on PATH."""
    exe = os.environ.get("JULIA") or shutil.which("julia")
    if not exe or not shutil.which(exe):
        raise UserError(f"Julia was not found: {SETUP_HINT} (on Debian it installs Julia 1.5.3), or install "
                        "Julia >= 1.5 and set JULIA=/path/to/julia")
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
        # Julia 1.5 crashes on many exceptions with Debian 12's libunwind 1.6; 1.3.2 works.
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
    path = wheel_libmxnet()
    if path is None:
        raise UserError(f"libmxnet was not found: {MXNET_HINT}")
    return path


def wheel_libmxnet() -> Path | None:
    """The libmxnet.so of the installed mxnet wheel, if any."""
    spec = importlib.util.find_spec("mxnet")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "libmxnet.so"
        if path.is_file():
            return path
    return None


def own_libmxnet() -> bool:
    """Whether MXNET_LIBRARY_PATH names a libmxnet other than the wheel's (one the user built,
    for a GPU no wheel runs on); pyjlchar itself hands the wheel's to Julia by that variable."""
    override = os.environ.get("MXNET_LIBRARY_PATH")
    wheel = wheel_libmxnet()
    return bool(override) and (wheel is None or os.path.realpath(override) != os.path.realpath(wheel))


def engine_for(context: str | None) -> str:
    """libmxnet's engine for work on the devices of `context` (a [compute] context, None for no
    devices): one CPU device runs best on the naive engine, which runs each operator in the
    calling thread, where the threaded engine hands every operator to a worker, which costs
    more than the small operators of a sampling step take. Several devices, or a GPU, keep the
    threaded engine, which runs them side by side. MXNET_ENGINE_TYPE overrides."""
    chosen = os.environ.get("MXNET_ENGINE_TYPE")
    if chosen:
        return chosen
    return "NaiveEngine" if context in (None, "cpu", "cpu:0") else "ThreadedEnginePerDevice"


def julia_environment(info: JuliaInfo, context: str | None) -> dict:
    """Environment variables for Julia, embedded or as a child process, whose first work runs on
    the devices of `context` (libmxnet reads its engine once, when it starts)."""
    env = {
        "MXNET_ENGINE_TYPE": engine_for(context),
        "JULIA_PROJECT": str(ROOT),
        "JULIA_LOAD_PATH": "@" + os.pathsep + "@stdlib",
        "JULIA_DEPOT_PATH": str(cache_dir() / "julia-depot"),
        "MXNET_LIBRARY_PATH": str(libmxnet_path()),
        # libmxnet would print an MKLDNN line on stdout at every bind.
        "MXNET_SUBGRAPH_VERBOSE": os.environ.get("MXNET_SUBGRAPH_VERBOSE", "0"),
    }
    if info.needs_old_libunwind:
        if not (libunwind_dir() / "libunwind.so.8").exists():
            raise UserError(f"Julia 1.5 needs the private libunwind 1.3.2, which is missing: {SETUP_HINT} "
                            "to fetch it")
        env["LD_LIBRARY_PATH"] = os.environ.get("LD_LIBRARY_PATH", "")
        prepend_libunwind(env)
    return env
