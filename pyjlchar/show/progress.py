"""Shows what Julia reports while it works: log lines on stderr and progress, for training
(batch, chars/s, running NLL, ETA) and for other long tasks (encoding a corpus, scoring a
text: share done, rate, ETA). `Reporter` is the command line's: on a terminal, a live line that
the log lines scroll above. `Bars` is the Python API's: tqdm's bars, widgets in a notebook."""
from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _rate(per_s: float) -> str:
    return f"{per_s / 1000:.1f}k" if per_s >= 1000 else f"{per_s:.0f}"


def log_line(event: dict) -> str:
    """A "log" event as its line on stderr: the message, after its level unless that is info."""
    level = event.get("level", "info")
    return event["message"] if level == "info" else f"{level}: {event['message']}"


class _Display:
    """Takes the bridge's events: notes the checkpoints saved and hands the rest to `log`,
    `progress` and `task`."""

    def __init__(self):
        self.checkpoints: list[str] = []  # the checkpoints saved so far, as Julia reported them

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "checkpoint":
            self.checkpoints.append(event["path"])
        elif kind in ("log", "progress", "task"):
            getattr(self, kind)(event)

    def log(self, event: dict) -> None: ...

    def progress(self, event: dict) -> None: ...

    def task(self, event: dict) -> None: ...


class Reporter(_Display):
    """The command line's display; `live` defaults to whether stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        super().__init__()
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._bar_shown = False
        self._task: tuple[str, float] | None = None  # the task shown and when it started

    def log(self, event: dict) -> None:
        self._clear()
        print(log_line(event), file=self.stream, flush=True)

    def progress(self, event: dict) -> None:
        if self.live:
            self._draw(event)

    def task(self, event: dict) -> None:
        if self.live:
            self._draw_task(event)

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\033[K")
            self._bar_shown = False

    def _draw(self, e: dict) -> None:
        text = (f" {e['batch']}/{e['n_batch']}  {_rate(e['chars_per_s'])} chars/s  NLL {e['nll']:.4f}"
                f"  ETA {_duration(e['eta_s'])}")
        self._bar(f"epoch {e['epoch']}/{e['n_epoch']} ", e["batch"] / max(1, e["n_batch"]), text)

    def _draw_task(self, e: dict) -> None:
        now = time.monotonic()
        if self._task is None or self._task[0] != e["what"]:
            self._task = (e["what"], now)
        elapsed = max(now - self._task[1], 1e-9)
        done = e["done"] / max(1, e["total"])
        left = elapsed * (1 - done) / done if done > 0 else 0
        rate = e["done"] / elapsed
        speed = f"{rate / 1e6:.1f} MB/s" if e["unit"] == "bytes" else f"{_rate(rate)} {e['unit']}/s"
        self._bar(f"{e['what']} ", done, f" {done:4.0%}  {speed}  ETA {_duration(left)}")

    def _bar(self, head: str, done: float, text: str) -> None:
        width = shutil.get_terminal_size((100, 20)).columns
        bar_width = max(10, min(40, width - len(head) - len(text) - 1))
        filled = int(done * bar_width)
        line = head + "█" * filled + "░" * (bar_width - filled) + text
        self.stream.write("\r" + line[: width - 1])
        self.stream.flush()
        self._bar_shown = True


class Bars(_Display):
    """The Python API's display: log lines (on stderr) and a tqdm progress bar per epoch and per
    long task, from `tqdm.auto` (a widget in a Jupyter notebook with ipywidgets, else a text bar
    on a terminal, nothing when stderr is not one)."""

    def __init__(self):
        super().__init__()
        self._bar = None
        self._shown: tuple | None = None  # what the bar counts: ("epoch", n) or ("task", what)

    def log(self, event: dict) -> None:
        from tqdm.auto import tqdm

        tqdm.write(log_line(event), file=sys.stderr)

    def progress(self, event: dict) -> None:
        bar = self._bar_for(("epoch", event["epoch"]), total=event["n_batch"], unit="batch", leave=True,
                            desc=f"epoch {event['epoch']}/{event['n_epoch']}")
        bar.set_postfix_str(f"NLL {event['nll']:.4f}, {_rate(event['chars_per_s'])} chars/s", refresh=False)
        bar.update(event["batch"] - bar.n)

    def task(self, event: dict) -> None:
        in_bytes = event["unit"] == "bytes"
        bar = self._bar_for(("task", event["what"]), total=event["total"], desc=event["what"], leave=False,
                            unit="B" if in_bytes else f" {event['unit']}", unit_scale=True,
                            unit_divisor=1024 if in_bytes else 1000)
        bar.update(event["done"] - bar.n)

    def _bar_for(self, shown: tuple, **options):
        if shown != self._shown:
            from tqdm.auto import tqdm

            self.close()
            self._bar, self._shown = tqdm(disable=None, **options), shown
        return self._bar

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar, self._shown = None, None
