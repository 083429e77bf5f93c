"""How long the commands take from a cold process, which is what users feel first.

`cold_start_times(workdir)` runs each command in a fresh `python -m pyjlchar` process, on a
tiny corpus and model (hidden 16) it makes in `workdir`: compile time dominates, not the model.
Julia's image is chosen as for any command (see pyjlchar/bridge/image.py; PYJLCHAR_SYSIMAGE=off
measures without pyjlchar's image).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .image_build import synthetic_text
from ..errors import UserError

_CONFIG = """\
[data]
corpus = "{corpus}"

[model]
name = "tiny"
hidden = 16
embed = 16

[run]
epochs = 1
checkpoint_dir = "{checkpoints}"
"""


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pyjlchar", *args]


def _check(proc: subprocess.CompletedProcess | subprocess.Popen, stderr: str, what: str) -> None:
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["no message"])[-1]
        raise UserError(f"`pyjlchar {what}` failed while timing the cold start ({last}); "
                        "run it by hand to see why")


def cold_start_times(workdir: Path) -> dict:
    """Seconds from starting the process to:
    - "train": the first training batch completed (`pyjlchar train`; its first progress event,
      which the trainer sends after the batch's update and metric, read from the event log
      that PYJLCHAR_EVENT_LOG asks the bridge to keep);
    - "sample": the first character of the samples on stdout (`pyjlchar sample`);
    - "visualize": the end of `pyjlchar visualize --layers 1 --steps 2`.
    The timed training run also makes the checkpoint that `sample` then reads."""
    run = Path(workdir) / "coldstart"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    corpus, config, events = run / "corpus.txt", run / "tiny.toml", run / "events.jsonl"
    corpus.write_text(synthetic_text(20_000), encoding="utf-8")
    config.write_text(_CONFIG.format(corpus=corpus, checkpoints=run / "checkpoints"), encoding="utf-8")

    started = time.time()  # wall clock: the event's "time" comes from the other process
    proc = subprocess.run(_command("train", "--config", str(config)), capture_output=True, text=True,
                          env={**os.environ, "PYJLCHAR_EVENT_LOG": str(events)})
    _check(proc, proc.stderr, "train")
    progress = [e for e in map(json.loads, events.read_text().splitlines()) if e["event"] == "progress"]
    if not progress:
        raise UserError("`pyjlchar train` reported no progress event while timing the cold start; "
                        "check that the bridge writes PYJLCHAR_EVENT_LOG")
    times = {"train": progress[0]["time"] - started}

    started = time.monotonic()
    with subprocess.Popen(_command("sample", "--checkpoint", str(run / "checkpoints" / "tiny"), "--seed", "1"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as sample:
        sample.stdout.read(1)  # the samples are printed once drawn
        times["sample"] = time.monotonic() - started
        _, stderr = sample.communicate()
    _check(sample, stderr.decode(errors="replace"), "sample")

    started = time.monotonic()
    proc = subprocess.run(_command("visualize", "--layers", "1", "--steps", "2"), capture_output=True, text=True)
    times["visualize"] = time.monotonic() - started
    _check(proc, proc.stderr, "visualize")
    return times
