"""Training curves: the train and validation NLL of one or more runs on one chart (`pyjlchar plot`).

A run is named by its checkpoint prefix (checkpoints/ptb). Its metrics log, PREFIX-log.jsonl,
which training appends a JSON object to at every log interval and after every validation, gives
the NLL against the characters seen. A run made before the log existed has only the per-epoch
history of its meta file, PREFIX-meta.json; a chart with such a run draws every run by epoch,
from the meta files. `curves` returns a matplotlib Figure (for a notebook); `save` writes it.
The figure is drawn without pyplot, so no display or GUI backend is involved.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError

FORMATS = ("svg", "png", "pdf")
LOG_SUFFIX, META_SUFFIX = "-log.jsonl", "-meta.json"


def output_format(output: str) -> str:
    """The format the file name `output` asks for, by its suffix."""
    fmt = Path(output).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise UserError(f"cannot tell which format to write {output} in: end its name in "
                        + ", ".join(f".{f}" for f in FORMATS))
    return fmt


def curves(prefixes: list[str]):
    """A matplotlib Figure of the runs at `prefixes` (their logs, else their meta files): per
    run one colour, training NLL as a line, validation NLL dashed with a marker per pass."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import EngFormatter, MaxNLocator

    if not prefixes:
        raise UserError("name at least one run by its checkpoint prefix, such as checkpoints/ptb")
    prefixes = [_prefix(p) for p in prefixes]
    missing = next((p for p in prefixes if not (Path(p + LOG_SUFFIX).exists() or Path(p + META_SUFFIX).exists())), None)
    if missing is not None:
        raise UserError(f"there is no run at {missing} (no {missing + LOG_SUFFIX} or {missing + META_SUFFIX}): name a "
                        "run by its checkpoint prefix, such as checkpoints/ptb")
    by_epoch = not all(Path(p + LOG_SUFFIX).exists() for p in prefixes)
    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    for i, prefix in enumerate(prefixes):
        train, val = _meta_points(prefix) if by_epoch else _log_points(prefix)
        colour = f"C{i % 10}"
        if train:
            axes.plot(*zip(*train), color=colour, linewidth=1, label=f"{prefix} train")
        if val:
            axes.plot(*zip(*val), color=colour, linestyle="--", marker="o", markersize=3,
                      label=f"{prefix} validation")
    if by_epoch:
        axes.set_xlabel("epoch (per-epoch history from the meta files: a run has no metrics log)")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        axes.set_xlabel("characters seen")
        axes.xaxis.set_major_formatter(EngFormatter())
    axes.set_ylabel("NLL per character (nats)")
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def save(figure, output: str) -> None:
    """Writes `figure` to the file `output`, in the format its suffix names."""
    fmt = output_format(output)
    try:
        figure.savefig(output, format=fmt)
    except OSError as e:
        raise UserError(f"cannot write {output} ({e.strerror}): choose a file in an existing, writable folder") from None


def _prefix(given: str) -> str:
    """A run's prefix; its log or meta file names it too (what a shell completes to)."""
    for suffix in (LOG_SUFFIX, META_SUFFIX):
        if given.endswith(suffix):
            return given[: -len(suffix)]
    return given


def _log_points(prefix: str) -> tuple[list, list]:
    """(characters seen, NLL) of training and of validation, from the run's metrics log."""
    path = prefix + LOG_SUFFIX
    try:
        lines = Path(path).read_bytes().split(b"\n")
    except OSError as e:
        raise UserError(f"cannot read {path} ({e.strerror}): check its permissions") from None
    # After the last newline: nothing, or a line the run is still writing.
    complete = [(number, line) for number, line in enumerate(lines[:-1], 1) if line.strip()]
    if not complete:
        raise UserError(f"{path} is empty: the run has logged nothing yet; plot it after its first log interval")
    train, val = [], []
    for number, line in complete:
        record = _record(path, number, line)
        step = record["step"]
        for key, series in (("train_nll", train), ("val_nll", val)):
            # A run resumed from an earlier point logs its steps again: they replace the tail of
            # both curves (a validation line has the step of the training line before it).
            while series and (series[-1][0] > step or series[-1][0] == step and key in record):
                series.pop()
            if key in record:
                series.append((step, record["chars"], record[key]))
    return [(chars, nll) for _, chars, nll in train], [(chars, nll) for _, chars, nll in val]


def _record(path: str, number: int, line: bytes) -> dict:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):   # RecursionError: nested deeper than Python's parser goes
        record = None
    fields = ("step", "chars", "train_nll", "val_nll")
    if not (isinstance(record, dict) and "step" in record and "chars" in record
            and ("train_nll" in record or "val_nll" in record)
            and all(_is_number(record[k]) for k in fields if k in record)):
        raise UserError(f"{path} is damaged at line {number} (not a JSON object with numbers step, chars and "
                        "train_nll or val_nll): delete that line")
    return record


def _meta_points(prefix: str) -> tuple[list, list]:
    """(epoch, NLL) of training and of validation, from the run's meta file."""
    path = prefix + META_SUFFIX
    if not Path(path).exists():  # a run with a log, on a chart with a run without one
        raise UserError(f"{path} does not exist yet, and a chart with a run that has no metrics log is drawn by "
                        "epoch from the meta files: plot this run separately")
    try:
        history = json.loads(Path(path).read_bytes())["history"]
        train = [(h["epoch"], h["train_nll"]) for h in history]
        val = [(h["epoch"], h["val_nll"]) for h in history if h["val_nll"] is not None]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        why = "nested too deep" if isinstance(e, RecursionError) else e
        raise UserError(f"{path} cannot be read as a run's meta file ({why}): plot a run that pyjlchar train made") from None
    if not all(_is_number(x) and _is_number(y) for x, y in train + val):
        raise UserError(f"{path} has a history entry without numbers: plot a run that pyjlchar train made")
    if not train:
        raise UserError(f"the run at {prefix} has saved no epoch yet: plot it after its first epoch")
    return train, val


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
