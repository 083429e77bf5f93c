"""PyTorch (CPU build) in a virtual environment of its own, `<cache>/torch-venv`, for bench/compare.py.

Pinned to the CPU wheel (`+cpu`), so pip can never pull the CUDA build and its gigabytes of
nvidia packages; pip finds it through PIP_FIND_LINKS or PyTorch's CPU index.
"""
from __future__ import annotations

from _mxnet_venv import InstallFailed, Venv  # noqa: F401  (InstallFailed: what ensure raises)

TORCH_VERSION = "2.13.0+cpu"
TORCH = Venv("torch-venv", [f"torch=={TORCH_VERSION}", "numpy"],  # numpy: torch warns without it
             "import torch; print(torch.__version__ if torch.version.cuda is None else 'a CUDA build')",
             TORCH_VERSION,
             hint=" (the CPU wheel must be reachable: put it in a PIP_FIND_LINKS folder or set "
                  "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu)")


def ensure(log=None):
    """The torch venv's python, creating the venv first when needed (about a minute, wheel at hand)."""
    return TORCH.ensure(log)
