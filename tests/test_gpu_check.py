"""scripts/gpu-check, as far as a machine without a GPU can check it: which wheel it picks, what
it reads from nvidia-smi, its one-sentence failures and (slow) the checks it runs, on the CPU."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyjlchar import gpucheck
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
    assert gpucheck.parse_gpus(csv) == [
        {"name": "NVIDIA H200", "compute_capability": (9, 0), "driver": "550.54.15"},
        {"name": "Tesla T4", "compute_capability": (7, 5), "driver": "550.54.15"}]
    header = ("+-----------------------------------------------------------------------------------------+\n"
              "| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |\n")
    assert gpucheck.parse_driver_cuda(header) == (12, 4)
    with pytest.raises(UserError, match="update the NVIDIA driver"):
        gpucheck.parse_driver_cuda("NVIDIA-SMI 390.48  Driver Version: 390.48\n")


def test_a_local_wheel_is_known_by_its_name():
    assert gpucheck.wheel_cuda(Path("mxnet_cu117-1.9.1-py3-none-manylinux2014_x86_64.whl")) == (11, 7)
    assert gpucheck.wheel_cuda(Path("mxnet_cu110-1.9.1-py3-none-manylinux2014_x86_64.whl")) == (11, 0)
    for name in ("mxnet-1.9.1-py3-none-manylinux2014_x86_64.whl", "mxnet_cu117-1.9.0-py3-none-any.whl"):
        with pytest.raises(UserError, match="pip download --no-deps mxnet-cu117==1.9.1"):
            gpucheck.wheel_cuda(Path(name))


def run(command, **env):
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, **env})


@no_nvidia_smi
@pytest.mark.parametrize("command", [[str(ROOT / "scripts" / "gpu-check")],
                                     [sys.executable, "-m", "pyjlchar.gpucheck"]])
def test_without_a_gpu_it_fails_with_one_sentence(command):
    out = run(command)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr == f"error: {gpucheck.NO_GPU}\n"


def test_a_wrong_wheel_is_one_sentence_before_anything_else(tmp_path):
    wheel = tmp_path / "mxnet-1.9.1-py3-none-manylinux2014_x86_64.whl"
    wheel.write_bytes(b"PK")
    for args, phrase in (([f"--wheel={tmp_path / 'none.whl'}"], "is not a file"),
                         ([f"--wheel={wheel}"], "is not a GPU wheel of libmxnet 1.9.1"),
                         ([f"--library={tmp_path / 'libmxnet.so'}"], "is not a file")):
        out = run([sys.executable, "-m", "pyjlchar.gpucheck", *args])
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
    assert bench["context"] == "cpu" and set(bench["train_chars_per_s"]) == {"lstm", "fused"}
    assert all(rate > 0 for rate in [*bench["train_chars_per_s"].values(), *bench["sample_chars_per_s"].values()])
