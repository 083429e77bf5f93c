"""The char-lstm's Python face: settings and files in, calls into Julia (julia/src/charlstm/)."""
from __future__ import annotations

import os
from pathlib import Path

from . import config, corpus, julia
from .progress import Reporter


def _contexts(settings: dict) -> list:
    contexts = [list(c) for c in config.parse_context(settings["train"]["context"])]
    if contexts == [["cpu", 0]]:
        use_naive_engine()
    return contexts


def use_naive_engine() -> None:
    """Work on one CPU device runs best on libmxnet's naive engine, which runs each operator in
    the calling thread: the threaded engine hands every operator to a worker thread, which
    costs more than the small operators of a sampling step take. Several devices keep the
    threaded engine, which runs them side by side. Only takes effect before Julia starts."""
    os.environ.setdefault("MXNET_ENGINE_TYPE", "NaiveEngine")


def run_training(settings: dict, resume: bool, on_event: Reporter) -> dict:
    """Trains per `settings` (config.load_config's dict); returns the run's summary."""
    text_file = corpus.corpus_path(settings["data"]["corpus"])
    corpus.check_corpus(text_file)
    contexts = _contexts(settings)   # before Julia starts: it may choose libmxnet's engine
    return julia.get().call("PyJLChar.train_model", settings, str(text_file), contexts,
                            resume=resume, on_event=on_event)


def sample_texts(params: Path, settings: dict, seed: int | None, cell: str | None = None) -> list[str]:
    """Samples per settings["sample"], run through `cell` (None: the checkpoint's own)."""
    s, context = settings["sample"], _contexts(settings)[0]
    return julia.get().call("PyJLChar.sample_text", str(params), length=s["length"],
                            temperature=s["temperature"], top_k=s["top_k"], prime=s["start"],
                            seed=seed, num_samples=s["num_samples"], context=context, cell=cell)


def evaluate_text(params: Path, text_path: str, settings: dict, cell: str | None = None) -> dict:
    text, context = corpus.read_corpus(text_path), _contexts(settings)[0]
    return julia.get().call("PyJLChar.evaluate_text", str(params), text, context=context, cell=cell)
