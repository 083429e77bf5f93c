"""ssh for the tests of `pyjlchar launch --hosts`, on this machine: `fake_ssh.py [OPTIONS] HOST
COMMAND...` runs COMMAND as sshd runs it for `ssh -tt`: under `sh -c`, leading a session of its
own on a new pseudo-terminal. Bytes on stdin are typed into that terminal (Ctrl-C there is SIGINT
to the command), what the command writes comes out on stdout, and when this process ends, killed
included, the terminal hangs up and the command gets SIGHUP. The options and HOST are ignored;
the exit code is the command's, or 255 when a signal ended it, as ssh's."""
import os
import pty
import select
import sys


def main() -> None:
    args = sys.argv[1:]
    while args[0].startswith("-"):
        if args.pop(0) == "-o":
            args.pop(0)
    command = " ".join(args[1:])  # ssh joins the words after the host with spaces
    pid, terminal = pty.fork()
    if pid == 0:
        os.execvp("sh", ["sh", "-c", command])
    inputs = [sys.stdin.fileno(), terminal]
    while terminal in inputs:
        for fd in select.select(inputs, [], [])[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: every process on the terminal has closed it
                data = b""
            if fd == terminal:
                if data:
                    os.write(sys.stdout.fileno(), data)
                else:
                    inputs.remove(terminal)
            elif data:
                os.write(terminal, data)
            else:
                inputs.remove(fd)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 255)


main()
