"""scripts/gpu-check (pyjlchar/ops/gpucheck.py) and the GPU facts pyjlchar states before it tries
(pyjlchar/bridge/gpus.py), as far as a machine without a usable GPU can check them: which wheel it
picks, what it reads from nvidia-smi, the one sentence a GPU that no wheel runs on gets (from a
captured nvidia-smi, replayed by a stand-in on PATH), its one-sentence failures and (slow) the
checks it runs, on the CPU."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyjlchar.bridge import gpus
from pyjlchar.ops import gpucheck
from pyjlchar.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
no_nvidia_smi = pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has nvidia-smi")


@pytest.mark.parametrize("driver_cuda, capabilities, wheel", [
    ((12, 4), [(8, 0)], "mxnet-cu117==1.9.1"),     # A100 on a CUDA 12 driver: the newest wheel
    ((11, 4), [(8, 6)], "mxnet-cu114==1.9.1"),     # no newer than the driver
    ((11, 0), [(7, 5)], "mxnet-cu110==1.9.1"),     # T4: sm_70 code runs on 7.5
    ((12, 2), [(8, 9)], "mxnet-cu117==1.9.1"),     # L4: sm_86 code runs on 8.9
    ((11, 8), [(6, 1), (7, 0)], "mxnet-cu117==1.9.1"),
    ((11, 0), [(8, 6)], "mxnet-cu110==1.9.1"),     # cu110 has no sm_86, but its sm_80 runs there
])
def test_the_newest_wheel_the_driver_and_every_gpu_can_run(driver_cuda, capabilities, wheel):
    assert gpucheck.choose_wheel(driver_cuda, capabilities) == wheel


@pytest.mark.parametrize("driver_cuda, capabilities, phrases", [
    ((12, 4), [(9, 0)], ["compute capability 9.0", "MXNET_CUDA_ARCH=9.0", "--library"]),   # H100, H200
    ((12, 4), [(8, 0), (9, 0)], ["compute capability 9.0", "--library"]),                 # a mixed machine
    ((12, 0), [(3, 7)], ["compute capability 3.7"]),                                       # K80
    ((10, 2), [(7, 0)], ["CUDA 10.2", "update the NVIDIA driver"]),
])
def test_no_wheel_fits_is_one_sentence_with_the_fix(driver_cuda, capabilities, phrases):
    with pytest.raises(UserError) as raised:
        gpucheck.choose_wheel(driver_cuda, capabilities)
    message = str(raised.value)
    assert "\n" not in message and ": " in message
    for phrase in phrases:
        assert phrase in message


def test_reads_nvidia_smi():
    csv = "NVIDIA H200, 9.0, 550.54.15\nTesla T4, 7.5, 550.54.15\n"
    assert gpus.parse_gpus(csv) == [
        {"name": "NVIDIA H200", "compute_capability": (9, 0), "driver": "550.54.15"},
        {"name": "Tesla T4", "compute_capability": (7, 5), "driver": "550.54.15"}]
    header = ("+-----------------------------------------------------------------------------------------+\n"
              "| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |\n")
    assert gpus.parse_driver_cuda(header) == (12, 4)
    with pytest.raises(UserError, match="update the NVIDIA driver"):
        gpus.parse_driver_cuda("NVIDIA-SMI 390.48  Driver Version: 390.48\n")


def test_a_local_wheel_is_known_by_its_name():
    assert gpucheck.wheel_cuda(Path("mxnet_cu117-1.9.1-py3-none-manylinux2014_x86_64.whl")) == (11, 7)
    assert gpucheck.wheel_cuda(Path("mxnet_cu110-1.9.1-py3-none-manylinux2014_x86_64.whl")) == (11, 0)
    for name in ("mxnet-1.9.1-py3-none-manylinux2014_x86_64.whl", "mxnet_cu117-1.9.0-py3-none-any.whl"):
        with pytest.raises(UserError, match="pip download --no-deps mxnet-cu117==1.9.1"):
            gpucheck.wheel_cuda(Path(name))


def run(command, **env):
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, **env})


@no_nvidia_smi
@pytest.mark.parametrize("command", [[str(ROOT / "scripts" / "gpu-check")],
                                     [sys.executable, "-m", "pyjlchar.ops.gpucheck"]])
def test_without_a_gpu_it_fails_with_one_sentence(command):
    out = run(command)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr == f"error: {gpus.NO_GPU}\n"


def test_a_wrong_wheel_is_one_sentence_before_anything_else(tmp_path):
    wheel = tmp_path / "mxnet-1.9.1-py3-none-manylinux2014_x86_64.whl"
    wheel.write_bytes(b"PK")
    for args, phrase in (([f"--wheel={tmp_path / 'none.whl'}"], "is not a file"),
                         ([f"--wheel={wheel}"], "is not a GPU wheel of libmxnet 1.9.1"),
                         ([f"--library={tmp_path / 'libmxnet.so'}"], "is not a file")):
        out = run([sys.executable, "-m", "pyjlchar.ops.gpucheck", *args])
        assert out.returncode == 1 and out.stdout == ""
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and phrase in lines[0], out.stderr


@pytest.mark.slow
def test_the_checks_and_their_summary_on_the_cpu():
    # What gpu-check runs once libmxnet is installed, with the CPU build and PYJLCHAR_TEST_DEVICE=cpu.
    summary = gpucheck.run_checks(dict(os.environ), "cpu", bench_seconds=1)
    assert summary["ok"] is True and summary["problems"] == [], summary
    assert summary["doctor"]["ok"] and summary["doctor"]["version"] == "1.9.1"
    tests = summary["tests"]
    assert tests["exit_code"] == 0 and tests["failed"] == 0 and tests["passed"] >= 9, tests
    bench = summary["bench"]
    assert bench["context"] == "cpu" and set(bench["train_chars_per_s"]) == {"unrolled", "fused"}
    assert all(rate > 0 for rate in [*bench["train_chars_per_s"].values(), *bench["sample_chars_per_s"].values()])


# ----- a GPU that no wheel runs on: Hopper --------------------------------------------------------

# What nvidia-smi printed on an H100 machine (its --query-gpu line, and its header's CUDA version).
H100_CSV = "NVIDIA H100 80GB HBM3, 9.0, 550.54.15\n"
H100_HEADER = ("| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |\n")


def fake_nvidia_smi(folder: Path, csv: str = H100_CSV, header: str = H100_HEADER) -> dict:
    """An environment whose PATH finds, first, an `nvidia-smi` that prints what a real one printed:
    `csv` for --query-gpu, `header` otherwise."""
    bin_dir = folder / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "query.csv").write_text(csv)
    (bin_dir / "header.txt").write_text(header)
    script = bin_dir / "nvidia-smi"
    script.write_text(f'#!/bin/sh\ncase "$1" in --query-gpu=*) exec cat "{bin_dir}/query.csv" ;; esac\n'
                      f'exec cat "{bin_dir}/header.txt"\n')
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def assert_hopper_sentence(message: str, name: str = "NVIDIA H100 80GB HBM3"):
    assert "\n" not in message.strip(), message
    assert f"the {name} (compute capability 9.0) cannot run the GPU builds of libmxnet 1.9.1" in message, message
    assert "MXNET_CUDA_ARCH=9.0" in message and "MXNET_LIBRARY_PATH" in message, message


def test_a_hopper_gpu_is_read_and_no_wheel_has_its_kernels():
    (gpu,) = gpus.parse_gpus(H100_CSV)
    assert gpu == {"name": "NVIDIA H100 80GB HBM3", "compute_capability": (9, 0), "driver": "550.54.15"}
    assert gpus.parse_driver_cuda(H100_HEADER) == (12, 4)
    # sm_80 and sm_86 code never runs on 9.0, and the wheels carry no PTX to compile for it.
    assert not any(gpus.runs_on(kernels, gpu["compute_capability"]) for kernels in gpus.WHEELS.values())
    assert all(gpus.runs_on(kernels, (8, 9)) for cuda, kernels in gpus.WHEELS.items() if cuda >= (11, 1))


def test_a_hopper_gpu_is_one_sentence_in_the_module_the_command_and_gpu_check(tmp_path):
    env = fake_nvidia_smi(tmp_path)
    # The sentence itself, as this process's nvidia-smi (the stand-in) lists the GPU.
    said = subprocess.run([sys.executable, "-c", "from pyjlchar.bridge import gpus; print(gpus.unsupported_gpu())"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert said.returncode == 0, said.stderr
    assert_hopper_sentence(said.stdout)
    # A GPU context is refused with it before Julia starts (fast), naming the flag.
    started = time.monotonic()
    out = run([sys.executable, "-m", "pyjlchar", "train", "--context", "gpu", "--epochs", "1"], **env)
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("error: --context gpu: the NVIDIA H100"), line
    assert_hopper_sentence(line)
    assert time.monotonic() - started < 30
    # gpu-check picks no wheel for it, and says what to build.
    out = run([sys.executable, "-m", "pyjlchar.ops.gpucheck"], **env)
    assert out.returncode == 1 and out.stdout == ""
    found, line = out.stderr.strip().splitlines()   # what it read, then why it stops
    assert found == "gpu-check: 1 GPU(s): NVIDIA H100 80GB HBM3; the driver supports CUDA 12.4", out.stderr
    assert line.startswith("error: no GPU build of libmxnet 1.9.1 on PyPI has kernels for compute capability 9.0")
    assert "MXNET_CUDA_ARCH=9.0" in line and "--library" in line


def test_a_libmxnet_the_user_names_is_tried_on_a_hopper_gpu(tmp_path):
    # The fix the sentence gives: a libmxnet built for the GPU, named by MXNET_LIBRARY_PATH. The
    # refusal is for the PyPI wheels only; that libmxnet is tried, and says itself what it lacks
    # (here the CPU build of this checkout: no CUDA).
    from pyjlchar.bridge import paths
    from test_cli import CORPUS_TEXT, write_config

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    # A libmxnet of the user's own: here the wheel's under another name (a hard link), beside
    # the libraries it loads from its own folder.
    wheel = paths.wheel_libmxnet()
    own = tmp_path / "own-mxnet" / "libmxnet.so"
    own.parent.mkdir()
    for sibling in wheel.parent.glob("lib*.so*"):
        if sibling.name != wheel.name:
            (own.parent / sibling.name).symlink_to(sibling)
    try:
        os.link(wheel, own)
    except OSError:
        shutil.copy(wheel, own)
    env = {**fake_nvidia_smi(tmp_path), "MXNET_LIBRARY_PATH": str(own)}
    out = run([sys.executable, "-m", "pyjlchar", "train", "--config", str(write_config(tmp_path, corpus)),
               "--context", "gpu"], **env)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert "compute capability 9.0" not in last, last
    assert last.startswith("error: gpu(0) was asked for") and "CUDA" in last, out.stderr
