"""pyjlchar's own Julia system image: PyJLChar with native code, so commands skip compiling it.

Julia 1.5 saves no native code for packages, so a process without it compiles what it runs:
seconds before the first sample. ops/image_build.py builds one; this module picks the image
Julia starts on. An image is cached under a key hashed from everything baked into it (the Julia
sources and environment, Julia's own image, libmxnet, the CPU the code was compiled for), so
`choose()` only ever picks an image made from what is on disk now, and Julia's own image
otherwise. PYJLCHAR_SYSIMAGE=off never uses (nor builds) it.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

from . import paths
from ..errors import UserError

# Bump when the build itself changes what goes into an image.
FORMAT = 1
_BAKED_FILES = ("Project.toml", "Manifest.toml", "julia/Project.toml")
_BAKED_DIRS = ("julia/src", "julia/precompile")


def image_dir() -> Path:
    return paths.cache_dir() / "sysimage"


def setting() -> str:
    value = os.environ.get("PYJLCHAR_SYSIMAGE", "auto") or "auto"
    if value not in ("auto", "off"):
        raise UserError(f"PYJLCHAR_SYSIMAGE={value} is not one of auto, off: fix or unset it")
    return value


def _cpu() -> str:
    # The image holds code compiled for this CPU (Julia's default target is the host's), and
    # Julia aborts on an image made for features the CPU lacks.
    try:
        first = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    except OSError:
        return platform.machine()
    fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
    return " ".join(fields.get(k, "").strip() for k in ("model name", "flags"))


def _file_id(path: str | Path) -> str:
    real = os.path.realpath(path)
    st = os.stat(real)
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"


def image_key(info: paths.JuliaInfo, root: Path = paths.ROOT) -> str:
    """A hash of everything the image bakes in; any change names a different image."""
    digest = hashlib.sha256()

    def add(text: str, data: bytes = b"") -> None:
        digest.update(text.encode() + b"\0" + data + b"\0")

    add(f"format {FORMAT}; julia {info.version}; cpu {_cpu()}")
    for path in (info.sysimage, info.libjulia, paths.libmxnet_path()):
        add(_file_id(path))
    for rel in _BAKED_FILES:
        path = root / rel
        add(rel, path.read_bytes() if path.is_file() else b"")
    for rel in _BAKED_DIRS:
        for path in sorted((root / rel).rglob("*.jl")):
            add(path.relative_to(root).as_posix(), path.read_bytes())
    return digest.hexdigest()[:20]


def image_path(info: paths.JuliaInfo) -> Path:
    return image_dir() / f"pyjlchar-{image_key(info)}.so"


def choose(info: paths.JuliaInfo) -> tuple[str, str]:
    """(the image to start Julia with, why): pyjlchar's when one is built for the sources on
    disk, else Julia's own."""
    if setting() == "off":
        return info.sysimage, "PYJLCHAR_SYSIMAGE=off"
    path = image_path(info)
    if path.is_file():
        return str(path), "built for these sources"
    stale = any(image_dir().glob("pyjlchar-*.so"))
    why = ("the one built is stale (the Julia sources, Julia or libmxnet changed since)" if stale
           else "none is built yet")
    return info.sysimage, f"Julia's own image: {why}; `pyjlchar setup` builds it"


def status(info: paths.JuliaInfo) -> dict:
    """What `doctor` reports: the image for these sources, whether it exists, and its build."""
    path = image_path(info)
    report = {"setting": setting(), "path": str(path), "fresh": path.is_file()}
    try:
        report.update(json.loads(path.with_suffix(".json").read_text()))
    except (OSError, ValueError):
        pass
    return report
