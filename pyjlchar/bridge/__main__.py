"""`python -m pyjlchar.bridge [julia args...]`: runs Julia with the project's settings, on
pyjlchar's system image when one is built for these sources and no image is given."""
import os
import sys

from . import image, paths, threads
from ..errors import UserError


def main(argv: list[str]) -> None:
    info = paths.julia_info()
    env = {**os.environ, **paths.julia_environment(info, None),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS") or str(threads.available())}
    given = any(a.startswith("-J") or a == "--sysimage" or a.startswith("--sysimage=") for a in argv)
    chosen = [] if given else [f"--sysimage={image.choose(info)[0]}"]
    os.execve(info.executable, [info.executable, "--startup-file=no", *chosen, *argv], env)


try:
    main(sys.argv[1:])
except UserError as e:
    sys.exit(f"error: {e}")
