"""The requests of a tiny run, as the commands make them: what pyjlchar's system image compiles.

`write_requests(folder)` writes a small corpus there and the bridge requests of train with
either cell, resume, loading a model with either cell, sample, eval, a text stream, corpus
info, visualize, doctor and a call failing with a UserError, one per line, each after the
outcome expected ("ok" or "error"). They are built by the same functions the commands use
(charlstm.py), so the image compiles what the commands run, with the argument types they pass;
julia/precompile/workload.jl replays them. A handle keyword of LAST_HANDLE stands for the
handle that the last request returning one returned.
"""
from __future__ import annotations

import random
from pathlib import Path

from . import charlstm, config
from .protocol import encode_request

LAST_HANDLE = 0  # bridge.jl's handles start at 1


def synthetic_text(n_chars: int, seed: int = 1) -> str:
    """Play-like text (speakers' lines of random words) for tiny runs, the same for the same seed."""
    rng = random.Random(seed)
    words = ("the and my lord thou art not what shall we do good sir king come hence "
             "speak love night upon her his heart death o may well").split()
    parts, size = [], 0
    while size < n_chars:
        speaker = rng.choice(("ROMEO", "JULIET", "KING", "Nurse", "First Citizen"))
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        parts.append(f"{speaker}:\n{sentence.capitalize()}{rng.choice('.,;!?')}\n\n")
        size += len(parts[-1])
    return "".join(parts)[:n_chars]


def write_requests(work: Path) -> Path:
    """Writes the tiny run's corpus and requests into `work`; returns the requests file."""
    corpus = work / "corpus.txt"
    corpus.write_text(synthetic_text(12_000), encoding="utf-8")
    tiny = {"data.corpus": str(corpus), "model.name": "workload", "model.hidden": 16, "model.embed": 16,
            "train.epochs": 1, "train.checkpoint_dir": str(work / "run"), "sample.length": 20}
    settings = config.load_config(None, tiny)
    fused = config.load_config(None, {**tiny, "model.cell": "fused", "train.checkpoint_dir": str(work / "fused")})
    params = str(work / "run" / "workload-0001.params")
    prefix = str(work / "run" / "workload")
    drawing = config.DRAWING
    snowman = config.load_config(None, {**tiny, "sample.prime": "\u2603"})
    calls = [("ok", charlstm.train(settings, resume=False)),
             ("ok", charlstm.train(fused, resume=False)),
             ("ok", charlstm.train(config.load_config(None, {**tiny, "train.epochs": 2}), resume=True)),
             ("ok", charlstm.load_model(params, settings, cell="lstm")),
             ("ok", charlstm.sample(LAST_HANDLE, settings, seed=1)),
             ("ok", charlstm.load_model(prefix, settings, cell="fused")),
             ("ok", charlstm.sample(LAST_HANDLE, settings, seed=1)),
             ("error", charlstm.sample(LAST_HANDLE, snowman, seed=1)),
             ("ok", charlstm.evaluate(LAST_HANDLE, [str(corpus)], streams=4)),
             ("ok", charlstm.evaluate_text(LAST_HANDLE, "KING:\nGood night.", streams=None)),
             ("ok", charlstm.open_stream(LAST_HANDLE, settings, seed=1)),
             ("ok", charlstm.stream_next(LAST_HANDLE, 40)),
             ("ok", charlstm.free([LAST_HANDLE])),
             ("ok", charlstm.corpus_info(str(corpus), settings["data"]["train_ratio"])),
             ("ok", charlstm.graph(config.DEFAULTS["model"], vocab=drawing["vocab"], steps=drawing["steps"],
                                   batch=drawing["batch"])),
             ("ok", charlstm.system_info())]
    requests = work / "requests.txt"
    requests.write_text("".join(f"{expect} {encode_request(call.fn, (), call.kwargs, []).decode()}\n"
                                for expect, call in calls), encoding="utf-8")
    return requests
