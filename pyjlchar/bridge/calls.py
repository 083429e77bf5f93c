"""Calls into Julia: every call from Python goes through `run` (or `Julia.call`) here.

Calls go through one C entry point of the Julia side (julia/src/Bridge.jl): a JSON request plus
a table of array pointers in (wire.py), a JSON reply plus a table of array pointers out, and a
callback for progress events, which is also how Ctrl-C reaches a long Julia call.
PYJLCHAR_EVENT_LOG=FILE appends each event to FILE as a JSON line with its wall-clock "time"
(ops/coldstart.py times the first training batch by it).

Julia 1.5 can only be entered from the thread that started it, so Julia starts (start.py) on a
thread of its own and runs every call there: any thread may call, one call at a time (a lock),
and waits for it. Progress events are handed to the calling thread, whose handler answers before
Julia goes on; a notebook's output thus lands in the cell that made the call.
"""
from __future__ import annotations

import ctypes
import json
import os
import queue
import signal
import threading
import time
from typing import Any, Callable

import numpy as np

from . import host, start
from .wire import DTYPES, decode, encode_request
from ..errors import Interrupted, JuliaError, MXError, UserError


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

    def __init__(self, fn: Callable[[], Any], on_event: EventHandler | None = None,
                 stop_when: threading.Event | None = None):
        self.fn, self.on_event, self.stop_when = fn, on_event, stop_when
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

    def __init__(self, started: start.Started, event_log=None):
        self.started = started      # how it started: starter, reasons, Julia's facts, its threads
        self.debug = False          # True: Julia errors carry their backtrace (the CLI's --debug)
        self._lock = threading.Lock()
        self._caller: int | None = None  # the thread whose call runs now
        self._released: list[int] = []
        self._stop_signal = 0  # the signal that asked the running call to stop, 0 if none
        self._callback = _CALLBACK(self._on_event)  # kept referenced: Julia holds its address
        self._entry: Any = _ENTRY(started.entry)
        self._event_log = event_log

    # -- calling ----------------------------------------------------------------------------
    def call(self, fn: str, *args, on_event: EventHandler | None = None, stop_when: threading.Event | None = None,
             **kwargs):
        """Calls the Julia function `fn` (a dotted name from Main, e.g. "PyJLChar.mx.version").

        Arguments and results: None, bool, int, float, str, lists/tuples, dicts with str keys,
        and numpy arrays (float32/64, int32/64, uint8), which are shared, not copied: a C-order
        array of shape (a, b) is a Julia array of size (b, a). `on_event` receives each progress
        event Julia emits, in this thread. Ctrl-C, SIGTERM or SIGHUP ask Julia to stop at its
        next event, from whichever thread the call runs in, and so does setting `stop_when`;
        `errors.Interrupted` (a KeyboardInterrupt) follows, once Julia has cleaned up.
        Any thread may call; calls from several run one after another.
        """
        if self._caller == threading.get_ident():
            raise RuntimeError("Julia is running a call of this thread already: an event handler cannot call Julia")
        with self._lock:
            self._caller = threading.get_ident()
            try:
                return self._call(fn, args, kwargs, on_event, stop_when)
            finally:
                self._caller = None

    def _call(self, fn: str, args: tuple, kwargs: dict, on_event: EventHandler | None,
              stop_when: threading.Event | None):
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

        with host.stop_requests(self._request_stop):
            callback_error = self._wait(_thread.submit(_Job(enter, on_event, stop_when)))
        answer = json.loads(ctypes.string_at(reply.json, reply.json_len))
        out = [np.asarray(_JuliaOwned(reply.arrays[i], self._released)) if reply.arrays[i].data
               else np.zeros(tuple(reply.arrays[i].dims[:reply.arrays[i].ndim]), DTYPES[reply.arrays[i].dtype])
               for i in range(reply.n_arrays)]
        if callback_error is not None:
            raise callback_error
        if "error" in answer:
            err = answer["error"]
            if err["type"] == "interrupted":
                asked = stop_when is not None and stop_when.is_set()
                raise Interrupted(self._stop_signal or (Interrupted.ON_REQUEST if asked else signal.SIGINT))
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
        return int(self._stop_signal != 0 or job.stop or (job.stop_when is not None and job.stop_when.is_set()))

    def _request_stop(self, signum: int) -> None:
        """SIGINT, SIGTERM or SIGHUP while a call runs: Julia stops at its next poll (and cleans
        up: a training run saves its checkpoint as for Ctrl-C)."""
        self._stop_signal = self._stop_signal or signum


# -- the process's Julia ----------------------------------------------------------------------
_julia: Julia | None = None
_thread: _JuliaThread | None = None
_thread_made = threading.Lock()
_starting = False  # Julia's start is under way on its thread
_debug = False


def set_debug(on: bool) -> None:
    """Julia errors carry their backtrace from now on (the CLI's --debug)."""
    global _debug
    _debug = on
    if _julia is not None:
        _julia.debug = on


def started() -> bool:
    """Whether this process's Julia has started (Ctrl-C then reaches it through the bridge)."""
    return _julia is not None


def starting() -> bool:
    """Whether Julia's start is under way (a caller that stopped waiting for it leaves it running)."""
    return _starting


def get(context: str | None = None) -> Julia:
    """The process's Julia, started (once) on first use; the [compute] `context` of the first
    call chooses libmxnet's engine as it starts (paths.engine_for). Ctrl-C while it starts
    raises KeyboardInterrupt here, and the start goes on."""
    global _thread
    if _julia is None:
        with _thread_made:
            _thread = _thread or _JuliaThread()
        _thread.run(lambda: _start_once(context))
    return _julia


def _start_once(context: str | None) -> None:
    # On Julia's thread, which runs one job at a time: a second caller finds Julia started.
    global _julia, _starting
    if _julia is None:
        log = _open_event_log()   # before Julia starts: a bad path must not leave it started unused
        _starting = True
        try:
            _julia = Julia(start.start(context, _on_julia_thread, os.environ.get("DMLC_ROLE") or None), log)
            _julia.debug = _debug
        finally:
            _starting = False


def _open_event_log():
    """PYJLCHAR_EVENT_LOG's file, opened to append, or None where it is unset."""
    log = os.environ.get("PYJLCHAR_EVENT_LOG")
    try:
        return open(log, "a", buffering=1, encoding="utf-8") if log else None
    except (OSError, ValueError) as e:
        raise UserError(f"PYJLCHAR_EVENT_LOG={log!r} cannot be written ({getattr(e, 'strerror', None) or e}): "
                        "set it to a file in a folder you can write to, or unset it") from None


def _on_julia_thread(fn: Callable[[], Any]) -> None:
    """`fn()` on Julia's thread (for the exit hook), unless a call holds it for 10 s."""
    try:
        _thread.run(fn, timeout=10)
    except queue.Empty:
        pass


def release(handle: int) -> None:
    """Lets Julia free what it keeps under `handle` with its next call (see `Julia.release`)."""
    if _julia is not None:
        _julia.release(handle)


def run(call, on_event: EventHandler | None = None, stop_when: threading.Event | None = None):
    """Runs a commands.Call: its Julia command with its keywords, Julia started for its context;
    setting `stop_when` stops it as Ctrl-C does."""
    return get(call.context).call(call.fn, on_event=on_event, stop_when=stop_when, **call.kwargs)
