"""Shows what Julia reports while it works: log lines on stderr and, on a terminal, a live
progress line (batch, chars/s, running NLL, ETA) that the log lines scroll above."""
from __future__ import annotations

import shutil
import sys
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _rate(per_s: float) -> str:
    return f"{per_s / 1000:.1f}k" if per_s >= 1000 else f"{per_s:.0f}"


class Reporter:
    """Callable that takes the bridge's events; `live` defaults to whether stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._bar_shown = False
        self.checkpoints: list[str] = []  # the checkpoints saved so far, as Julia reported them

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "checkpoint":
            self.checkpoints.append(event["path"])
        elif kind == "log":
            self._clear()
            prefix = "" if event.get("level", "info") == "info" else f"{event['level']}: "
            print(prefix + event["message"], file=self.stream, flush=True)
        elif kind == "progress" and self.live:
            self._draw(event)

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\033[K")
            self._bar_shown = False

    def _draw(self, e: dict) -> None:
        width = shutil.get_terminal_size((100, 20)).columns
        done = e["batch"] / max(1, e["n_batch"])
        text = (f" {e['batch']}/{e['n_batch']}  {_rate(e['chars_per_s'])} chars/s  NLL {e['nll']:.4f}"
                f"  ETA {_duration(e['eta_s'])}")
        head = f"epoch {e['epoch']}/{e['n_epoch']} "
        bar_width = max(10, min(40, width - len(head) - len(text) - 1))
        filled = int(done * bar_width)
        self.stream.write("\r" + head + "█" * filled + "░" * (bar_width - filled) + text[: width - 1])
        self.stream.flush()
        self._bar_shown = True
