"""What a process that hosts Julia and libmxnet must do differently, in one place: every
workaround of the shared process lives here, each with the reason.

- Julia's libuv makes a pipe on fd 1 or 2 non-blocking when Julia starts (`make_blocking`).
- A closed fd 0, 1 or 2 is reopened on /dev/null, so that no file Julia or libmxnet opens
  takes its number (`devnull_on`, used by show/streams.py's guard).
- libmxnet announces any engine but its default on stderr when the engine starts: that notice
  alone is dropped (`quiet_stderr`, while bridge/start.py starts it).
- Signals: while a Julia call runs, in any thread, SIGINT, SIGTERM and SIGHUP ask it to stop at
  its next poll instead of killing the process (`install_stop_handlers`, `stop_requests`), so
  that a run saves its checkpoint, and so does the interpreter's exit; before Julia runs, where
  Python cannot raise KeyboardInterrupt, `InterruptWatch` ends the process.
- Leaving: a process whose libmxnet may still run ps-lite's threads (a parameter-server node)
  or whose Julia is still starting ends with os._exit past libmxnet's C++ static destructors,
  which would otherwise abort it (`leave`).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def make_blocking(stream) -> None:
    # Julia's libuv makes a pipe on fd 1 or 2 non-blocking when Julia starts (the flag is the
    # pipe's, shared with the shell), and Python's buffered writer then drops, without an
    # error, what the pipe cannot take at once: `visualize | cat` lost all past 64 KiB.
    try:
        if not os.get_blocking(stream.fileno()):
            os.set_blocking(stream.fileno(), True)
    except (OSError, ValueError):
        pass


def devnull_on(fd: int) -> None:
    """Points file descriptor `fd` at /dev/null."""
    null = os.open(os.devnull, os.O_RDWR)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


@contextmanager
def quiet_stderr():
    """fd 2 goes to /dev/null meanwhile (libmxnet's engine notice, "MXNet start using engine: NaiveEngine")."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


# The Julia calls under way, by the thread that waits for each: how to ask it to stop.
_running: dict[int, Callable[[int], None]] = {}
_previous_handlers: dict[int, object] = {}


def install_stop_handlers() -> None:
    """From the main thread (signal handlers can only be set there; importing pyjlchar does it):
    SIGINT, SIGTERM and SIGHUP then stop the Julia calls under way, in whichever thread, so that
    a run saves its checkpoint; with no call under way they do what they did before. At the
    interpreter's exit, calls still under way (in daemon threads) are stopped the same way and
    waited for (bridge/start.py's exit hook calls `stop_running_calls`)."""
    if _previous_handlers or threading.current_thread() is not threading.main_thread():
        return
    for signum in STOP_SIGNALS:
        _previous_handlers[signum] = signal.signal(signum, _on_stop_signal)


def _on_stop_signal(signum: int, frame) -> None:
    if _running:
        for request_stop in list(_running.values()):
            request_stop(signum)
        return
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:  # the default action: end the process by that signal
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def is_stop_handler(handler) -> bool:
    """Whether `handler` is the one install_stop_handlers set (it raises KeyboardInterrupt on
    SIGINT when no call runs, as Python's default does)."""
    return handler is _on_stop_signal


@contextmanager
def stop_requests(request_stop: Callable[[int], None]):
    """While the body (a Julia call) runs, SIGINT, SIGTERM and SIGHUP call `request_stop(signum)`
    instead of ending the process, whichever thread runs it."""
    install_stop_handlers()
    me = threading.get_ident()
    _running[me] = request_stop
    # In the main thread, ours for the call even where the host reset them since (a Jupyter
    # kernel sets Python's default SIGINT handler while it runs a cell).
    replaced = {}
    if threading.current_thread() is threading.main_thread():
        replaced = {signum: signal.signal(signum, _on_stop_signal) for signum in STOP_SIGNALS
                    if signal.getsignal(signum) is not _on_stop_signal}
    try:
        yield
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)
        _running.pop(me, None)


def stop_running_calls(signum: int, timeout: float) -> None:
    """Asks every call under way to stop, as `signum` would, and waits up to `timeout` seconds
    for them to finish (a training run saves its epoch in progress first)."""
    for request_stop in list(_running.values()):
        request_stop(signum)
    deadline = time.monotonic() + timeout
    while _running and time.monotonic() < deadline:
        time.sleep(0.05)


def leave(code: int) -> None:
    """Ends the process now with `code`, its output flushed, without running libmxnet's C++
    static destructors: under ps-lite's threads (a parameter-server node that failed or was
    stopped leaves them running) or Julia's start still under way, they end it with SIGABRT
    ("terminate called without an active exception") after the message. Files are written and
    a run's lock released by the time it is called."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream that cannot take its last output: leave all the same
            pass
    os._exit(code)


class InterruptWatch:
    """Ends the process on Ctrl-C where Python cannot raise KeyboardInterrupt: while Julia starts
    (`julia_started()` is False), no handler of the command's own takes SIGINT, and the main
    thread has not answered within a second.

    With `node_grace` (a node of a parameter-server job) it also ends the process that many
    seconds after a stop signal (SIGINT, SIGTERM, SIGHUP) if it is still there: a node blocked in
    ps-lite, waiting for one that is gone, never gets back to Julia or Python to see the signal
    (the scheduler and the servers are blocked there until the job ends). Over ssh nothing else
    could end it once its launcher has gone."""

    def __init__(self, julia_started: Callable[[], bool], node_grace: float | None = None):
        self.julia_started = julia_started
        self.node_grace = node_grace
        self.node_stopping = False
        self.said = threading.Lock()       # whoever takes it reports the interrupt
        self.leaving = threading.Event()   # main() is done: the exit under way is its own

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        try:
            signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)  # bytes: signal numbers
        except (ValueError, OSError):
            os.close(read_end)
            os.close(write_end)
            return
        threading.Thread(target=self._watch, args=(read_end,), name="pyjlchar-interrupts", daemon=True).start()

    def _watch(self, read_end: int) -> None:
        while True:
            received = os.read(read_end, 64)
            stops = [s for s in received if s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
            if stops and self.node_grace is not None and not self.node_stopping:
                self.node_stopping = True
                timer = threading.Timer(self.node_grace, self._leave_job, args=(stops[0],))
                timer.daemon = True
                timer.start()
            if signal.SIGINT not in received:
                continue
            time.sleep(1.0)  # the main thread answers itself wherever Python can raise
            # A handler of the command's own (`pyjlchar launch` stopping its job) answers it.
            handler = signal.getsignal(signal.SIGINT)
            answered = handler is not signal.default_int_handler and not is_stop_handler(handler)
            if self.leaving.is_set() or self.julia_started() or answered:
                continue
            if self.said.acquire(blocking=False):
                try:
                    os.write(2, b"\ninterrupted\n")
                except OSError:
                    pass
                os._exit(130)

    def _leave_job(self, signum: int) -> None:
        if self.leaving.is_set():
            return
        try:
            os.write(2, f"\nstill blocked in the parameter-server job {self.node_grace:g} s after the stop "
                        "signal (a node it waits for is gone): leaving it\n".encode())
        except OSError:
            pass
        os._exit(128 + signum)

    def report(self, message: str = "interrupted") -> None:
        """Says `message` unless the watcher already said it."""
        if self.said.acquire(blocking=False):
            print(message, file=sys.stderr, flush=True)
