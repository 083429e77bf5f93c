"""The Julia calls behind each command (julia/src/Commands.jl, the same names), built from
validated settings (settings.load_config's).

Each function returns a `Call`: the Julia command and its keywords, which are the settings
sections it reads, whole, plus the few keys the command takes itself (the corpus files
resolved here, a handle, a seed), and the [compute] context it runs on, which decides
libmxnet's engine when the call starts Julia. Nothing here starts Julia: `bridge.run(call)`
runs a call, and the system image's requests (ops/image_build.py) are made by these same
functions.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import settings as table
from .bridge import gpus
from .corpus.files import cache_folder, corpus_files
from .distributed import job


@dataclass(frozen=True)
class Call:
    fn: str
    kwargs: dict
    context: str | None = None   # the [compute] context of the work; None: no devices


def _sections(settings: dict, *names: str) -> dict:
    return {name: dict(settings[name]) for name in names}


def _text_keywords(files: list, key: str = "corpus_files") -> dict:
    """The text files Julia reads (corpus.files.corpus_files'), as `key`, and the folder it encodes them into."""
    return {key: [str(f) for f in files], "corpus_cache": str(cache_folder())}


def train(settings: dict, resume: bool, allow_new_text: bool = False) -> Call:
    """`pyjlchar train`: returns the run's meta (history included) and its best checkpoint. A
    resumed run must train on the same text unless `allow_new_text`."""
    compute = settings["compute"]
    job.check_worker(compute["kvstore"], compute["gradient_compression"])
    gpus.check_context(compute["context"])   # first: before a built-in corpus is fetched for nothing
    return Call("PyJLChar.Commands.train",
                {**_sections(settings, "data", "model", "train", "run", "compute"),
                 **_text_keywords(corpus_files(settings["data"]["corpus"])), "resume": resume,
                 "allow_new_text": allow_new_text},
                compute["context"])


def ps_node(settings: dict) -> Call:
    """This process as the scheduler or a server of a parameter-server job (DMLC_ROLE says
    which), until its workers finish: no data is loaded."""
    job.check_node(settings["compute"]["kvstore"])
    return Call("PyJLChar.Commands.ps_node", _sections(settings, "compute"))


def load_model(checkpoint: str, context: str, graph: str) -> Call:
    """A checkpoint (a .params file or a run's prefix: its best) loaded to run by `graph` on the
    first device of `context`, and kept in Julia: returns its handle, file, meta and spec."""
    gpus.check_context(context)
    return Call("PyJLChar.Commands.load_model", {"checkpoint": str(checkpoint), "context": context, "graph": graph},
                context)


def sample(handle: int, settings: dict, seed: int | None) -> Call:
    """`pyjlchar sample` from the loaded model `handle` with the [sample] settings: returns the texts."""
    return Call("PyJLChar.Commands.sample", {**_sections(settings, "sample"), "handle": handle, "seed": seed})


def open_stream(handle: int, settings: dict, seed: int | None) -> Call:
    """A text stream from the loaded model `handle`, drawn as [sample] says (its length and
    num_samples are the caller's): returns its handle."""
    return Call("PyJLChar.Commands.open_stream", {**_sections(settings, "sample"), "handle": handle, "seed": seed})


def stream_next(handle: int, length: int) -> Call:
    """The next `length` characters of a text stream (a handle)."""
    return Call("PyJLChar.Commands.stream_next", {"handle": handle, "length": length})


def free(handles: list[int]) -> Call:
    """Lets Julia free loaded models and streams (their handles)."""
    return Call("PyJLChar.Commands.free", {"handles": list(handles)})


def evaluate(handle: int, texts: list[str], streams: int | None) -> Call:
    """`pyjlchar eval`: returns the NLL, perplexity and counts of the text in `texts` (files,
    folders or built-in corpora, read in order) with the loaded model `handle`, scored as
    `streams` pieces side by side (None: settings.eval_streams for its size)."""
    files = corpus_files(texts, "text")
    if streams is None:
        streams = table.eval_streams(sum(f.stat().st_size for f in files))
    return Call("PyJLChar.Commands.evaluate", {"handle": handle, **_text_keywords(files, "text_files"),
                                               "streams": streams})


def evaluate_text(handle: int, text: str, streams: int | None) -> Call:
    """`evaluate` of a text given as a string."""
    if streams is None:
        streams = table.eval_streams(len(text.encode("utf-8")))
    return Call("PyJLChar.Commands.evaluate_text", {"handle": handle, "text": text, "streams": streams})


def corpus_info(settings: dict) -> Call:
    """`pyjlchar corpus info`: what the [data] corpus holds, and its encoded cache entry."""
    return Call("PyJLChar.Commands.corpus_info", {**_sections(settings, "data"),
                                                  **_text_keywords(corpus_files(settings["data"]["corpus"]))})


def graph(settings: dict, *, vocab: int, steps: int, batch: int) -> Call:
    """`pyjlchar visualize`: the graph of the [model] as JSON with every shape."""
    return Call("PyJLChar.Commands.graph", {**_sections(settings, "model"), "n_class": vocab, "steps": steps,
                                            "batch": batch})


def bench_train(settings: dict, seconds: float, warmup_batches: int, validate: bool, profile: bool = False) -> Call:
    """Training throughput as `train` trains, for a wall-clock budget, without checkpoints, on
    the devices of compute.context; `profile` adds libmxnet's profile: calls and ms per batch."""
    gpus.check_context(settings["compute"]["context"])   # first: before a built-in corpus is fetched for nothing
    return Call("PyJLChar.Commands.bench_train",
                {**_sections(settings, "data", "model", "train", "compute"),
                 **_text_keywords(corpus_files(settings["data"]["corpus"])), "seconds": seconds,
                 "warmup_batches": warmup_batches, "validate": validate, "profile": profile},
                settings["compute"]["context"])


def bench_sample(settings: dict, vocab: int, streams: int, seconds: float) -> Call:
    """Sampling throughput of the [model] with random weights, `streams` texts at once, on the
    first device of compute.context (as `load_model` runs a checkpoint)."""
    context = settings["compute"]["context"]
    gpus.check_context(context)
    return Call("PyJLChar.Commands.bench_sample", {**_sections(settings, "model"), "n_class": vocab,
                                                   "streams": streams, "seconds": seconds,
                                                   "init_scale": settings["train"]["init_scale"], "context": context},
                context)


def system_info() -> Call:
    """`pyjlchar doctor`: Julia's version, threads and image; libmxnet's build and features."""
    return Call("PyJLChar.Commands.system_info", {})
