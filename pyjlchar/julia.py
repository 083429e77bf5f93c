"""The bridge: every call from Python into Julia goes through this module.

Julia runs inside this process. It is started once, by one of two starters:
- embedded: libjulia loaded with ctypes (works with any Julia >= 1.5, Debian's 1.5.3 included);
- juliacall: PythonCall's starter, when it is installed and works (Julia >= 1.10 with PythonCall).
PYJLCHAR_JULIA=auto|juliacall|embedded chooses; `auto` prefers juliacall and says why not.
The embedded starter uses pyjlchar's own system image when one is built for these sources
(pyjlchar/sysimage.py; PYJLCHAR_SYSIMAGE=off never does), else Julia's.

Either way, calls then go through one C entry point of the Julia side (julia/src/bridge.jl):
a JSON request plus a table of array pointers in (protocol.py), a JSON reply plus a table of
array pointers out, and a callback for progress events, which is also how Ctrl-C reaches a
long Julia call. PYJLCHAR_EVENT_LOG=FILE appends each event to FILE as a JSON line with its
wall-clock "time" (pyjlchar/coldstart.py times the first training batch by it).

Julia 1.5 can only be entered from the thread that started it, so Julia starts on a thread of
its own and runs every call there: any thread may call, one call at a time (a lock), and
waits for it. Progress events are handed to the calling thread, whose handler answers before
Julia goes on; a notebook's output thus lands in the cell that made the call.

`python -m pyjlchar.julia [julia args...]` (the scripts/julia wrapper) runs Julia as a program
with the same project, depot, libraries and image.
"""
from __future__ import annotations

import atexit
import ctypes
import importlib.util
import json
import os
import queue
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np

from . import runtime, sysimage
from .errors import Interrupted, JuliaError, MXError, UserError
from .protocol import DTYPES, decode, encode_request


class _ArrayDesc(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int32), ("ndim", ctypes.c_int32),
                ("dims", ctypes.c_int64 * 8), ("id", ctypes.c_int64)]


class _Reply(ctypes.Structure):
    _fields_ = [("json", ctypes.c_void_p), ("json_len", ctypes.c_int64),
                ("arrays", ctypes.POINTER(_ArrayDesc)), ("n_arrays", ctypes.c_int64)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64)
_ENTRY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int64, ctypes.POINTER(_ArrayDesc),
                          ctypes.c_int64, _CALLBACK, ctypes.POINTER(_Reply))

EventHandler = Callable[[dict], None]


class _JuliaOwned:
    """Lends numpy a Julia array; when numpy lets go, Julia is told to let go too."""

    def __init__(self, desc: _ArrayDesc, released: list):
        shape = tuple(desc.dims[i] for i in range(desc.ndim))
        self.__array_interface__ = {"data": (desc.data, False), "shape": shape,
                                    "typestr": DTYPES[desc.dtype].str, "version": 3}
        self._id, self._released = desc.id, released

    def __del__(self):
        self._released.append(self._id)


class _Job:
    """One function run on Julia's thread for a caller: `messages` carries its events to the
    caller and, last, ("done", ok, value); `answers` carries back whether to stop."""

    def __init__(self, fn: Callable[[], Any], on_event: EventHandler | None = None):
        self.fn, self.on_event = fn, on_event
        self.messages: queue.SimpleQueue = queue.SimpleQueue()
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        self.stop = False  # the caller gave up waiting: Julia is asked to stop at its next event


class _JuliaThread:
    """The thread Julia starts on and runs on, serving jobs in order."""

    STACK = 64 * 2**20  # Julia runs its compiler on this stack: as deep as a main thread's may grow

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.current: _Job | None = None
        size = threading.stack_size(self.STACK)
        try:
            thread = threading.Thread(target=self._serve, name="pyjlchar-julia", daemon=True)
            thread.start()
        finally:
            threading.stack_size(size)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            self.current = job
            try:
                outcome = ("done", True, job.fn())
            except BaseException as e:  # noqa: BLE001 - raised in the caller's thread
                outcome = ("done", False, e)
            self.current = None
            job.messages.put(outcome)

    def submit(self, job: _Job) -> _Job:
        self._jobs.put(job)
        return job

    def run(self, fn: Callable[[], Any], timeout: float | None = None):
        """`fn()` on Julia's thread, for a caller without events; raises what it raised."""
        _, ok, value = self.submit(_Job(fn)).messages.get(timeout=timeout)
        if not ok:
            raise value
        return value


class Julia:
    """A started Julia with the PyJLChar package loaded. Get it with `get()`."""

    def __init__(self, starter: str, reason: str, info: runtime.JuliaInfo, sysimage_reason: str):
        self.starter, self.reason, self.info = starter, reason, info
        self.sysimage_reason = sysimage_reason  # why Julia runs on the image it does
        self.debug = debug_default  # True: Julia errors carry their backtrace (the CLI's --debug)
        self._lock = threading.Lock()
        self._caller: int | None = None  # the thread whose call runs now
        self._released: list[int] = []
        self._stop_signal = 0  # the signal that asked the running call to stop, 0 if none
        self._callback = _CALLBACK(self._on_event)  # kept referenced: Julia holds its address
        self._entry: Any = None
        log = os.environ.get("PYJLCHAR_EVENT_LOG")
        self._event_log = open(log, "a", buffering=1, encoding="utf-8") if log else None

    # -- calling ----------------------------------------------------------------------------
    def call(self, fn: str, *args, on_event: EventHandler | None = None, **kwargs):
        """Calls the Julia function `fn` (a dotted name from Main, e.g. "PyJLChar.mx.version").

        Arguments and results: None, bool, int, float, str, lists/tuples, dicts with str keys,
        and numpy arrays (float32/64, int32/64, uint8), which are shared, not copied: a C-order
        array of shape (a, b) is a Julia array of size (b, a). `on_event` receives each progress
        event Julia emits, in this thread. Ctrl-C, SIGTERM or SIGHUP ask Julia to stop at its
        next event; `errors.Interrupted` (a KeyboardInterrupt) follows, once Julia has cleaned up.
        Any thread may call; calls from several run one after another.
        """
        if self._caller == threading.get_ident():
            raise RuntimeError("Julia is running a call of this thread already: an event handler cannot call Julia")
        with self._lock:
            self._caller = threading.get_ident()
            try:
                return self._call(fn, args, kwargs, on_event)
            finally:
                self._caller = None

    def _call(self, fn: str, args: tuple, kwargs: dict, on_event: EventHandler | None):
        arrays: list[np.ndarray] = []
        payload = encode_request(fn, args, kwargs, arrays, free=self._take_released(), backtrace=self.debug)
        table = (_ArrayDesc * max(1, len(arrays)))()
        for desc, arr in zip(table, arrays):
            desc.data = arr.ctypes.data
            desc.dtype = DTYPES.index(arr.dtype)
            desc.ndim = arr.ndim
            desc.dims[:arr.ndim] = arr.shape
        reply = _Reply()
        self._stop_signal = 0

        def enter():
            self._entry(payload, len(payload), table, len(arrays), self._callback, ctypes.byref(reply))

        with self._signals_request_stop():
            callback_error = self._wait(_thread.submit(_Job(enter, on_event)))
        answer = json.loads(ctypes.string_at(reply.json, reply.json_len))
        out = [np.asarray(_JuliaOwned(reply.arrays[i], self._released)) if reply.arrays[i].data
               else np.zeros(tuple(reply.arrays[i].dims[:reply.arrays[i].ndim]), DTYPES[reply.arrays[i].dtype])
               for i in range(reply.n_arrays)]
        if callback_error is not None:
            raise callback_error
        if "error" in answer:
            err = answer["error"]
            if err["type"] == "interrupted":
                raise Interrupted(self._stop_signal or signal.SIGINT)
            if err["type"] == "UserError":
                raise UserError(err["message"])
            raise (MXError if err["type"] == "MXError" else JuliaError)(err["type"], err["message"], err["backtrace"])
        if self._stop_signal:
            raise Interrupted(self._stop_signal)
        return decode(answer["value"], out)

    @staticmethod
    def _wait(job: _Job) -> BaseException | None:
        """Handles `job`'s events in this thread until it is done; returns the first exception
        of a handler, or of this wait (a signal handler's), after asking Julia to stop for it."""
        error: BaseException | None = None
        while True:
            try:
                message = job.messages.get()
            except BaseException as e:  # noqa: BLE001 - Julia must finish (and clean up) first
                error, job.stop = error or e, True
                continue
            if message[0] == "done":
                if not message[1]:
                    raise message[2]
                return error
            if error is None and job.on_event is not None:
                try:
                    job.on_event(message[1])
                except BaseException as e:  # noqa: BLE001 - reported after the call
                    error, job.stop = e, True
            job.answers.put(None)

    def eval(self, code: str):
        """Runs Julia code in Main; returns the value of its last expression."""
        return self.call("PyJLChar.Bridge.evaluate", code)

    def release(self, handle: int) -> None:
        """Lets Julia free what it keeps under `handle` (see bridge.jl's `keep`), with the next
        call: safe anywhere, a garbage collector's finalizer included."""
        self._released.append(handle)

    def _take_released(self) -> list[int]:
        taken, self._released[:] = list(self._released), []
        return taken

    def _on_event(self, ptr, size) -> int:
        # On Julia's thread. Exceptions must not escape a ctypes callback (they would be
        # printed and lost): the handler runs in the caller's thread, which keeps them.
        job = _thread.current
        try:
            event = json.loads(ctypes.string_at(ptr, size))
            if event["event"] != "poll":
                if self._event_log is not None:
                    self._event_log.write(json.dumps({"time": time.time(), **event}) + "\n")
                if job.on_event is not None and not job.stop:
                    job.messages.put(("event", event))
                    job.answers.get()
        except BaseException:  # noqa: BLE001 - a broken event: stop the call
            job.stop = True
        return int(self._stop_signal != 0 or job.stop)

    @contextmanager
    def _signals_request_stop(self):
        """While a call runs, SIGINT, SIGTERM and SIGHUP ask Julia to stop (and clean up) instead
        of killing the process: a training run then saves its checkpoint as for Ctrl-C."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum, frame):
            self._stop_signal = self._stop_signal or signum

        wanted = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {signum: signal.signal(signum, request_stop) for signum in wanted}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


# -- starting -------------------------------------------------------------------------------
_julia: Julia | None = None
_thread: _JuliaThread | None = None
_thread_made = threading.Lock()
_starting = False  # Julia's start is under way on its thread
debug_default = False


def started() -> bool:
    """Whether this process's Julia has started (Ctrl-C then reaches it through the bridge)."""
    return _julia is not None


def starting() -> bool:
    """Whether Julia's start is under way (a caller that stopped waiting for it leaves it running)."""
    return _starting


def get(devices: list | None = None) -> Julia:
    """The process's Julia, started (once) on first use; `devices` (["cpu", 0]-style pairs),
    those of the first call, choose libmxnet's engine as it starts (runtime.engine_for).
    Ctrl-C while it starts raises KeyboardInterrupt here, and the start goes on."""
    global _thread
    if _julia is None:
        with _thread_made:
            _thread = _thread or _JuliaThread()
        _thread.run(lambda: _start_once(devices))
    return _julia


def _start_once(devices: list | None) -> None:
    # On Julia's thread, which runs one job at a time: a second caller finds Julia started.
    global _julia, _starting
    if _julia is None:
        _starting = True
        try:
            _julia = _start(devices)
        finally:
            _starting = False


def _at_exit(lib) -> None:
    """Julia's exit hooks (they flush its output), on its thread; skipped when a call still
    holds that thread, which the process ends under."""
    try:
        _thread.run(lambda: lib.jl_atexit_hook(0), timeout=10)
    except queue.Empty:
        pass


def release(handle: int) -> None:
    """Lets Julia free what it keeps under `handle` with its next call (see `Julia.release`)."""
    if _julia is not None:
        _julia.release(handle)


def run(call, on_event: EventHandler | None = None):
    """Runs a charlstm.Call: its Julia command with its keywords, on its devices."""
    return get(call.devices).call(call.fn, on_event=on_event, **call.kwargs)


def choose_starter(info: runtime.JuliaInfo) -> tuple[str, str]:
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


def _start(devices: list | None) -> Julia:
    info = runtime.julia_info()
    starter, reason = choose_starter(info)
    # Julia reads these when it starts, and the processes it spawns (precompilation) inherit them.
    os.environ.update(runtime.julia_environment(info, devices))
    # libgcc_s global before anything C++: else C++ exceptions thrown inside libmxnet abort the
    # process that Python, Julia and libmxnet share. Then libmxnet here first: a broken one is
    # one clear error, not a failed precompile.
    ctypes.CDLL("libgcc_s.so.1", mode=ctypes.RTLD_GLOBAL)
    try:
        ctypes.CDLL(os.environ["MXNET_LIBRARY_PATH"], mode=ctypes.RTLD_GLOBAL)
    except OSError as e:
        raise UserError(f"libmxnet at {os.environ['MXNET_LIBRARY_PATH']} could not be loaded ({e}): "
                        "install libgomp1 (apt-get install libgomp1), or reinstall the mxnet wheel") from None
    if starter == "juliacall":
        try:
            return _start_juliacall(info, reason)
        except Exception as e:  # noqa: BLE001 - fall back, and say why in `doctor`
            if os.environ.get("PYJLCHAR_JULIA") == "juliacall":
                raise UserError(f"juliacall failed to start Julia ({e}): unset PYJLCHAR_JULIA to embed Julia directly")
            starter, reason = "embedded", f"juliacall failed to start: {e}"
    return _start_embedded(info, reason)


def _start_juliacall(info: runtime.JuliaInfo, reason: str) -> Julia:
    os.environ["PYTHON_JULIACALL_EXE"] = info.executable
    # Newer Julia reads a trailing separator as "and the default depots", where PythonCall lives.
    os.environ["JULIA_DEPOT_PATH"] += os.pathsep
    from juliacall import Main as jl  # noqa: PLC0415 - only when chosen

    jl.seval(f"pushfirst!(LOAD_PATH, {json.dumps(str(runtime.ROOT))}); using PyJLChar")
    julia = Julia("juliacall", reason, info, "juliacall starts Julia on its own image")
    julia._entry = _ENTRY(int(jl.seval("PyJLChar.Bridge.entry_pointer()")))
    return julia


def _start_embedded(info: runtime.JuliaInfo, reason: str) -> Julia:
    # The load order matters: the private libunwind before libjulia (else Julia 1.5 loads the
    # system's, on which it crashes); libjulia global, for ccall(:jl_*).
    if info.needs_old_libunwind:
        ctypes.CDLL(str(runtime.libunwind_dir() / "libunwind.so.8"), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(info.libjulia, mode=ctypes.RTLD_GLOBAL)
    # Signals stay Python's: Ctrl-C reaches Julia through the event callback instead.
    options = [info.executable, "--handle-signals=no", "--startup-file=no", "--history-file=no"]
    argc = ctypes.c_int(len(options))
    argv = ctypes.cast((ctypes.c_char_p * (len(options) + 1))(*[o.encode() for o in options], None),
                       ctypes.POINTER(ctypes.c_char_p))
    lib.jl_parse_opts(ctypes.byref(argc), ctypes.byref(argv))
    init = getattr(lib, "jl_init_with_image__threading", None) or lib.jl_init_with_image
    image, image_reason = sysimage.choose(info)
    init(info.bindir.encode(), image.encode())
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # jl_init blocked them
    atexit.register(_at_exit, lib)

    lib.jl_eval_string.restype = ctypes.c_void_p
    lib.jl_string_ptr.restype = ctypes.c_char_p
    lib.jl_unbox_int64.restype = ctypes.c_int64
    lib.jl_unbox_int64.argtypes = [ctypes.c_void_p]
    lib.jl_string_ptr.argtypes = [ctypes.c_void_p]
    loaded = lib.jl_eval_string(b'try; using PyJLChar; ""; catch e; sprint(showerror, e); end')
    problem = lib.jl_string_ptr(loaded).decode() if loaded else "Julia could not evaluate its first expression"
    if problem:
        raise JuliaError("LoadError", f"the PyJLChar Julia package failed to load: {problem}")
    julia = Julia("embedded", reason, info, image_reason)
    julia._entry = _ENTRY(lib.jl_unbox_int64(lib.jl_eval_string(b"PyJLChar.Bridge.entry_pointer()")))
    return julia


def main(argv: list[str]) -> None:
    """`python -m pyjlchar.julia [julia args...]`: runs Julia with the project's settings, on
    pyjlchar's system image when one is built for these sources and no image is given."""
    info = runtime.julia_info()
    env = {**os.environ, **runtime.julia_environment(info, None)}
    given = any(a.startswith("-J") or a == "--sysimage" or a.startswith("--sysimage=") for a in argv)
    image = [] if given else [f"--sysimage={sysimage.choose(info)[0]}"]
    os.execve(info.executable, [info.executable, "--startup-file=no", *image, *argv], env)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except UserError as e:
        sys.exit(f"error: {e}")
