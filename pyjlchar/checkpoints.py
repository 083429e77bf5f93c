"""Finding a checkpoint from what the user typed: a `.params` file, or a run's prefix."""
from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import UserError

_PARAMS = re.compile(r"(?P<prefix>.+)-(?P<epoch>\d{4})\.params")


def resolve(given: str) -> Path:
    """The `.params` file meant by `given`: that file, or for a prefix (checkpoints/ptb) the
    epoch with the best validation NLL in its meta file (the last epoch if none was validated)."""
    path = Path(given)
    if path.suffix == ".params":
        if not path.is_file():
            raise UserError(f"checkpoint {path} does not exist: check the path, or pass the run's "
                            "prefix (such as checkpoints/ptb) to use its best epoch")
        return path
    meta_file = path.with_name(path.name + "-meta.json")
    if not meta_file.is_file():
        raise UserError(f"no checkpoint at {given} ({meta_file} is missing): pass a .params file or "
                        "the prefix of a training run, such as checkpoints/ptb")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        history = meta["history"]
    except (ValueError, KeyError, UnicodeDecodeError) as e:
        raise UserError(f"{meta_file} is corrupt ({e}): pass one of the run's .params files instead") from None
    if not history:
        raise UserError(f"the run at {given} has saved no epoch yet: train it first")
    scored = [h for h in history if h.get("val_nll") is not None]
    best = min(scored, key=lambda h: h["val_nll"]) if scored else history[-1]
    return path.with_name(f"{path.name}-{best['epoch']:04d}.params")
