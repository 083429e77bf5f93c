"""pyjlchar's own Julia system image: PyJLChar with native code, so commands skip compiling it.

Julia 1.5 saves no native code for packages, so every process compiled what it ran: about ten
seconds before the first sample. `build()` makes a system image the way PackageCompiler does:
Julia, started in output mode on its own image, loads PyJLChar and replays the bridge requests
that the commands make for a tiny run (workload.py writes them, julia/precompile/workload.jl
replays them); everything it compiled is written as an object file, which `ld` links into a
shared library.

The image is cached under a key hashed from everything baked into it (the Julia sources and
environment, Julia's own image, libmxnet, the CPU the code was compiled for), so `choose()`
only ever picks an image made from what is on disk now, and Julia's own image otherwise.
PYJLCHAR_SYSIMAGE=off never uses (nor builds) it.

`python -m pyjlchar.sysimage build|status`; `pyjlchar setup` builds it when missing or stale.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from . import runtime, workload
from .errors import UserError

# Bump when the build itself changes what goes into an image.
FORMAT = 1
WORKLOAD = runtime.ROOT / "julia" / "precompile" / "workload.jl"
_BAKED_FILES = ("Project.toml", "Manifest.toml", "julia/Project.toml")
_BAKED_DIRS = ("julia/src", "julia/precompile")


def image_dir() -> Path:
    return runtime.cache_dir() / "sysimage"


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


def image_key(info: runtime.JuliaInfo, root: Path = runtime.ROOT) -> str:
    """A hash of everything the image bakes in; any change names a different image."""
    digest = hashlib.sha256()

    def add(text: str, data: bytes = b"") -> None:
        digest.update(text.encode() + b"\0" + data + b"\0")

    add(f"format {FORMAT}; julia {info.version}; cpu {_cpu()}")
    for path in (info.sysimage, info.libjulia, runtime.libmxnet_path()):
        add(_file_id(path))
    for rel in _BAKED_FILES:
        path = root / rel
        add(rel, path.read_bytes() if path.is_file() else b"")
    for rel in _BAKED_DIRS:
        for path in sorted((root / rel).rglob("*.jl")):
            add(path.relative_to(root).as_posix(), path.read_bytes())
    return digest.hexdigest()[:20]


def image_path(info: runtime.JuliaInfo) -> Path:
    return image_dir() / f"pyjlchar-{image_key(info)}.so"


def choose(info: runtime.JuliaInfo) -> tuple[str, str]:
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


def status(info: runtime.JuliaInfo) -> dict:
    """What `doctor` reports: the image for these sources, whether it exists, and its build."""
    path = image_path(info)
    report = {"setting": setting(), "path": str(path), "fresh": path.is_file()}
    try:
        report.update(json.loads(path.with_suffix(".json").read_text()))
    except (OSError, ValueError):
        pass
    return report


def _say(text: str) -> None:
    print(f"sysimage: {text}", file=sys.stderr, flush=True)


@contextmanager
def _locked(path: Path):
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say("waiting for the build another process is running")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _run(cmd: list[str], env: dict, what: str, log: Path, on_line=None) -> None:
    """Runs `cmd` with its output in `log`; `on_line` sees each line and may stop the run by raising."""
    with open(log, "a") as out, subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                 text=True, errors="replace") as proc:
        for line in proc.stdout:
            out.write(line)
            try:
                if on_line is not None:
                    on_line(line)
            except BaseException:
                proc.kill()
                raise
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        raise UserError(f"{what} failed (exit {proc.returncode}):\n  " + "\n  ".join(tail) +
                        "\nFix the cause above and build again, or set PYJLCHAR_SYSIMAGE=off to do without the image")


def build() -> Path:
    """Builds the image for the sources on disk unless it exists; returns its path."""
    info = runtime.julia_info()
    image_dir().mkdir(parents=True, exist_ok=True)
    with _locked(image_dir() / "build.lock"):
        key = image_key(info)
        target = image_dir() / f"pyjlchar-{key}.so"
        if target.is_file():
            return target
        linker = shutil.which("ld")
        if linker is None:
            raise UserError("building the system image needs the linker `ld`: install binutils "
                            "(apt-get install binutils), or set PYJLCHAR_SYSIMAGE=off to do without it")
        env = {**os.environ, **runtime.julia_environment(info, None)}
        for leftover in image_dir().glob("build-*"):  # of a build that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix="build-", dir=image_dir()))
        log = work / "build.log"
        try:
            _say(f"building {target.name}: Julia compiles PyJLChar and a tiny run into it "
                "(several minutes, once per change of the Julia sources)")
            started = time.monotonic()
            obj, image = work / "sys.o", work / "sys.so"

            def check_sources(line: str) -> None:
                # Julia has read the sources now: they must still be the ones the key was made of.
                if line.startswith("workload: PyJLChar loaded") and image_key(info) != key:
                    raise UserError("the Julia sources changed while the image was being built: build it again")

            _run([info.executable, "--startup-file=no", "--history-file=no", f"--sysimage={info.sysimage}",
                  "--sysimage-native-code=yes", f"--output-o={obj}", str(WORKLOAD), str(workload.write_requests(work))],
                 env, "Julia's output run", log, check_sources)
            failures = [line for line in log.read_text(errors="replace").splitlines()
                        if line.startswith("workload: ") and "unexpectedly" in line]
            for line in failures:
                _say(f"warning: {line} (the image works, but compiles that call at run time)")
            libjulia = Path(info.libjulia)
            _run([linker, "-shared", "-o", str(image), "--whole-archive", str(obj), "--no-whole-archive",
                  f"-L{libjulia.resolve().parent}", f"-l:{libjulia.name}", "-l:libm.so.6", "-l:libgcc_s.so.1",
                  "-l:libc.so.6"], env, "linking the image", log)
            # An image Julia cannot start would abort every command: try it before it is used.
            _run([info.executable, "--startup-file=no", f"--sysimage={image}", "-e",
                  "using PyJLChar; PyJLChar.system_info()"], env, "starting Julia on the new image", log)
            seconds = time.monotonic() - started
            meta = {"key": key, "build_seconds": round(seconds, 1), "size_bytes": image.stat().st_size,
                    "built": time.strftime("%Y-%m-%dT%H:%M:%S"), "workload_failures": failures}
            target.with_suffix(".json").write_text(json.dumps(meta))
            os.replace(image, target)
            for old in image_dir().glob("pyjlchar-*"):
                if old.stem != target.stem:
                    old.unlink()
            _say(f"built {target} ({meta['size_bytes'] / 2**20:.0f} MB) in {seconds:.0f} s")
            return target
        finally:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv not in (["build"], ["status"]):
        print("usage: python -m pyjlchar.sysimage build|status", file=sys.stderr)
        return 2
    try:
        if argv == ["status"]:
            print(json.dumps(status(runtime.julia_info()), indent=2))
        elif setting() == "off":
            print("sysimage: PYJLCHAR_SYSIMAGE=off: not building it", file=sys.stderr)
        else:
            build()
    except UserError as e:
        print(f"sysimage: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
