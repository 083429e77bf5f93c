"""pyjlchar: character-level language models on libmxnet, written in Julia and driven from Python.

The Python API (the `pyjlchar` command runs the same functions):

    train(config=None, *, resume=False, allow_new_text=False, on_progress=None, stop=None, **settings) -> Run
        Train, saving a checkpoint every epoch; settings are config keys by name (epochs=2).
    load(checkpoint, *, graph=None, context=None) -> Model
        A checkpoint (a .params file or a run's prefix: its best), loaded once, with
        .sample(length, prime=..., seed=..., num_samples=...), .stream(prime, ...),
        .evaluate(paths or text=...), .vocab, .spec, .history, .close() (or `with`).
    graph(*, layers=None, steps=None, ...) -> graphviz.Digraph
        The network's drawing (inline in a notebook).
    corpus_info(corpus=None, *, config=None, train_ratio=None) -> dict
        What a corpus holds, as `pyjlchar corpus info` reports it.
    curves(*runs, output=None) -> matplotlib Figure
        Training curves of runs (prefixes, Run or Model objects), as `pyjlchar plot` draws them.
    settings.load(path=None, **settings) -> dict
        The validated settings of a TOML file (or a shipped config by name) and overrides.
    serve_job(config=None, **settings)
        A parameter-server job's scheduler or server (DMLC_ROLE), as a launcher starts it.
    UserError, Interrupted
        A mistake to fix (its one-sentence message says how); a call stopped by Ctrl-C.

    >>> import pyjlchar as pj
    >>> run = pj.train("quick", epochs=1, checkpoint_dir="runs/a")        # doctest: +SKIP
    >>> model = pj.load(run.prefix)                                         # doctest: +SKIP
    >>> model.sample(200, prime="KING:", seed=1)                            # doctest: +SKIP
"""
from .bridge import host as _host
from .errors import Interrupted, JuliaError, UserError

# Here, in the thread that imports pyjlchar (normally the main one, the only one that may set
# signal handlers): Ctrl-C, SIGTERM and SIGHUP then stop a run in any thread with its work saved.
_host.install_stop_handlers()

__version__ = "0.1.0"
_API = ("train", "load", "graph", "curves", "corpus_info", "serve_job", "Run", "Model", "TextStream", "History",
        "ProgressHandler")
__all__ = [*_API, "settings", "UserError", "Interrupted", "JuliaError"]


def __getattr__(name: str):
    # The API (and with it the bridge) is imported on first use, so that importing the package
    # (for `python -m pyjlchar.bridge`, or the settings alone) stays light.
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "settings":  # imported here, so that `python -m pyjlchar.settings` finds it unimported
        import importlib

        return importlib.import_module(".settings", __name__)
    raise AttributeError(f"module 'pyjlchar' has no attribute {name!r}")


def __dir__() -> list:
    return sorted({*globals(), *__all__})
