"""The command's standard streams and Ctrl-C, as a demanding user expects them.

- stdout carries the data (samples, DOT, reports). When it cannot take it (a full device, a
  closed stdout, an I/O error) writing raises `OutputError`, which the command reports in one
  sentence (exit 1) rather than lose the data quietly; a pipe closed by its reader (`| head`)
  ends the command quietly with exit 1, as Python's documentation recommends.
- stderr carries logs and messages. When it is closed or cannot be written (`2>&-`,
  `2>/dev/full`, a gone reader) they are dropped as with `2>/dev/null`, and the command goes
  on: a log line that cannot be shown is no reason to lose a training run.
- A closed file descriptor 0, 1 or 2 is opened on /dev/null first, so that no file Julia or
  libmxnet opens later takes its number and receives output meant for a terminal.
- Ctrl-C before Julia runs: where Python cannot raise KeyboardInterrupt (the main thread inside
  C code, such as loading libmxnet), a watcher thread that the signal wakes ends the process
  with "interrupted" (exit 130) when the main thread has not answered within a second. While
  Julia starts on its own thread the main thread waits, and answers. Once Julia runs, Ctrl-C
  reaches it through the bridge's events instead.
"""
from __future__ import annotations

import errno
import io
import os
import signal
import sys
import threading
import time
from typing import Callable

from .errors import OutputError


def _blocking(stream) -> None:
    # Julia's libuv makes a pipe on fd 1 or 2 non-blocking when Julia starts (the flag is the
    # pipe's, shared with the shell), and Python's buffered writer then drops, without an
    # error, what the pipe cannot take at once: `visualize | cat` lost all past 64 KiB.
    try:
        if not os.get_blocking(stream.fileno()):
            os.set_blocking(stream.fileno(), True)
    except (OSError, ValueError):
        pass


class DataOut(io.TextIOWrapper):
    """stdout: a failure to write it is an OutputError. `closed_fd`: stdout was closed."""

    closed_fd = False

    def write(self, s):
        if self.closed_fd:
            raise OutputError(errno.EBADF, "stdout is closed")
        _blocking(self)
        try:
            return super().write(s)
        except OSError as e:
            raise OutputError(e.errno, e.strerror or str(e)) from None

    def flush(self):
        _blocking(self)
        try:
            super().flush()
        except OSError as e:
            raise OutputError(e.errno, e.strerror or str(e)) from None


class LogOut(io.TextIOWrapper):
    """stderr: logs and messages, dropped when they cannot be written."""

    def write(self, s):
        _blocking(self)
        try:
            return super().write(s)
        except (OSError, ValueError):
            return len(s)

    def flush(self):
        _blocking(self)
        try:
            super().flush()
        except (OSError, ValueError):
            pass


def devnull_on(fd: int) -> None:
    """Points file descriptor `fd` at /dev/null."""
    null = os.open(os.devnull, os.O_RDWR)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def guard() -> None:
    """Reopens closed fds 0-2 on /dev/null and puts DataOut and LogOut on fds 1 and 2."""
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            devnull_on(fd)
            closed.add(fd)
    # Text layers over buffered writers of their own: the ones Python makes are unbuffered under
    # PYTHONUNBUFFERED=1 or -u, and its text layer then ignores a partial write (a pipe whose
    # reader has gone) and loses the rest without an error. Only the process's own streams are
    # replaced, not a caller's (e.g. pytest's).
    if sys.stdout is None or sys.stdout is sys.__stdout__:
        old = sys.stdout
        sys.stdout = DataOut(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                             encoding=getattr(old, "encoding", None) or "utf-8",
                             errors=getattr(old, "errors", None) or "strict",
                             line_buffering=bool(getattr(old, "line_buffering", False)))
        sys.stdout.closed_fd = old is None or 1 in closed
    if sys.stderr is None or sys.stderr is sys.__stderr__:
        old = sys.stderr
        sys.stderr = LogOut(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                            encoding=getattr(old, "encoding", None) or "utf-8",
                            errors=getattr(old, "errors", None) or "backslashreplace", line_buffering=True)


def drop_pending_output() -> None:
    """After an OutputError: what stdout still buffers goes nowhere at exit, not into a new error."""
    devnull_on(1)
    if isinstance(sys.stdout, DataOut):
        sys.stdout.closed_fd = False


def output_error_message(e: OutputError) -> str | None:
    """The sentence for an OutputError; None for a reader that has gone (`| head`): quiet."""
    if e.errno == errno.EPIPE:
        return None
    fix = {errno.ENOSPC: "free some space on the device it goes to, or send it elsewhere",
           errno.EBADF: "send it to a file, or to /dev/null to discard it, instead of closing it"}
    return f"error: cannot write the output ({e.reason}): " + fix.get(e.errno, "check the file or device "
                                                                              "that stdout goes to")


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
            answered = signal.getsignal(signal.SIGINT) is not signal.default_int_handler
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
