"""Starting Julia inside this process, by one of two starters:
- embedded: libjulia loaded with ctypes (works with any Julia >= 1.5, Debian's 1.5.3 included);
- juliacall: PythonCall's starter, when it is installed and works (Julia >= 1.10 with PythonCall).
PYJLCHAR_JULIA=auto|juliacall|embedded chooses; `auto` prefers juliacall and says why not.
The embedded starter uses pyjlchar's own system image when one is built for these sources
(image.py; PYJLCHAR_SYSIMAGE=off never does), else Julia's.

Either way the result is the address of the Julia side's one C entry point (julia/src/Bridge.jl),
which calls.py calls.
"""
from __future__ import annotations

import atexit
import ctypes
import importlib.util
import json
import os
import signal
from dataclasses import dataclass
from typing import Callable

from . import host, image, paths, threads
from ..errors import JuliaError, UserError


@dataclass(frozen=True)
class Started:
    """A started Julia: the entry point's address, and what doctor says of it."""
    entry: int
    starter: str
    reason: str            # why this starter
    info: paths.JuliaInfo
    image_reason: str      # why Julia runs on the image it does
    threads: threads.Choice


def choose_starter(info: paths.JuliaInfo) -> tuple[str, str]:
    """(starter, reason) for PYJLCHAR_JULIA; juliacall is only tried where it can work."""
    wanted = os.environ.get("PYJLCHAR_JULIA", "auto")
    if wanted not in ("auto", "juliacall", "embedded"):
        raise UserError(f"PYJLCHAR_JULIA={wanted} is not one of auto, juliacall, embedded: fix or unset it")
    if wanted == "embedded":
        return "embedded", "PYJLCHAR_JULIA=embedded"
    if importlib.util.find_spec("juliacall") is None:
        why = "juliacall is not installed"
    elif tuple(int(x) for x in info.version.split(".")[:2]) < (1, 10):
        why = f"juliacall needs Julia >= 1.10, this is {info.version}"
    else:
        return "juliacall", f"juliacall is installed and Julia is {info.version}"
    if wanted == "juliacall":
        raise UserError(f"PYJLCHAR_JULIA=juliacall cannot work here ({why}): unset it to embed Julia directly")
    return "embedded", why


def start(context: str | None, run_on_julia_thread: Callable, role: str | None) -> Started:
    """Starts Julia with PyJLChar loaded, libmxnet's engine chosen for the devices of `context`
    and its OpenMP threads for this process (`role`: its part in a parameter-server job, if any).
    Runs on the thread that will run every Julia call; `run_on_julia_thread(fn)` is how the
    exit hook gets back there."""
    info = paths.julia_info()
    starter, reason = choose_starter(info)
    chosen = threads.choose(role)
    # Julia reads these when it starts, and the processes it spawns (precompilation) inherit them.
    os.environ.update(paths.julia_environment(info, context))
    # libgcc_s global before anything C++: else C++ exceptions thrown inside libmxnet abort the
    # process that Python, Julia and libmxnet share. Then libmxnet here first: a broken one is
    # one clear error, not a failed precompile.
    ctypes.CDLL("libgcc_s.so.1", mode=ctypes.RTLD_GLOBAL)
    # OpenMP reads the team size when libmxnet loads it, and libmxnet when its engine starts:
    # this process's environment holds the count only meanwhile, so that nothing it starts
    # later inherits it as a user's choice.
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(chosen.threads)
    try:
        try:
            ctypes.CDLL(os.environ["MXNET_LIBRARY_PATH"], mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            raise UserError(f"libmxnet at {os.environ['MXNET_LIBRARY_PATH']} could not be loaded ({e}): "
                            "install libgomp1 (apt-get install libgomp1), or reinstall the mxnet wheel") from None
        if starter == "juliacall":
            try:
                return _start_juliacall(info, reason, chosen)
            except Exception as e:  # noqa: BLE001 - fall back, and say why in `doctor`
                if os.environ.get("PYJLCHAR_JULIA") == "juliacall":
                    raise UserError(f"juliacall failed to start Julia ({e}): unset PYJLCHAR_JULIA to embed "
                                    "Julia directly") from None
                reason = f"juliacall failed to start: {e}"
        return _start_embedded(info, reason, chosen, run_on_julia_thread)
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


# Loads PyJLChar: "" or the failure. Then libmxnet's engine starts (its notice goes to a silenced stderr).
_LOAD = 'try; using PyJLChar; ""; catch e; sprint(showerror, e); end'
_START_ENGINE = "PyJLChar.mx.wait_all()"


def _start_juliacall(info: paths.JuliaInfo, reason: str, chosen: threads.Choice) -> Started:
    os.environ["PYTHON_JULIACALL_EXE"] = info.executable
    # Newer Julia reads a trailing separator as "and the default depots", where PythonCall lives.
    os.environ["JULIA_DEPOT_PATH"] += os.pathsep
    from juliacall import Main as jl  # noqa: PLC0415 - only when chosen

    jl.seval(f"pushfirst!(LOAD_PATH, {json.dumps(str(paths.ROOT))})")
    problem = str(jl.seval(_LOAD))
    if problem:
        raise JuliaError("LoadError", f"the PyJLChar Julia package failed to load: {problem}")
    with host.quiet_stderr():
        jl.seval(_START_ENGINE)
    return Started(int(jl.seval("PyJLChar.Bridge.entry_pointer()")), "juliacall", reason, info,
                   "juliacall starts Julia on its own image", chosen)


def _start_embedded(info: paths.JuliaInfo, reason: str, chosen: threads.Choice, run_on_julia_thread) -> Started:
    # The load order matters: the private libunwind before libjulia (else Julia 1.5 loads the
    # system's, on which it crashes); libjulia global, for ccall(:jl_*).
    if info.needs_old_libunwind:
        ctypes.CDLL(str(paths.libunwind_dir() / "libunwind.so.8"), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(info.libjulia, mode=ctypes.RTLD_GLOBAL)
    # Signals stay Python's: Ctrl-C reaches Julia through the event callback instead.
    options = [info.executable, "--handle-signals=no", "--startup-file=no", "--history-file=no"]
    argc = ctypes.c_int(len(options))
    argv = ctypes.cast((ctypes.c_char_p * (len(options) + 1))(*[o.encode() for o in options], None),
                       ctypes.POINTER(ctypes.c_char_p))
    lib.jl_parse_opts(ctypes.byref(argc), ctypes.byref(argv))
    init = getattr(lib, "jl_init_with_image__threading", None) or lib.jl_init_with_image
    image_file, image_reason = image.choose(info)
    init(info.bindir.encode(), image_file.encode())
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # jl_init blocked them
    atexit.register(_at_exit, lib, run_on_julia_thread)

    lib.jl_eval_string.restype = ctypes.c_void_p
    lib.jl_string_ptr.restype = ctypes.c_char_p
    lib.jl_unbox_int64.restype = ctypes.c_int64
    lib.jl_unbox_int64.argtypes = [ctypes.c_void_p]
    lib.jl_string_ptr.argtypes = [ctypes.c_void_p]
    loaded = lib.jl_eval_string(_LOAD.encode())
    problem = lib.jl_string_ptr(loaded).decode() if loaded else "Julia could not evaluate its first expression"
    if problem:
        raise JuliaError("LoadError", f"the PyJLChar Julia package failed to load: {problem}")
    with host.quiet_stderr():
        lib.jl_eval_string(_START_ENGINE.encode())
    entry = lib.jl_unbox_int64(lib.jl_eval_string(b"PyJLChar.Bridge.entry_pointer()"))
    return Started(entry, "embedded", reason, info, image_reason, chosen)


# How long the interpreter's exit waits for a call under way to stop (a run: its next batch and
# the checkpoint of its epoch in progress).
EXIT_WAIT_S = 120


def _at_exit(lib, run_on_julia_thread) -> None:
    """Calls still under way (a run in a daemon thread) stopped as SIGTERM stops them, then
    Julia's exit hooks (they flush its output), on its thread; skipped when a call still holds
    that thread, which the process ends under."""
    host.stop_running_calls(signal.SIGTERM, EXIT_WAIT_S)
    run_on_julia_thread(lambda: lib.jl_atexit_hook(0))
