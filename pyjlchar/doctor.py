"""`pyjlchar doctor`: what this installation has, and what to fix when it is not usable."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys

from . import __version__, charlstm, julia, runtime, sysimage
from .errors import JuliaError, UserError


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
        "cache": {"folder": str(runtime.cache_dir()), "julia_depot": str(runtime.cache_dir() / "julia-depot")},
        "graphviz": _graphviz(),
    }
    problems: list[str] = []
    try:
        info = runtime.julia_info()
        report["julia"] = {"version": info.version, "executable": info.executable, "libjulia": info.libjulia}
        jl = julia.get()
        report["julia"].update(bridge=jl.starter, bridge_reason=jl.reason)
        side = julia.run(charlstm.system_info())
        report["julia"]["threads"] = side["julia_threads"]
        # Julia says which image it started from; the cache says which one these sources need.
        built = sysimage.status(info)
        in_use = built["fresh"] and os.path.realpath(side["sysimage"]) == os.path.realpath(built["path"])
        report["sysimage"] = {**built, "running": side["sysimage"], "reason": jl.sysimage_reason, "in_use": in_use}
        features = side["mxnet_features"]
        report["mxnet"] = {
            "library": side["mxnet_library"],
            "version": side["mxnet_version"],
            "features": sorted(name for name, on in features.items() if on),
            "features_disabled": sorted(name for name, on in features.items() if not on),
            "gpu_count": side["gpu_count"],
            "kvstore_types": side["kvstore_types"],
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        }
    except (UserError, JuliaError) as e:
        problems.append(str(e))
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
                  f"gpus      {m['gpu_count']}" + ("" if "CUDA" in m["features"] else
                                                   " (CPU-only build; GPU builds: pip install --no-deps mxnet-cu112==1.9.1)")]
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
