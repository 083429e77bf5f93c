"""Building pyjlchar's Julia system image (bridge/image.py picks the one Julia starts on).

It is built the way PackageCompiler builds one: Julia, started in output mode on its own image,
loads PyJLChar and replays the bridge requests the commands make for a tiny run
(`write_requests`: train with either graph, resume, loading a model with either graph, sample,
eval, a text stream, corpus info, visualize, doctor and a call failing with a UserError, each
after the outcome expected, "ok" or "error"; julia/precompile/replay.jl replays them). They are
made by the same functions the commands use (commands.py), so the image compiles what the
commands run, with the argument types they pass; everything compiled is written as an object
file, which `ld` links into a shared library.

`python -m pyjlchar.ops.image_build build|status`; `pyjlchar setup` builds it when missing or stale.
"""
from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .. import commands, settings as table
from ..bridge import image, paths
from ..bridge.wire import encode_request
from ..errors import UserError

REPLAY = paths.ROOT / "julia" / "precompile" / "replay.jl"
LAST_HANDLE = 0  # Bridge.jl's handles start at 1: replay.jl puts the last one returned in its place


def synthetic_text(n_chars: int, seed: int = 1) -> str:
    """Play-like text (speakers' lines of random words) for tiny runs, the same for the same seed."""
    rng = random.Random(seed)
    words = ("the and my lord thou art not what shall we do good sir king come hence "
             "speak love night upon her his heart death o may well").split()
    parts, size = [], 0
    while size < n_chars:
        speaker = rng.choice(("ROMEO", "JULIET", "KING", "Nurse", "First Citizen"))
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        parts.append(f"{speaker}:\n{sentence.capitalize()}{rng.choice('.,;!?')}\n\n")
        size += len(parts[-1])
    return "".join(parts)[:n_chars]


def write_requests(work: Path) -> Path:
    """Writes the tiny run's corpus and requests into `work`; returns the requests file."""
    corpus = work / "corpus.txt"
    corpus.write_text(synthetic_text(12_000), encoding="utf-8")
    tiny = {"data.corpus": str(corpus), "model.name": "replay", "model.hidden": 16, "model.embed": 16,
            "run.epochs": 1, "run.checkpoint_dir": str(work / "run"), "sample.length": 20}
    unrolled = table.load_config(None, {**tiny, "model.graph": "unrolled"})
    fused = table.load_config(None, {**tiny, "run.checkpoint_dir": str(work / "fused")})
    params = str(work / "run" / "replay-0001.params")
    prefix = str(work / "run" / "replay")
    drawing = table.DRAWING
    snowman = table.load_config(None, {**tiny, "sample.prime": "\u2603"})
    calls = [("ok", commands.train(unrolled, resume=False)),
             ("ok", commands.train(fused, resume=False)),
             ("ok", commands.train(table.load_config(None, {**tiny, "model.graph": "unrolled", "run.epochs": 2}),
                                   resume=True)),
             ("ok", commands.load_model(params, "cpu", "unrolled")),
             ("ok", commands.sample(LAST_HANDLE, unrolled, seed=1)),
             ("ok", commands.load_model(prefix, "cpu", "fused")),
             ("ok", commands.sample(LAST_HANDLE, unrolled, seed=1)),
             ("error", commands.sample(LAST_HANDLE, snowman, seed=1)),
             ("ok", commands.evaluate(LAST_HANDLE, [str(corpus)], streams=4)),
             ("ok", commands.evaluate_text(LAST_HANDLE, "KING:\nGood night.", streams=None)),
             ("ok", commands.open_stream(LAST_HANDLE, unrolled, seed=1)),
             ("ok", commands.stream_next(LAST_HANDLE, 40)),
             ("ok", commands.free([LAST_HANDLE])),
             ("ok", commands.corpus_info(unrolled)),
             ("ok", commands.graph(table.load_config(None, {"model.graph": "unrolled", "model.layers": 1}),
                                   vocab=drawing["vocab"], steps=drawing["steps"], batch=drawing["batch"])),
             ("ok", commands.system_info())]
    requests = work / "requests.txt"
    requests.write_text("".join(f"{expect} {encode_request(call.fn, (), call.kwargs, []).decode()}\n"
                                for expect, call in calls), encoding="utf-8")
    return requests


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
    info = paths.julia_info()
    image.image_dir().mkdir(parents=True, exist_ok=True)
    with _locked(image.image_dir() / "build.lock"):
        key = image.image_key(info)
        target = image.image_dir() / f"pyjlchar-{key}.so"
        if target.is_file():
            return target
        linker = shutil.which("ld")
        if linker is None:
            raise UserError("building the system image needs the linker `ld`: install binutils "
                            "(apt-get install binutils), or set PYJLCHAR_SYSIMAGE=off to do without it")
        env = {**os.environ, **paths.julia_environment(info, None)}
        for leftover in image.image_dir().glob("build-*"):  # of a build that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix="build-", dir=image.image_dir()))
        log = work / "build.log"
        try:
            _say(f"building {target.name}: Julia compiles PyJLChar and a tiny run into it "
                "(several minutes, once per change of the Julia sources)")
            started = time.monotonic()
            obj, linked = work / "sys.o", work / "sys.so"

            def check_sources(line: str) -> None:
                # Julia has read the sources now: they must still be the ones the key was made of.
                if line.startswith("replay: PyJLChar loaded") and image.image_key(info) != key:
                    raise UserError("the Julia sources changed while the image was being built: build it again")

            _run([info.executable, "--startup-file=no", "--history-file=no", f"--sysimage={info.sysimage}",
                  "--sysimage-native-code=yes", f"--output-o={obj}", str(REPLAY), str(write_requests(work))],
                 env, "Julia's output run", log, check_sources)
            failures = [line for line in log.read_text(errors="replace").splitlines()
                        if line.startswith("replay: ") and "unexpectedly" in line]
            for line in failures:
                _say(f"warning: {line} (the image works, but compiles that call at run time)")
            libjulia = Path(info.libjulia)
            _run([linker, "-shared", "-o", str(linked), "--whole-archive", str(obj), "--no-whole-archive",
                  f"-L{libjulia.resolve().parent}", f"-l:{libjulia.name}", "-l:libm.so.6", "-l:libgcc_s.so.1",
                  "-l:libc.so.6"], env, "linking the image", log)
            # An image Julia cannot start would abort every command: try it before it is used.
            _run([info.executable, "--startup-file=no", f"--sysimage={linked}", "-e",
                  "using PyJLChar; PyJLChar.system_info()"], env, "starting Julia on the new image", log)
            seconds = time.monotonic() - started
            meta = {"key": key, "build_seconds": round(seconds, 1), "size_bytes": linked.stat().st_size,
                    "built": time.strftime("%Y-%m-%dT%H:%M:%S"), "replay_failures": failures}
            target.with_suffix(".json").write_text(json.dumps(meta))
            os.replace(linked, target)
            for old in image.image_dir().glob("pyjlchar-*"):
                if old.stem != target.stem:
                    old.unlink()
            _say(f"built {target} ({meta['size_bytes'] / 2**20:.0f} MB) in {seconds:.0f} s")
            return target
        finally:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv not in (["build"], ["status"]):
        print("usage: python -m pyjlchar.ops.image_build build|status", file=sys.stderr)
        return 2
    try:
        if argv == ["status"]:
            print(json.dumps(image.status(paths.julia_info()), indent=2))
        elif image.setting() == "off":
            print("sysimage: PYJLCHAR_SYSIMAGE=off: not building it", file=sys.stderr)
        else:
            build()
    except UserError as e:
        print(f"sysimage: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
