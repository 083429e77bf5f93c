"""`pyjlchar doctor`: what this installation has, and what to fix when it is not usable."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys

from .. import __version__, bridge, commands
from ..bridge import gpus, image, paths
from ..bridge.paths import MXNET_VERSION
from ..errors import JuliaError, UserError


def _graphviz() -> dict:
    dot = shutil.which("dot")
    if not dot:
        return {"dot": None, "fix": "apt-get install graphviz (needed only to render SVG/PNG/PDF)"}
    out = subprocess.run([dot, "-V"], capture_output=True, text=True)
    return {"dot": dot, "version": (out.stderr or out.stdout).strip()}


def collect() -> tuple[dict, list[str]]:
    """The report, and the fixes for what is missing (empty when usable)."""
    report: dict = {
        "pyjlchar": __version__,
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "cache": {"folder": str(paths.cache_dir()), "julia_depot": str(paths.cache_dir() / "julia-depot")},
        "graphviz": _graphviz(),
    }
    problems: list[str] = []
    try:
        info = paths.julia_info()
        report["julia"] = {"version": info.version, "executable": info.executable, "libjulia": info.libjulia}
        started = bridge.get().started
        report["julia"].update(bridge=started.starter, bridge_reason=started.reason)
        side = bridge.run(commands.system_info())
        report["julia"]["threads"] = side["julia_threads"]
        # Julia says which image it started from; the cache says which one these sources need.
        built = image.status(info)
        in_use = built["fresh"] and os.path.realpath(side["sysimage"]) == os.path.realpath(built["path"])
        report["sysimage"] = {**built, "running": side["sysimage"], "reason": started.image_reason, "in_use": in_use}
        features = side["mxnet_features"]
        report["mxnet"] = {
            "library": side["mxnet_library"],
            "version": side["mxnet_version"],
            "features": sorted(name for name, on in features.items() if on),
            "features_disabled": sorted(name for name, on in features.items() if not on),
            "gpu_count": side["gpu_count"],
            "kvstore_types": side["kvstore_types"],
            "omp_threads": started.threads.threads,
            "omp_threads_line": started.threads.line(),
        }
    except (UserError, JuliaError) as e:
        problems.append(str(e))
    unsupported = gpus.unsupported_gpu()
    if unsupported is not None:
        report["gpu_problem"] = unsupported
    return report, problems


def render(report: dict, problems: list[str]) -> str:
    lines = [f"pyjlchar {report['pyjlchar']}",
             f"python    {report['python']['version']} ({report['python']['executable']})"]
    if "julia" in report:
        j = report["julia"]
        lines.append(f"julia     {j['version']} ({j['executable']})")
        if "bridge" in j:
            lines.append(f"bridge    {j['bridge']} ({j['bridge_reason']})")
    if "mxnet" in report:
        m = report["mxnet"]
        lines += [f"libmxnet  {m['version']} ({m['library']})",
                  f"features  {' '.join(m['features'])}",
                  f"kvstores  {' '.join(m['kvstore_types'])}",
                  f"threads   {m['omp_threads_line']}",
                  f"gpus      {m['gpu_count']}" + ("" if "CUDA" in m["features"] else
                                                   " (CPU-only build; GPU builds: scripts/gpu-check picks and installs "
                                                   f"the mxnet-cu1xx=={MXNET_VERSION} wheel for this machine)")]
    if "gpu_problem" in report:
        lines.append(f"gpu       {report['gpu_problem']}")
    if "sysimage" in report:
        s = report["sysimage"]
        if s["in_use"]:
            built = (f", {s['size_bytes'] / 2**20:.0f} MB, built in {s['build_seconds']:.0f} s"
                     if "size_bytes" in s else "")
            lines.append(f"sysimage  pyjlchar's, built for these sources ({s['path']}{built})")
        else:
            lines.append(f"sysimage  {s['running']}: {s['reason']}")
    g = report["graphviz"]
    lines.append(f"graphviz  {g['version']} ({g['dot']})" if g["dot"] else f"graphviz  missing: {g['fix']}")
    lines.append(f"cache     {report['cache']['folder']}")
    lines += [f"problem   {p}" for p in problems]
    lines.append("status    " + ("not usable, see the problems above" if problems else "ok"))
    return "\n".join(lines)
