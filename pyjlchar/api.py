"""pyjlchar's Python API: what the commands do, for scripts and notebooks.

Every function runs the same Julia code as the command of the same name (which calls it), with
the same settings, checks and one-sentence errors (`UserError`, raised). Settings are keys by
name, as in the TOML file (pyjlchar/settings.py lists them): `epochs=2`, `graph="unrolled"`,
`checkpoint_dir="runs/a"`.
Julia runs in this process, on a thread of its own: any thread may call, one call at a time.
"""
from __future__ import annotations

import functools
import io
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Literal, Sequence, Union

from . import bridge, commands
from . import settings as table
from .errors import Interrupted, UserError
from .show.progress import Bars

#: What a call reports while it works, one event (a dict) at a time: "log" (level, message),
#: "progress" (training: epoch, n_epoch, batch, n_batch, nll, chars_per_s, eta_s), "task"
#: (what, done, total, unit), "checkpoint" (path), "text" (texts: each sample's new characters).
ProgressHandler = Callable[[dict], None]
Graph = Literal["fused", "unrolled"]
PathLike = Union[str, "os.PathLike[str]"]

# Characters a text stream asks Julia for at a time. With the original's model on 2 CPU cores 32
# take about 11 ms, which looks immediate when shown as they come, and a call's own cost (about a
# character's) is then some 2 per cent; `sample` shows one sample in runs of as many (POLL_EVERY).
STREAM_CHUNK = 32


class History(list):
    """A run's per-epoch history: the meta file's entries (dicts with "epoch", "train_nll",
    "val_nll", "seconds", "graph"), oldest first. In a notebook it shows as the run's training
    curves; `plot()` returns them as a matplotlib Figure.

    >>> run.history[-1]["val_nll"]        # doctest: +SKIP
    1.4731
    """

    def __init__(self, entries: list, prefix: str):
        super().__init__(entries)
        self.prefix = prefix

    def plot(self):
        """The run's training and validation NLL curves, a matplotlib Figure (see `curves`)."""
        return curves(self.prefix)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.plot().savefig(buffer, format="png")
        return buffer.getvalue()


class Run:
    """A training run that `train` finished.

    - ``prefix``: the run's checkpoint prefix (``checkpoint_dir/name``), which `load` and `curves` take;
    - ``best``: the ``.params`` file of its checkpoint with the best validation NLL (what the
      prefix stands for), None for a worker of a job that writes no files;
    - ``meta``: its meta file's content (vocabulary, model, settings, history);
    - ``history``: the per-epoch `History`, drawn as curves in a notebook.
    """

    def __init__(self, prefix: str, meta: dict, best: str | None):
        self.prefix, self.meta, self.best = prefix, meta, best

    @property
    def history(self) -> History:
        return History(self.meta["history"], self.prefix)

    def load(self, **options) -> Model:
        """The run's best checkpoint, loaded: ``run.load(graph="unrolled")`` takes `load`'s options."""
        return load(self.prefix, **options)

    def plot(self):
        """The run's training curves, a matplotlib Figure (see `curves`)."""
        return curves(self.prefix)

    def __repr__(self) -> str:
        return f"Run(prefix={self.prefix!r}, epochs={len(self.meta['history'])}, best={self.best!r})"


def train(config: PathLike | dict | None = None, *, resume: bool = False, allow_new_text: bool = False,
          on_progress: ProgressHandler | None = None, stop: threading.Event | None = None, **settings) -> Run:
    """Trains a character-level language model, saving a checkpoint after every epoch, as
    ``pyjlchar train`` does; blocks until the run ends and returns it. Its first log line says
    how many OpenMP threads libmxnet runs with, and why.

    `config` is a TOML file, a shipped config by name ("quick", "shakespeare"), a dict of
    sections (as `settings.load` returns), or None for the defaults; `settings` override it, each
    a key by name (``epochs=2``, ``hidden=512``, ``corpus="texts/"``) or, with
    ``**{"train.epochs": 2}``, by section and key. `resume` continues the run saved in the
    checkpoint folder; `allow_new_text` lets it go on with a changed corpus. `on_progress`
    receives every event (`ProgressHandler`); by default log lines go to stderr and a progress
    bar shows (a widget in a notebook).

    Ctrl-C (a notebook's interrupt button), SIGTERM, SIGHUP, the interpreter's exit, or setting
    the `stop` event (a threading.Event, from any thread) save the epoch in progress at the next
    batch, then raise `Interrupted` (a KeyboardInterrupt); ``train(..., resume=True)`` goes on
    from there. This holds in whatever thread the run trains.

    >>> import pyjlchar as pj
    >>> run = pj.train("quick", epochs=1, hidden=64, checkpoint_dir="runs/a")  # doctest: +SKIP
    >>> run.prefix                                                                # doctest: +SKIP
    'runs/a/quick'
    """
    for name, value in (("resume", resume), ("allow_new_text", allow_new_text)):
        if not isinstance(value, bool):
            raise UserError(f"{name} must be True or False, not {value!r}")
    if stop is not None and not isinstance(stop, threading.Event):
        raise UserError(f"stop must be a threading.Event (set it to stop the run), not {type(stop).__name__}")
    checked = table.load(config, **settings)
    call = commands.train(checked, resume=resume, allow_new_text=allow_new_text)
    display = on_progress or Bars()
    try:
        threads = bridge.get(call.context).started.threads
        display({"event": "log", "level": "warn" if threads.warning else "info", "message": f"Threads: {threads.line()}"})
        result = bridge.run(call, on_event=display, stop_when=stop)
    except Interrupted as e:
        if on_progress is None:
            saved = display.checkpoints or resume
            display.close()
            print(f"{e.what}; " + ("the checkpoint keeps the work so far: train again with resume=True to go on"
                                   if saved else "no checkpoint was saved yet: there is nothing to resume"),
                  file=sys.stderr)
        raise
    finally:
        if on_progress is None:
            display.close()
    return Run(str(Path(checked["run"]["checkpoint_dir"]) / checked["model"]["name"]), result["meta"],
               result["best"])


def serve_job(config: PathLike | dict | None = None, **settings) -> None:
    """In a process a launcher started as the scheduler or a server of a parameter-server job
    (DMLC_ROLE), serves the job until its workers finish, as ``pyjlchar train`` does there;
    `config` and `settings` are `train`'s (only their [compute] kvstore counts)."""
    checked = table.load(config, **settings)
    bridge.run(commands.ps_node(checked))


def _one_at_a_time(method):
    """`method` run holding its object's lock: threads that share a Model or a TextStream take
    turns, so that none uses a handle another has just closed or a chunk another is reading."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


class Model:
    """A trained checkpoint, loaded once into Julia (see `load`) and used any number of times,
    from any thread (one call at a time). Its memory is freed by `close()`, at the end of a
    ``with`` block, or when the object is garbage-collected.

    - ``vocab``: the characters it knows, in class-id order (class ``len(vocab)`` is "unknown");
    - ``spec``: its architecture ("name", "cell", "graph" as it runs, "layers", "hidden",
      "embed", "dropout", "n_class");
    - ``checkpoint``: the ``.params`` file loaded; ``prefix``: its run's prefix;
    - ``meta``: its meta file's content; ``history``: the run's `History` (curves in a notebook).
    """

    def __init__(self, loaded: dict):
        self._handle: int | None = loaded["handle"]
        self._lock = threading.RLock()
        self.checkpoint: str = loaded["checkpoint"]
        self.prefix: str = loaded["prefix"]
        self.meta: dict = loaded["meta"]
        self.spec: dict = loaded["spec"]
        self.vocab: str = "".join(loaded["meta"]["vocab"])

    @property
    def history(self) -> History:
        return History(self.meta["history"], self.prefix)

    @_one_at_a_time
    def sample(self, length: int | None = None, *, prime: str | None = None, temperature: float | None = None,
               top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
               num_samples: int | None = None, on_progress: ProgressHandler | None = None) -> str | list[str]:
        """Text drawn from the model: the `prime` text followed by `length` characters, as
        ``pyjlchar sample`` draws it. Unset options take the [sample] defaults (length 100,
        prime "a", temperature 1, top_k 0, top_p 1). `temperature` 0 always takes the likeliest
        character; `top_k` > 0 draws among the k likeliest, `top_p` < 1 among the likeliest
        whose probabilities sum to at least top_p. The same `seed` (0 to 2147483647) gives the
        same text. One sample is returned as a str; with `num_samples`, a list of that many,
        drawn as one batch. `on_progress` sees the text as it is drawn ("text" events).

        >>> model.sample(300, prime="ROMEO:", temperature=0.8, seed=1)   # doctest: +SKIP
        'ROMEO:\\nWhat say you ...'
        >>> len(model.sample(100, num_samples=4))                        # doctest: +SKIP
        4
        """
        settings = table.load(None, length=length, prime=prime, temperature=temperature, top_k=top_k, top_p=top_p,
                                num_samples=1 if num_samples is None else num_samples)
        texts = bridge.run(commands.sample(self._live(), settings, _seed(seed)), on_event=on_progress)
        return texts[0] if num_samples is None else texts

    @_one_at_a_time
    def stream(self, prime: str | None = None, *, length: int | None = None, temperature: float | None = None,
               top_k: int | None = None, top_p: float | None = None, seed: int | None = None) -> TextStream:
        """The characters that follow `prime`, one at a time, drawn as they are asked for (a
        chunk at a time), the model's state carried from each to the next: endless unless
        `length` is given. The options are `sample`'s; with the same seed the characters are
        those `sample` draws after the prime. The stream has its own state, so sampling in
        between does not disturb it.

        >>> for char in model.stream("KING:", length=200, seed=1):      # doctest: +SKIP
        ...     print(char, end="", flush=True)
        """
        settings = table.load(None, prime=prime, temperature=temperature, top_k=top_k, top_p=top_p, length=length)
        opened = bridge.run(commands.open_stream(self._live(), settings, _seed(seed)))
        return TextStream(opened["handle"], length)

    @_one_at_a_time
    def evaluate(self, path_or_paths: PathLike | Sequence[PathLike] | None = None, *, text: str | None = None,
                 streams: int | None = None, on_progress: ProgressHandler | None = None) -> dict:
        """Scores a text, as ``pyjlchar eval`` does: files, folders (every *.txt under them) or
        built-in corpora, read in order as one text, or a `text` given as a string. Returns
        "nll" (per character, in nats), "perplexity", "bits_per_char", "n_chars", "n_predicted",
        "unknown" (characters outside the vocabulary) and "streams": the number of contiguous
        pieces scored side by side (`streams`; by default one per 16 KiB, at most 64; 1 is one
        continuous stream). By default a progress bar shows for long texts.

        >>> model.evaluate("held-out.txt")["bits_per_char"]             # doctest: +SKIP
        2.0813
        >>> model.evaluate(text="To be, or not to be")["nll"]           # doctest: +SKIP
        1.6204
        """
        if (path_or_paths is None) == (text is None):
            raise UserError("evaluate scores either files (path_or_paths) or a text (text=...): give one of them")
        if streams is not None:
            table.checked(table.KEYWORDS, "", "streams", streams, table.OPTIONS["streams"])
        if text is not None:
            call = commands.evaluate_text(self._live(), text, streams)
        else:
            paths = [path_or_paths] if isinstance(path_or_paths, (str, os.PathLike)) else list(path_or_paths)
            call = commands.evaluate(self._live(), [str(p) for p in paths], streams)
        display = on_progress or Bars()
        try:
            return bridge.run(call, on_event=display)
        finally:
            if on_progress is None:
                display.close()

    @_one_at_a_time
    def close(self) -> None:
        """Frees the model's memory in Julia now; the model cannot be used after."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            bridge.run(commands.free([handle]))

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # A finalizer may run inside another Julia call: Julia frees it with the next one.
        if getattr(self, "_handle", None) is not None:
            bridge.release(self._handle)

    def _live(self) -> int:
        if self._handle is None:
            raise UserError(f"the model of {self.checkpoint} is closed: load it again with pyjlchar.load")
        return self._handle

    def __repr__(self) -> str:
        state = "" if self._handle is not None else ", closed"
        return (f"Model({self.checkpoint!r}, cell={self.spec['cell']!r}, graph={self.spec['graph']!r}, "
                f"vocab={len(self.vocab)} chars{state})")


def _seed(seed: int | None) -> int | None:
    """A sampling seed, checked as [train] seed is."""
    if seed is not None:
        table.checked(table.KEYWORDS, "", "seed", seed, table.SECTIONS["train"].keys["seed"])
    return seed


class TextStream(Iterator[str]):
    """The characters a model draws after a prime, one at a time (see `Model.stream`). Julia
    keeps the stream's state until the iterator ends, is closed or is garbage-collected."""

    def __init__(self, handle: int, length: int | None):
        self._handle: int | None = handle
        self._lock = threading.RLock()
        self._left = length  # characters still to draw; None: no end
        self._chunk, self._at = "", 0

    @_one_at_a_time
    def __next__(self) -> str:
        if self._at == len(self._chunk):
            self._chunk, self._at = self.next_chunk(), 0
            if not self._chunk:
                raise StopIteration
        self._at += 1
        return self._chunk[self._at - 1]

    @_one_at_a_time
    def next_chunk(self) -> str:
        """The stream's next characters as they are drawn, up to STREAM_CHUNK of them (the rest
        of a chunk that iterating started, else one Julia call); "" once the stream has ended.
        For showing text as it comes without a step per character.

        >>> while chunk := stream.next_chunk():                          # doctest: +SKIP
        ...     print(chunk, end="", flush=True)
        """
        if self._at < len(self._chunk):
            rest, self._chunk, self._at = self._chunk[self._at:], "", 0
            return rest
        if self._handle is None or self._left == 0:
            self.close()
            return ""
        count = STREAM_CHUNK if self._left is None else min(STREAM_CHUNK, self._left)
        chunk = bridge.run(commands.stream_next(self._handle, count))
        self._left = None if self._left is None else self._left - count
        return chunk

    @_one_at_a_time
    def close(self) -> None:
        """Ends the stream; Julia frees its state with its next call."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            bridge.release(handle)

    def __del__(self):
        self.close()


def load(checkpoint: PathLike, *, graph: Graph | None = None, context: str | None = None) -> Model:
    """A trained checkpoint, loaded once to sample, stream and evaluate any number of times:
    a ``.params`` file, or a run's prefix (``checkpoints/ptb``: its checkpoint with the best
    validation NLL). `graph` runs it, whichever graph trained it: "fused" (libmxnet's RNN
    operator, the default) is the faster, "unrolled" (the original's graph) gives the same
    probabilities up to rounding. `context`: "cpu" (the default) or "gpu".

    >>> with pj.load("runs/a/quick") as model:                        # doctest: +SKIP
    ...     print(model.sample(200, prime="KING:", seed=1))
    """
    settings = table.load(None, graph=graph, context=context)
    return Model(bridge.run(commands.load_model(os.fspath(checkpoint), settings["compute"]["context"],
                                                settings["model"]["graph"])))


def graph(*, layers: int | None = None, steps: int | None = None, hidden: int | None = None,
          embed: int | None = None, vocab: int | None = None, dropout: float | None = None,
          cell: str | None = None, graph: Graph | None = None, batch: int | None = None, show_params: bool = False,
          title: str | None = None):
    """The network as a graphviz.Digraph, as ``pyjlchar visualize`` draws it: `steps` steps of
    `layers` layers of `cell`, unrolled (the original's picture, one layer and two steps, by
    default) or with graph="fused" libmxnet's RNN operator, with the shapes (batch first) for
    `batch` streams and `vocab` classes on the arrows; `show_params` also draws the weights.
    Unset sizes are the [model] defaults. A notebook shows it inline; ``.source`` is its DOT,
    ``.render(...)`` draws it to a file.

    >>> pj.graph(layers=1, steps=2)                                     # doctest: +SKIP
    """
    from .show import drawing

    given = {"layers": layers, "hidden": hidden, "embed": embed, "dropout": dropout, "cell": cell, "graph": graph}
    model = table.load(None, **{**{k: v for k, v in table.DRAWING.items() if k in given},
                                **{k: v for k, v in given.items() if v is not None}})
    sizes = {name: table.DRAWING[name] if value is None else
             table.checked(table.KEYWORDS, "", name, value, table.OPTIONS[name])
             for name, value in (("steps", steps), ("vocab", vocab), ("batch", batch))}
    drawn = bridge.run(commands.graph(model, **sizes))
    m = model["model"]
    return drawing.digraph(drawn, title=title or drawing.default_title(m["cell"], m["layers"], sizes["steps"]),
                           show_params=show_params)


def corpus_info(corpus: str | list[str] | None = None, *, config: PathLike | dict | None = None,
                train_ratio: float | None = None, on_progress: ProgressHandler | None = None) -> dict:
    """What a corpus holds, as ``pyjlchar corpus info`` reports it: characters, distinct
    characters (the most and least frequent), lines, bytes, the characters that train and
    validate at `train_ratio`, and its encoded cache entry. `corpus` and `train_ratio` are the
    [data] settings (by default `config`'s)."""
    from .corpus import report

    settings = table.load(config, corpus=corpus, train_ratio=train_ratio)
    display = on_progress or Bars()
    try:
        return report.report(bridge.run(commands.corpus_info(settings), on_event=display))
    finally:
        if on_progress is None:
            display.close()


def curves(*runs: PathLike | Run | Model, output: PathLike | None = None):
    """The training and validation NLL of one or more runs on one chart, as ``pyjlchar plot``
    draws it (with `pyjlchar.plot`): a matplotlib Figure (shown inline in a notebook), also
    written to `output` when given (its suffix, .svg, .png or .pdf, picks the format). A run
    is a prefix (``checkpoints/ptb``), a `Run` or a `Model`.

    >>> pj.curves("runs/small/quick", "runs/big/quick", output="compare.svg")   # doctest: +SKIP
    """
    from .show import plot as charts

    if output is not None:
        charts.output_format(os.fspath(output))  # before the logs are read: fail fast
    figure = charts.curves([run.prefix if isinstance(run, (Run, Model)) else os.fspath(run) for run in runs])
    if output is not None:
        charts.save(figure, os.fspath(output))
    return figure
