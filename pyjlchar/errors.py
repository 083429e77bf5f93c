"""Exceptions shared by the Python layer."""


class UserError(Exception):
    """A problem the user can fix; the CLI prints its one-sentence message and exits 1."""


class JuliaError(Exception):
    """An exception raised in Julia, carrying Julia's message (and backtrace)."""

    def __init__(self, kind: str, message: str, backtrace: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.backtrace = backtrace


class Interrupted(KeyboardInterrupt):
    """A Julia call stopped by a signal: SIGINT (Ctrl-C), SIGTERM (kill, systemd, schedulers) or
    SIGHUP (the terminal went away), or by its caller's stop event (`signum` ON_REQUEST). Julia
    ran its clean-up first (a run saves a checkpoint)."""

    ON_REQUEST = 0

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def what(self) -> str:
        return {2: "interrupted", 15: "terminated (SIGTERM)", 1: "hung up (SIGHUP)",
                self.ON_REQUEST: "stopped on request"}.get(self.signum, "stopped")

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or 2)  # what the shell reports for a process that signal ended


class MXError(JuliaError):
    """libmxnet reported an error (its MXGetLastError text)."""


class OutputError(Exception):
    """stdout could not take the command's output: a full device, a closed stdout, a pipe whose
    reader has gone. Not an OSError, so that no `except OSError` on the way swallows it."""

    def __init__(self, errno: int, reason: str):
        super().__init__(reason)
        self.errno = errno
        self.reason = reason
