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


class MXError(JuliaError):
    """libmxnet reported an error (its MXGetLastError text)."""
