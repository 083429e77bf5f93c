"""`pyjlchar setup`: what pyjlchar needs beyond its Python packages, installed where it can be
and named where it cannot.

In order: Julia >= 1.5 ($JULIA or `julia` on PATH; on Debian, as root, Julia 1.5.3 from Debian
bullseye behind a low-priority pin, which keeps every other package on the system's release),
the system libraries (libgomp1, which libmxnet needs, and Graphviz, for drawings), libmxnet
(the mxnet wheel, installed without its dependencies, whose pins are older than pyjlchar's),
the private libunwind 1.3.2 that Julia 1.5 needs on Debian 12 (it crashes on the system's
1.6), and pyjlchar's Julia system image. Every step checks first, so a second run is quick.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from . import image_build
from ..bridge import image, paths
from ..bridge.paths import MXNET_VERSION
from ..errors import UserError

_BULLSEYE_LIST = Path("/etc/apt/sources.list.d/pyjlchar-bullseye.list")
_BULLSEYE_PIN = Path("/etc/apt/preferences.d/pyjlchar-bullseye")


def is_debian() -> bool:
    return Path("/etc/debian_version").is_file() and shutil.which("apt-get") is not None


def _as_root(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo"):
        return ["sudo", *cmd]
    raise UserError(f"`{' '.join(cmd)}` needs root: run `sudo pyjlchar setup`, or install what it installs yourself")


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise UserError(f"{what} failed ({last})")


class _Apt:
    """apt-get, its package lists refreshed once per setup and only when something is installed."""

    def __init__(self):
        self.updated = False

    def missing(self, packages: list[str]) -> list[str]:
        def installed(p):
            out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
            return "ok installed" in out.stdout
        return [p for p in packages if not installed(p)]

    def update(self) -> None:
        if not self.updated:
            _run(_as_root(["apt-get", "update", "-qq"]), "apt-get update")
            self.updated = True

    def install(self, packages: list[str]) -> str:
        wanted = self.missing(packages)
        if not wanted:
            return "present"
        self.update()
        _run(_as_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *wanted]),
             f"apt-get install {' '.join(wanted)}")
        return "installed " + " ".join(wanted)


def _julia_works(exe: str) -> bool:
    done = subprocess.run([exe, "--startup-file=no", "-e", 'VERSION >= v"1.5" || exit(1)'], capture_output=True)
    return done.returncode == 0


def julia_step(apt: _Apt) -> str:
    given = os.environ.get("JULIA")
    if given:
        if not (shutil.which(given) and _julia_works(shutil.which(given))):
            raise UserError(f"JULIA={given} is not a working Julia >= 1.5: point it at one, or unset it")
        return f"JULIA={given}"
    found = shutil.which("julia")
    if found and _julia_works(found):
        return found
    if not is_debian():
        raise UserError("no Julia >= 1.5 was found: install one (https://julialang.org/downloads), put it on "
                        "PATH or set JULIA=/path/to/julia, then run `pyjlchar setup` again")
    if not _BULLSEYE_LIST.exists():
        # Debian 12 has no julia; bullseye's 1.5.3, pinned low so that nothing else comes from there.
        for path, text in ((_BULLSEYE_LIST, "deb http://deb.debian.org/debian bullseye main\n"),
                           (_BULLSEYE_PIN, "Package: *\nPin: release n=bullseye\nPin-Priority: 100\n")):
            _run(_as_root(["sh", "-c", f"printf '%s' '{text}' > {path}"]), f"writing {path}")
        apt.updated = False
    try:
        apt.install(["julia"])
    except UserError as e:
        raise UserError(f"Julia could not be installed from Debian bullseye ({e}); if bullseye has moved to "
                        "archive.debian.org, install Julia >= 1.5 yourself and set JULIA") from None
    return "installed julia 1.5.3 from Debian bullseye"


def libraries_step(apt: _Apt) -> str:
    if is_debian():
        return apt.install(["libgomp1", "graphviz"])
    return "present" if shutil.which("dot") else "install Graphviz to draw networks"


def mxnet_step() -> str:
    try:
        return str(paths.libmxnet_path())
    except UserError:
        pass
    _run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
          f"mxnet=={MXNET_VERSION}"], f"pip install mxnet=={MXNET_VERSION}")
    importlib.invalidate_caches()
    return f"installed mxnet=={MXNET_VERSION} (for its libmxnet.so)"


def libunwind_step(apt: _Apt) -> str:
    info = paths.julia_info()
    if not info.needs_old_libunwind:
        return f"not needed by Julia {info.version}"
    target = paths.libunwind_dir()
    if (target / "libunwind.so.8").exists():
        return str(target)
    if not is_debian():
        raise UserError("Julia 1.5 needs libunwind 1.3.2 and this is not Debian: put libunwind.so.8 of version "
                        f"1.3 in {target}, or use Julia >= 1.6")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # apt-get download may drop to the _apt user
        download = ["apt-get", "download", "-qq", "libunwind8=1.3.2-2"]
        if subprocess.run(download, cwd=tmp, capture_output=True).returncode != 0:
            apt.update()
            done = subprocess.run(download, cwd=tmp, capture_output=True, text=True)
            if done.returncode != 0:
                raise UserError("could not download libunwind8 1.3.2-2 from Debian bullseye "
                                f"({done.stderr.strip()[-200:]}): check that apt can reach it")
        deb = glob.glob(os.path.join(tmp, "libunwind8_*.deb"))[0]
        _run(["dpkg-deb", "-x", deb, os.path.join(tmp, "x")], "unpacking libunwind8")
        target.mkdir(parents=True, exist_ok=True)
        for lib in glob.glob(os.path.join(tmp, "x", "usr", "lib", "*", "libunwind*.so.*")):
            shutil.copy2(lib, target, follow_symlinks=False)
    return f"fetched into {target}"


def sysimage_step(apt: _Apt) -> str:
    if image.setting() == "off":
        return "skipped (PYJLCHAR_SYSIMAGE=off)"
    if shutil.which("ld") is None and is_debian():
        apt.install(["binutils"])
    return str(image_build.build())


def run(log: Callable[[str], None]) -> None:
    """Runs every step, saying what each found or did; a step that cannot be done ends it."""
    apt = _Apt()
    steps = [("Julia", lambda: julia_step(apt)), ("libgomp1 and Graphviz", lambda: libraries_step(apt)),
             ("libmxnet", mxnet_step), ("libunwind for Julia 1.5", lambda: libunwind_step(apt)),
             ("pyjlchar's Julia system image (minutes, once per version)", lambda: sysimage_step(apt))]
    for i, (what, step) in enumerate(steps, 1):
        log(f"setup: [{i}/{len(steps)}] {what} ...")
        log(f"setup: [{i}/{len(steps)}] {what}: {step()}")
