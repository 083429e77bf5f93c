"""`pyjlchar bench`: how fast this installation trains and samples, and how soon it starts.

Training and sampling run in this process on the real code paths (the bench_train and
bench_sample commands: `pyjlchar train`'s training pipeline for a time budget, and
`pyjlchar sample`'s drawing); cold starts run in fresh processes (coldstart.py).
"""
from __future__ import annotations

import os
import platform
import resource
import tempfile
from pathlib import Path
from typing import Callable

from .. import bridge, commands, settings as table
from ..bridge import paths


def cpu_model() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """What the figures depend on: the CPU, the threads libmxnet may use, the versions."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "omp_threads": bridge.get().started.threads.line(),
            "mxnet_engine": os.environ.get("MXNET_ENGINE_TYPE"),
            "python": platform.python_version(), "julia": paths.julia_info().version,
            "platform": platform.platform()}


def run(settings: dict, train_seconds: float, sample_seconds: float, cold_start: bool,
        log: Callable[[str], None]) -> dict:
    """The report `pyjlchar bench --json` prints, for the model and batches of `settings`
    (settings.load_config's); training runs on the built-in Shakespeare plays, on the devices of
    compute.context (sampling on the first of them)."""
    settings = {**settings, "data": {**settings["data"], "corpus": "shakespeare"}}
    context = settings["compute"]["context"]
    on = "" if context == "cpu" else f" on {context}"
    train = {}
    for graph in ("unrolled", "fused"):
        log(f"training, {graph} graph{on}, {train_seconds:g} s ...")
        with_graph = {**settings, "model": {**settings["model"], "graph": graph}}
        train[graph] = bridge.run(commands.bench_train(with_graph, train_seconds, warmup_batches=3,
                                                     validate=False))["chars_per_s"]
    sample = {}
    fused = {**settings, "model": {**settings["model"], "graph": "fused"}}
    for streams in (1, 32):
        log(f"sampling (fused graph, as `pyjlchar sample`){on}, {streams} stream(s), {sample_seconds:g} s ...")
        sample[str(streams)] = bridge.run(commands.bench_sample(fused, table.OPTIONS["vocab"].default, streams,
                                                               sample_seconds))["chars_per_s"]
    model = {"cell": settings["model"]["cell"], "layers": settings["model"]["layers"], "hidden": settings["model"]["hidden"],
             "embed": settings["model"]["embed"], "seq_len": settings["train"]["seq_len"],
             "batch_size": settings["train"]["batch_size"]}
    # Linux reports the peak resident set in KiB.
    report = {"context": context, "train_chars_per_s": train, "sample_chars_per_s": sample,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "model": model, "machine": machine()}
    if context.startswith("gpu"):
        from ..bridge.gpus import gpu_names

        report["machine"]["gpus"] = gpu_names()
    if cold_start:
        from .coldstart import cold_start_times

        log("cold starts: train, sample, visualize in fresh processes ...")
        with tempfile.TemporaryDirectory(prefix="pyjlchar-bench-") as work:
            report["cold_start_s"] = cold_start_times(Path(work))
    return report


def render(report: dict) -> str:
    """The report as a few aligned lines."""
    m = report["model"]
    lines = [f"model: {m['layers']}x{m['hidden']} {m['cell'].upper()}, embed {m['embed']}, seq_len {m['seq_len']}, "
             f"batch {m['batch_size']}",
             f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
             f"{report['machine']['omp_threads']}"]
    if report.get("context", "cpu") != "cpu":
        gpus = report["machine"].get("gpus")
        lines.append(f"context: {report['context']}" + (f" ({', '.join(gpus)})" if gpus else ""))
    for graph, rate in report["train_chars_per_s"].items():
        lines.append(f"train, {graph} graph:".ljust(26) + f"{rate:10.0f} chars/s")
    for streams, rate in report["sample_chars_per_s"].items():
        lines.append(f"sample, {streams} stream(s):".ljust(26) + f"{rate:10.0f} chars/s")
    for what, seconds in report.get("cold_start_s", {}).items():
        lines.append(f"cold start, {what}:".ljust(26) + f"{seconds:10.2f} s")
    lines.append("peak memory:".ljust(26) + f"{report['peak_rss_mb']:10.0f} MB")
    return "\n".join(lines)
