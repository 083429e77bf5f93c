"""This machine's NVIDIA GPUs as nvidia-smi lists them, and which libmxnet 1.9.1 GPU builds can
run on them: a fact pyjlchar states before it tries (doctor, a gpu context, scripts/gpu-check),
since on a GPU no wheel covers every MXNet kernel fails to launch, deep inside libmxnet."""
from __future__ import annotations

import re
import shutil
import subprocess

from . import paths
from .paths import MXNET_VERSION
from ..errors import UserError

# The GPU builds of libmxnet 1.9.1 on PyPI, by CUDA version, with the compute capabilities each
# carries kernels for (apache/mxnet config/distribution/linux_cu*.cmake, MXNET_CUDA_ARCH). They
# hold machine code only, no PTX, so a GPU runs one only with a kernel of its own major version
# and a minor version no higher than its own (sm_80 code runs on 8.6 and 8.9, never on 9.0).
WHEELS: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {
    (11, 0): ((5, 0), (6, 0), (7, 0), (8, 0)),
    **{(11, minor): ((5, 0), (6, 0), (7, 0), (8, 0), (8, 6)) for minor in range(1, 8)},
}
NO_GPU = ("no NVIDIA GPU was found (nvidia-smi is not on PATH): run on a machine with an NVIDIA GPU and its "
          "driver installed")
def wheel_name(cuda: tuple[int, int]) -> str:
    return f"mxnet-cu{cuda[0]}{cuda[1]}"


def runs_on(kernels: tuple[tuple[int, int], ...], capability: tuple[int, int]) -> bool:
    return any(major == capability[0] and minor <= capability[1] for major, minor in kernels)


def parse_gpus(csv: str) -> list[dict]:
    """nvidia-smi's `--query-gpu=name,compute_cap,driver_version --format=csv,noheader` lines."""
    gpus = []
    for line in csv.strip().splitlines():
        name, capability, driver = (field.strip() for field in line.rsplit(",", 2))
        major, minor = capability.split(".")
        gpus.append({"name": name, "compute_capability": (int(major), int(minor)), "driver": driver})
    return gpus


def parse_driver_cuda(report: str) -> tuple[int, int]:
    """The CUDA version the driver supports, from the header of plain `nvidia-smi`."""
    match = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", report)
    if match is None:
        raise UserError("nvidia-smi does not say which CUDA version the driver supports: update the NVIDIA driver")
    return int(match[1]), int(match[2])


def _nvidia_smi(*args: str) -> str:
    if shutil.which("nvidia-smi") is None:
        raise UserError(NO_GPU)
    out = subprocess.run(["nvidia-smi", *args], capture_output=True, text=True)
    if out.returncode != 0:
        said = (out.stdout + out.stderr).strip().splitlines()
        raise UserError(f"nvidia-smi failed ({said[-1] if said else f'exit {out.returncode}'}): install or repair "
                        "the NVIDIA driver (nvidia-smi must list the GPU), or run on a machine with a GPU")
    return out.stdout


def nvidia_gpus() -> tuple[list[dict], tuple[int, int]]:
    """This machine's GPUs (name, compute capability, driver) and the CUDA version its driver
    supports; a UserError naming the fix when there is none."""
    gpus = parse_gpus(_nvidia_smi("--query-gpu=name,compute_cap,driver_version", "--format=csv,noheader"))
    if not gpus:
        raise UserError("nvidia-smi lists no GPU: check that the GPU is visible to this machine "
                        "(CUDA_VISIBLE_DEVICES, the container's --gpus), or run on a machine with a GPU")
    return gpus, parse_driver_cuda(_nvidia_smi())


def gpu_names() -> list[str] | None:
    """The GPUs' names for a report, or None where nvidia-smi cannot say."""
    try:
        return [gpu["name"] for gpu in nvidia_gpus()[0]]
    except (UserError, OSError, ValueError):
        return None


def unsupported_gpu() -> str | None:
    """The sentence for a GPU here that no GPU wheel of libmxnet 1.9.1 has kernels for (Hopper's
    compute capability 9.0, say), or None (every GPU is covered, or there is none, or
    nvidia-smi cannot say)."""
    try:
        gpus, _ = nvidia_gpus()
    except (UserError, OSError, ValueError):
        return None
    covered = {cap for kernels in WHEELS.values() for cap in kernels}
    for gpu in gpus:
        if not runs_on(tuple(covered), gpu["compute_capability"]):
            major, minor = gpu["compute_capability"]
            return (f"the {gpu['name']} (compute capability {major}.{minor}) cannot run the GPU builds of libmxnet "
                    f"{MXNET_VERSION} on PyPI: they hold machine code for sm_50 to sm_86 (Maxwell to Ampere) and no "
                    f"PTX, so every MXNet kernel fails to launch there; build libmxnet {MXNET_VERSION} from source with "
                    f"MXNET_CUDA_ARCH={major}.{minor} and point MXNET_LIBRARY_PATH (or scripts/gpu-check --library) "
                    "at it")
    return None


def check_context(context: str | None) -> None:
    """A [compute] context that names a GPU no libmxnet 1.9.1 wheel can run on is refused in one
    sentence, before libmxnet tries and fails deep inside; unless MXNET_LIBRARY_PATH names a
    libmxnet other than the wheel's (the fix that sentence gives: one built for this GPU), which
    is then tried."""
    if context is not None and context.startswith("gpu") and not paths.own_libmxnet():
        problem = unsupported_gpu()
        if problem is not None:
            raise UserError(f"--context {context}: {problem}")
