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
- Ctrl-C is the bridge's (bridge/host.py).
"""
from __future__ import annotations

import errno
import io
import os
import sys

from ..bridge import host
from ..errors import OutputError


class DataOut(io.TextIOWrapper):
    """stdout: a failure to write it is an OutputError. `closed_fd`: stdout was closed."""

    closed_fd = False

    def write(self, s):
        if self.closed_fd:
            raise OutputError(errno.EBADF, "stdout is closed")
        host.make_blocking(self)
        try:
            return super().write(s)
        except OSError as e:
            raise OutputError(e.errno, e.strerror or str(e)) from None

    def flush(self):
        host.make_blocking(self)
        try:
            super().flush()
        except OSError as e:
            raise OutputError(e.errno, e.strerror or str(e)) from None


class LogOut(io.TextIOWrapper):
    """stderr: logs and messages, dropped when they cannot be written."""

    def write(self, s):
        host.make_blocking(self)
        try:
            return super().write(s)
        except (OSError, ValueError):
            return len(s)

    def flush(self):
        host.make_blocking(self)
        try:
            super().flush()
        except (OSError, ValueError):
            pass


def guard() -> None:
    """Reopens closed fds 0-2 on /dev/null and puts DataOut and LogOut on fds 1 and 2."""
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            host.devnull_on(fd)
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
    host.devnull_on(1)
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
