"""`scripts/gpu-check`: pyjlchar on this machine's NVIDIA GPU, checked in one command.

It picks the CUDA build of libmxnet 1.9.1 (a `mxnet-cu1xx` wheel) that this driver and GPU can
run, installs it into its own environment in pyjlchar's cache (only its libmxnet.so is used:
pyjlchar never imports the wheel's Python part), points MXNET_LIBRARY_PATH at it, and runs
`pyjlchar doctor`, the GPU tests (tests/test_gpu.py) and `pyjlchar bench --context gpu` on it.
One JSON summary goes to stdout, everything else to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from ..bridge import paths
from ..bridge.gpus import WHEELS, nvidia_gpus, runs_on, wheel_name
from ..bridge.paths import MXNET_VERSION
from ..errors import UserError

BENCH_SECONDS = 5  # per cell: enough for a steady rate on a GPU, short enough for a lent machine


def choose_wheel(driver_cuda: tuple[int, int], capabilities: list[tuple[int, int]]) -> str:
    """The pip requirement of the newest libmxnet 1.9.1 GPU wheel that a driver supporting CUDA
    `driver_cuda` runs and that has kernels for every GPU's compute capability; a UserError
    that says what to do when none fits."""
    fits_driver = [cuda for cuda in WHEELS if cuda <= driver_cuda]
    if not fits_driver:
        raise UserError(f"the NVIDIA driver supports CUDA {driver_cuda[0]}.{driver_cuda[1]}, and the GPU builds of "
                        f"libmxnet {MXNET_VERSION} need CUDA 11.0 or newer: update the NVIDIA driver")
    fits = [cuda for cuda in fits_driver if all(runs_on(WHEELS[cuda], cap) for cap in capabilities)]
    if not fits:
        missing = sorted({f"{cap[0]}.{cap[1]}" for cap in capabilities
                          if not any(runs_on(WHEELS[cuda], cap) for cuda in fits_driver)})
        raise UserError(f"no GPU build of libmxnet {MXNET_VERSION} on PyPI has kernels for compute capability "
                        f"{', '.join(missing)} (they cover 5.x to 8.x): build libmxnet {MXNET_VERSION} from source "
                        f"for this GPU (MXNET_CUDA_ARCH={missing[0]}) and pass it with --library PATH/libmxnet.so")
    return f"{wheel_name(max(fits))}=={MXNET_VERSION}"


_WHEEL_FILE = re.compile(r"mxnet_cu(\d\d)(\d+)-" + re.escape(MXNET_VERSION) + r"-.*\.whl")


def wheel_cuda(path: Path) -> tuple[int, int]:
    """The CUDA version of a local mxnet-cu1xx wheel, from its file name."""
    match = _WHEEL_FILE.fullmatch(path.name)
    if match is None:
        raise UserError(f"{path.name} is not a GPU wheel of libmxnet {MXNET_VERSION}: pass a file named like "
                        f"mxnet_cu117-{MXNET_VERSION}-py3-none-manylinux2014_x86_64.whl "
                        f"(pip download --no-deps mxnet-cu117=={MXNET_VERSION})")
    return int(match[1]), int(match[2])


def install(what: str, log) -> Path:
    """libmxnet.so of `what` (a pip requirement or a wheel file), installed without its
    dependencies (their pins, numpy<2 among them, are the unused Python part's) into
    cache_dir()/gpu-venv, which is kept: the same `what` again installs nothing."""
    venv = paths.cache_dir() / "gpu-venv"
    stamp = venv / "pyjlchar-installed.txt"
    key = what if not os.path.isfile(what) else f"{Path(what).resolve()}:{os.path.getsize(what)}"
    if not (stamp.is_file() and stamp.read_text() == key):
        shutil.rmtree(venv, ignore_errors=True)  # another wheel's mxnet/ would mix with this one's
        log(f"installing {what} into {venv} (without dependencies) ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
        out = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps",
                              "--disable-pip-version-check", what], stdout=sys.stderr)
        if out.returncode != 0:
            if what.endswith(".whl"):
                raise UserError(f"pip could not install {what} (exit {out.returncode}, see above): pass a complete "
                                f"wheel, e.g. from pip download --no-deps mxnet-cu117=={MXNET_VERSION}")
            raise UserError(f"pip could not install {what} (exit {out.returncode}, see above): without network, "
                            f"fetch the wheel elsewhere (pip download --no-deps {what}) and pass it with --wheel PATH")
        stamp.write_text(key)
    libraries = sorted(venv.glob("lib/python*/site-packages/mxnet/libmxnet.so"))
    if not libraries:
        raise UserError(f"{what} installed no mxnet/libmxnet.so: pass a wheel of libmxnet {MXNET_VERSION} "
                        "(mxnet-cu1xx) with --wheel, or a libmxnet.so with --library")
    return libraries[0]


def _run_json(command: list[str], env: dict) -> tuple[dict | None, str]:
    """A pyjlchar command's JSON output, or None and the last line of its stderr."""
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    sys.stderr.write(out.stderr)
    try:
        return json.loads(out.stdout), ""
    except ValueError:
        lines = out.stderr.strip().splitlines()
        return None, lines[-1] if lines else f"exit {out.returncode}, no output"


def _test_results(junit: Path) -> dict:
    results = {"passed": 0, "failed": 0, "skipped": 0, "failures": [], "skip_reasons": []}
    for case in ElementTree.parse(junit).iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            results["failed"] += 1
            results["failures"].append(name)
        elif case.find("skipped") is not None:
            results["skipped"] += 1
            results["skip_reasons"].append(f"{name}: {case.find('skipped').get('message', '')}")
        else:
            results["passed"] += 1
    return results


def run_checks(env: dict, device: str = "gpu", bench_seconds: float = BENCH_SECONDS) -> dict:
    """`pyjlchar doctor`, the tests of tests/test_gpu.py on `device` and `pyjlchar bench
    --context device`, each in a fresh process with `env`: their results and the problems found
    ("ok" when there is none). `device` "cpu" checks this pipeline on a machine without a GPU."""
    pyjlchar = [sys.executable, "-m", "pyjlchar"]
    summary: dict = {"device": device, "problems": []}
    problems = summary["problems"]

    print("gpu-check: pyjlchar doctor ...", file=sys.stderr)
    doctor, failed = _run_json([*pyjlchar, "doctor", "--json"], env)
    if doctor is None:
        problems.append(f"pyjlchar doctor failed: {failed}")
    else:
        mxnet = doctor.get("mxnet", {})
        summary["doctor"] = {"ok": doctor["ok"], "problems": doctor["problems"], "library": mxnet.get("library"),
                             "version": mxnet.get("version"), "cuda": "CUDA" in mxnet.get("features", []),
                             "cudnn": "CUDNN" in mxnet.get("features", []), "gpu_count": mxnet.get("gpu_count")}
        problems += [f"pyjlchar doctor: {p}" for p in doctor["problems"]]
        if device != "cpu" and doctor["ok"] and not (summary["doctor"]["cuda"] and summary["doctor"]["gpu_count"]):
            problems.append(f"libmxnet {mxnet.get('library')} is built without CUDA" if not summary["doctor"]["cuda"]
                            else f"libmxnet {mxnet.get('library')} sees no GPU")
    if problems:  # the tests would only be skipped, and bench would fail the same way
        summary["ok"] = False
        return summary

    tests = paths.ROOT / "tests" / "test_gpu.py"
    print(f"gpu-check: pytest -m gpu {tests} on {device} ...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="pyjlchar-gpu-check-") as work:
        junit = Path(work) / "junit.xml"
        out = subprocess.run([sys.executable, "-m", "pytest", "-m", "gpu", str(tests), "-p", "no:cacheprovider",
                              "-rs", f"--junitxml={junit}"], stdout=sys.stderr, cwd=paths.ROOT,
                             env={**env, "PYJLCHAR_TEST_DEVICE": device})
        summary["tests"] = {"exit_code": out.returncode,
                            **(_test_results(junit) if junit.is_file() else {"failures": ["pytest wrote no report"]})}
    t = summary["tests"]
    if out.returncode != 0 or t.get("failed"):
        problems.append(f"GPU tests failed: {', '.join(t.get('failures') or [f'pytest exit {out.returncode}'])}")
    elif not t["passed"]:
        problems.append("every GPU test was skipped: " + "; ".join(t["skip_reasons"]))

    print(f"gpu-check: pyjlchar bench --context {device} ...", file=sys.stderr)
    bench, failed = _run_json([*pyjlchar, "bench", "--context", device, "--json", "--no-cold-start",
                               "--seconds", str(bench_seconds)], env)
    if bench is None:
        problems.append(f"pyjlchar bench --context {device} failed: {failed}")
    else:
        summary["bench"] = {key: bench[key] for key in ("context", "train_chars_per_s", "sample_chars_per_s",
                                                          "peak_rss_mb", "model")}
        summary["bench"]["gpus"] = bench["machine"].get("gpus")
    summary["ok"] = not problems
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/gpu-check", description=__doc__.split("\n\n")[1])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--wheel", metavar="PATH",
                        help=f"install this mxnet_cu1xx-{MXNET_VERSION} wheel file instead of asking pip's index "
                             "(for a machine without network)")
    source.add_argument("--library", metavar="PATH",
                        help="use this libmxnet.so (e.g. one built for this GPU) and install nothing")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(f"gpu-check: {line}", file=sys.stderr)

    try:
        # What was typed first, then the machine.
        if args.library and not os.path.isfile(args.library):
            raise UserError(f"--library {args.library} is not a file: pass the path of a libmxnet.so")
        if args.wheel:
            if not os.path.isfile(args.wheel):
                raise UserError(f"--wheel {args.wheel} is not a file: pass the path of a downloaded "
                                f"mxnet_cu1xx-{MXNET_VERSION} wheel")
            cuda = wheel_cuda(Path(args.wheel))
        gpus, driver_cuda = nvidia_gpus()
        capabilities = [gpu["compute_capability"] for gpu in gpus]
        log(f"{len(gpus)} GPU(s): {', '.join(g['name'] for g in gpus)}; the driver supports CUDA "
            f"{driver_cuda[0]}.{driver_cuda[1]}")
        if args.library:
            library, installed = Path(args.library).resolve(), None
        else:
            if args.wheel:
                # The user's choice stands; say what will likely go wrong with it.
                if cuda > driver_cuda:
                    log(f"warning: {args.wheel} needs CUDA {cuda[0]}.{cuda[1]}, newer than the driver's")
                if cuda in WHEELS and not all(runs_on(WHEELS[cuda], cap) for cap in capabilities):
                    log(f"warning: {wheel_name(cuda)} has no kernels for compute capability "
                        f"{', '.join(f'{c[0]}.{c[1]}' for c in capabilities)}")
                installed = str(Path(args.wheel).resolve())
            else:
                installed = choose_wheel(driver_cuda, capabilities)
            library = install(installed, log)
        log(f"libmxnet: {library}")
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    env = {**os.environ, "MXNET_LIBRARY_PATH": str(library)}
    summary = {"ok": False, "gpus": [{**g, "compute_capability": "%d.%d" % g["compute_capability"]} for g in gpus],
               "driver_cuda": "%d.%d" % driver_cuda, "installed": installed, "libmxnet": str(library)}
    summary.update(run_checks(env, "gpu"))
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
