"""The Julia calls behind each command, built from validated settings (config.load_config's).

Each function returns a `Call`: the Julia command (julia/src/commands.jl) and its keywords,
flat, every one given (the defaults live in config.py, not in Julia), plus the devices it
runs on, which decide libmxnet's engine when the call starts Julia. Nothing here starts
Julia: `julia.run(call)` runs a call, and the system image's workload records the same calls.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import config, corpus
from .errors import UserError
from .launch import port_problem

# The [train] keys that are not TrainSettings (they steer one invocation, not the run's course).
_INVOCATION_KEYS = ("epochs", "checkpoint_dir", "context", "kvstore", "gradient_compression", "compression_threshold",
                    "eval_every", "checkpoint_every", "eval_batches", "patience", "keep_last", "keep_best",
                    "log_every")


@dataclass(frozen=True)
class Call:
    fn: str
    kwargs: dict
    devices: list = field(default_factory=lambda: [["cpu", 0]])


def _devices(settings: dict) -> list:
    return [list(d) for d in config.parse_context(settings["train"]["context"])]


def _text_keywords(files: list, key: str = "corpus_files") -> dict:
    """The text files Julia reads (corpus.corpus_files'), as `key`, and the folder it encodes them into."""
    return {key: [str(f) for f in files], "corpus_cache": str(corpus.cache_folder())}


def _run_keywords(settings: dict) -> dict:
    """The corpus, the model and the settings that fix a run's course, as Julia's keywords."""
    course = {k: v for k, v in settings["train"].items() if k not in _INVOCATION_KEYS}
    return {**settings["data"], **settings["model"], **course,
            **_text_keywords(corpus.corpus_files(settings["data"]["corpus"]))}


_JOB_VARIABLES = ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT", "DMLC_NUM_SERVER", "DMLC_NUM_WORKER")


def job_role() -> str | None:
    """This process's role in a parameter-server job (DMLC_ROLE), or None outside one."""
    return os.environ.get("DMLC_ROLE") or None


def _check_job(kvstore: str, compression: str) -> None:
    if not kvstore.startswith("dist"):
        if compression != "none":
            raise UserError(f"gradient_compression {compression} compresses what the workers of a parameter-server "
                            f"job send, and kvstore {kvstore} has none: use a dist_* kvstore, or leave "
                            "gradient_compression at none")
        return
    missing = [name for name in _JOB_VARIABLES if not os.environ.get(name)]
    if missing:
        raise UserError(f"kvstore {kvstore} trains as a worker of a parameter-server job, and {', '.join(missing)} "
                        "is not set: start the job with `pyjlchar launch -n WORKERS -s SERVERS -- train ...`, "
                        "or set the DMLC variables as the README's section on distributed training says")


def _check_scheduler_port() -> None:
    """A port the scheduler cannot listen on is one clear sentence before Julia starts, not
    ps-lite's "bind failed" check and backtrace after it."""
    port = os.environ.get("DMLC_PS_ROOT_PORT", "")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"DMLC_PS_ROOT_PORT is {port!r}, not a port number: set it to the scheduler's port")
    problem = port_problem(int(port))
    if problem is not None:
        raise UserError(f"the scheduler cannot listen on port {port} (DMLC_PS_ROOT_PORT) on this machine "
                        f"({problem}): start the job on another port (`pyjlchar launch --port`), or end "
                        "what holds this one")


def train(settings: dict, resume: bool, allow_new_text: bool = False) -> Call:
    """`pyjlchar train`: returns the run's meta (history included). A resumed run must train
    on the same text unless `allow_new_text`."""
    t = settings["train"]
    _check_job(t["kvstore"], t["gradient_compression"])
    devices = _devices(settings)
    return Call("PyJLChar.Commands.train",
                {**_run_keywords(settings), **{key: t[key] for key in _INVOCATION_KEYS if key != "context"},
                 "context": devices, "resume": resume, "allow_new_text": allow_new_text},
                devices)


def ps_node(settings: dict) -> Call:
    """This process as the scheduler or a server of a parameter-server job (DMLC_ROLE says
    which), until its workers finish: no data is loaded."""
    kvstore = settings["train"]["kvstore"]
    if not kvstore.startswith("dist"):
        raise UserError(f"this process is a {job_role()} of a parameter-server job, but the training uses kvstore "
                        f"{kvstore}: add --kvstore dist_sync or dist_async (or set kvstore in [train])")
    if job_role() == "scheduler":
        _check_scheduler_port()
    return Call("PyJLChar.Commands.ps_node", {"kvstore": settings["train"]["kvstore"]})


def load_model(checkpoint: str, settings: dict, cell: str) -> Call:
    """A checkpoint (a .params file or a run's prefix: its best) loaded to run as `cell` on the
    first device of train.context, and kept in Julia: returns its handle, file, meta and spec."""
    device = _devices(settings)[0]
    return Call("PyJLChar.Commands.load_model", {"checkpoint": str(checkpoint), "context": device, "cell": cell},
                [device])


def sample(model: int, settings: dict, seed: int | None) -> Call:
    """`pyjlchar sample` from the loaded `model` (a handle), with the [sample] settings: returns the texts."""
    return Call("PyJLChar.Commands.sample", {**settings["sample"], "model": model, "seed": seed})


def open_stream(model: int, settings: dict, seed: int | None) -> Call:
    """A text stream from the loaded `model`, primed with sample.prime (the [sample] settings but
    length and num_samples): returns its handle."""
    drawing = {key: settings["sample"][key] for key in ("prime", "temperature", "top_k", "top_p")}
    return Call("PyJLChar.Commands.open_stream", {**drawing, "model": model, "seed": seed})


def stream_next(stream: int, length: int) -> Call:
    """The next `length` characters of a text stream (a handle)."""
    return Call("PyJLChar.Commands.stream_next", {"stream": stream, "length": length})


def free(handles: list[int]) -> Call:
    """Lets Julia free loaded models and streams (their handles)."""
    return Call("PyJLChar.Commands.free", {"handles": list(handles)})


def evaluate(model: int, texts: list[str], streams: int | None) -> Call:
    """`pyjlchar eval`: returns the NLL, perplexity and counts of the text in `texts` (files,
    folders or built-in corpora, read in order) with the loaded `model`, scored as `streams`
    pieces side by side (None: config.eval_streams for its size)."""
    files = corpus.corpus_files(texts, "text")
    if streams is None:
        streams = config.eval_streams(sum(f.stat().st_size for f in files))
    return Call("PyJLChar.Commands.evaluate", {"model": model, **_text_keywords(files, "text_files"),
                                               "streams": streams})


def evaluate_text(model: int, text: str, streams: int | None) -> Call:
    """`evaluate` of a text given as a string."""
    if streams is None:
        streams = config.eval_streams(len(text.encode("utf-8")))
    return Call("PyJLChar.Commands.evaluate_text", {"model": model, "text": text, "streams": streams})


def corpus_info(source: str | list[str], train_ratio: float) -> Call:
    """`pyjlchar corpus info`: what the corpus `source` holds, and its encoded cache entry."""
    return Call("PyJLChar.Commands.corpus_info", {**_text_keywords(corpus.corpus_files(source)),
                                                  "train_ratio": train_ratio})


def graph(model: dict, *, vocab: int, steps: int, batch: int) -> Call:
    """`pyjlchar visualize`: the graph of `model` ([model] settings) as JSON with every shape."""
    return Call("PyJLChar.Commands.graph", {**model, "n_class": vocab, "steps": steps, "batch": batch})


def bench_train(settings: dict, seconds: float, warmup_batches: int, validate: bool, profile: bool = False) -> Call:
    """Training throughput as `train` trains, for a wall-clock budget, without checkpoints, on
    the devices of train.context; `profile` adds libmxnet's profile: calls and ms per batch."""
    devices = _devices(settings)
    return Call("PyJLChar.Commands.bench_train", {**_run_keywords(settings), "seconds": seconds,
                                                  "warmup_batches": warmup_batches, "validate": validate,
                                                  "context": devices, "profile": profile},
                devices)


def bench_sample(settings: dict, vocab: int, streams: int, seconds: float) -> Call:
    """Sampling throughput of the [model] with random weights, `streams` texts at once, on the
    first device of train.context (as `load_model` runs a checkpoint)."""
    device = _devices(settings)[0]
    return Call("PyJLChar.Commands.bench_sample", {**settings["model"], "n_class": vocab, "streams": streams,
                                                   "seconds": seconds,
                                                   "init_scale": settings["train"]["init_scale"],
                                                   "context": device},
                [device])


def system_info() -> Call:
    """`pyjlchar doctor`: Julia's version, threads and image; libmxnet's build and features."""
    return Call("PyJLChar.Commands.system_info", {})
