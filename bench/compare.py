"""Benchmark: the original's char-lstm trained and sampled by pyjlchar, PyTorch and Apache MXNet Python.

Run it from the checkout (about 10 minutes at the defaults: 5 columns, each 60 s of training
plus start-up and validation, then 2 x 5 s of sampling plus start-up; --quick is a smoke test
of about 2 minutes):

    .venv/bin/python bench/compare.py [--budget 60] [--sample-seconds 5] [--threads N] [--rounds 1]
                                      [--corpus PATH] [--only torch,mxnet-fused,...]
                                      [--no-train | --no-sample] [--quick]

Prints the machine, then two markdown tables. Training: throughput (chars/s after a warm-up),
the worker process's peak RSS, throughput relative to PyTorch, and the NLL after the same
wall-clock training budget. Sampling: chars/s generating text one character at a time, at 1
stream and at 32 (a batch of independent texts), each relative to PyTorch's, and the sampling
worker's peak RSS. Columns (--only picks some), each a training and a sampling worker
subprocess in its own virtual environment:

    pyjlchar-lstm   bench/_pyjlchar_{train,sample}.py in this python: the bench_train and
                    bench_sample commands (julia/src/Commands.jl), unrolled cell
    pyjlchar-fused  the same with the fused cell
    torch           bench/_torch_{train,sample}.py in <cache>/torch-venv (torch 2.13.0+cpu):
                    nn.LSTM
    torch-onednn-off  the same training with torch.backends.mkldnn off (its sampling worker
                    times that variant itself)
    mxnet-lstm      bench/_mxnet_python_{train,sample}.py in <cache>/mxnet-python-venv (mxnet
                    1.9.1): the unrolled graph, node for node pyjlchar's (bench/_mxnet_python_step.py)
    mxnet-fused     the same venv: Embedding -> the RNN operator (mode lstm) -> FullyConnected

The venvs are made on first use (bench/_torch_venv.py, bench/_mxnet_venv.py; under a minute each
with the wheels at hand). A column that cannot run is listed under the table with its reason.

Model (the original's): 2 LSTM layers, 256 hidden, 256 embedding, no dropout, softmax over the
vocabulary; ADAM lr 0.01 (beta 0.9/0.999, eps 1e-8), gradient of the summed NLL scaled by
1/batch, clipped element-wise to [-1, 1], then weight decay 1e-5 added on every parameter;
weights uniform in [-0.1, 0.1], biases zero; seed 42 (each framework its own generator).
The embedding is a bias-free FullyConnected of one-hot characters in pyjlchar and the MXNet
unrolled graph, a table lookup (Embedding) in PyTorch and the MXNet RNN-op model: the same maths.
tests/test_compare_bench.py checks that nn.LSTM and the RNN-op model give the unrolled graph's
NLL and gradients for the same weights.

Data protocol, identical for all (`load_data` and `batch_slice` below are the Python workers'
one implementation; pyjlchar's is julia/src/CharLSTM/corpus/{vocab,batches}.jl):
- text: the corpus file's bytes decoded as UTF-8, nothing translated (newlines kept as they are);
- vocabulary: every distinct character sorted by code point, class i the i-th, plus one
  unknown class (the last), which the corpus itself never uses;
- split: the first round(n * 0.9) characters (ties to even, as Julia's round) train, the rest
  validate;
- batch k of a part: the chunk of characters k*B*T .. (k+1)*B*T (one more for the last label);
  sequence i holds the chunk's i-th run of T characters, its labels are the characters one
  further; a tail that does not fill a batch is dropped;
- training takes batches 0, 1, 2, ... in order and starts over after the last, unshuffled;
  the LSTM state is zero at the start of every batch;
- budget: training stops at the end of the first batch that ends --budget seconds or more after
  the first batch started (at least warm-up + 1 batches); chars/s counts the batches after the
  first --warmup ones, over the time since the warm-up ended;
- train NLL: mean per-character NLL over all batches trained within the budget (the original's
  training summary of an epoch);
- validation NLL: after training (outside the budget), mean natural-log NLL per character over
  all full validation batches, the state reset per batch;
- peak RSS: the worker process's ru_maxrss at its end (framework, data and compilation included).

Sampling protocol (--no-sample leaves it out, --no-train the training): the same model sizes,
the corpus's number of classes (its vocabulary plus the unknown class), random weights
(uniform in [-0.1, 0.1]: speed does not depend on them), fresh per stream count. Every stream
starts from class 0 and a zero state; per step each stream's last character goes in, the LSTM
runs one step from the states the previous step left, and each stream draws its next character
from the softmax at temperature 1. Timing as pyjlchar's bench_sample (`sample_for` below): 20
warm-up steps, then calls of 100 steps until --sample-seconds (5) have passed; chars/s counts
the characters of all streams. Each framework as its users write a sampler:
- pyjlchar: the bench_sample command, `pyjlchar sample`'s own path: the fused cell's one-step
  graph as a cached op, states carried in libmxnet, each stream's draw in Julia (TextDraw's draw!);
- PyTorch: nn.Embedding -> nn.LSTM ((h, c) carried) -> nn.Linear -> softmax ->
  torch.multinomial, under torch.inference_mode(); by default nn.LSTM runs oneDNN's LSTM, which
  reorders its weights at every call, so the worker also times it with oneDNN off, a row of its
  own ("nn.LSTM, oneDNN off"); the ratios are to the faster of the two, per stream count;
- Apache MXNet Python: the graph bound once (simple_bind, no gradients) for one step of all
  streams with its final states as outputs, copied onto its initial states after each forward;
  the probabilities are copied to numpy and drawn there (`draw_ids` below).

Interleaving: every round runs each column once (its training, then its sampling), one at a
time, and the next round starts one column later, so slow drifts of background load fall on
all alike; the tables give each column's medians over rounds (peak RSS: the largest).
Threads: by default pyjlchar's workers choose their threads as pyjlchar does for its users (a
thread per core this process may use, pyjlchar/bridge/threads.py; the tables name the count), and the others get the core
count (OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS, torch.set_num_threads); --threads
N sets N for every worker. Ratios are to PyTorch at its best: the faster of oneDNN on and off,
in training and at each stream count of sampling. The report ends with the figures the project
has targets for, each against its target. libmxnet's engine is each
frontend's own choice: pyjlchar's naive engine on one CPU, Apache MXNet Python's threaded
default; MXNET_ENGINE_TYPE set for this command sets both (the tables name each column's engine).

Only the standard library is imported at the top: the workers, in their own venvs, import
this file for the protocol. The model and training settings are pyjlchar's defaults
(pyjlchar/settings.py), which the main process passes to every worker.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent

QUICK = dict(layers=2, hidden=32, embed=32, seq_len=16, batch=16, budget=3.0, warmup=1, sample_seconds=1.0)
STREAMS = (1, 32)  # sampling: one text, and a batch of independent texts drawn side by side
# Sampling steps per stream, as bench_sample (julia/src/CharLSTM/use/throughput.jl) takes them.
SAMPLE_WARMUP, SAMPLE_CHUNK = 20, 100
SAMPLE_TEMPERATURE = 1.0  # bench_sample's; the Python workers still apply it, as a user's sampler would


# -- the data protocol and the training loop, shared by the Python workers --------------------

def load_data(path, train_ratio):
    """(n_class, train ids, validation ids) of the corpus at `path`, per the data protocol."""
    text = Path(path).read_bytes().decode("utf-8")
    chars = sorted(set(text))
    class_of = {c: i for i, c in enumerate(chars)}
    ids = [class_of[c] for c in text]
    n_train = round(len(ids) * train_ratio)
    return len(chars) + 1, ids[:n_train], ids[n_train:]


def n_batches(n_ids, batch, seq_len):
    return (n_ids - 1) // (batch * seq_len)


def batch_slice(k, batch, seq_len):
    """The ids of batch k: its chunk plus the one character after it (the last label)."""
    return slice(k * batch * seq_len, (k + 1) * batch * seq_len + 1)


def train_for(step, n_train_batches, budget, warmup, chars_per_batch):
    """Calls step(k) (trains batch k, returns its mean NLL per character, synchronously) until
    the budget is spent; returns the training figures of the worker's JSON line."""
    nlls = []
    started = time.perf_counter()
    warm = None
    while True:
        nlls.append(step(len(nlls) % n_train_batches))
        now = time.perf_counter()
        if len(nlls) == warmup:
            warm = now
        if now - started >= budget and len(nlls) > warmup:
            break
    timed_from = started if warm is None else warm
    return {"chars_per_s": (len(nlls) - warmup) * chars_per_batch / (now - timed_from),
            "batches": len(nlls), "seconds": now - started, "train_nll": sum(nlls) / len(nlls)}


def mean_over_batches(score, n_val_batches):
    """The mean of score(k) (a batch's mean NLL per character) over validation batches 0..n-1;
    batches are the same size, so this is the mean per character."""
    return sum(score(k) for k in range(n_val_batches)) / n_val_batches


def sample_for(generate, streams, seconds):
    """chars/s (all streams together) of generate(n), which draws n more characters per stream,
    the states carried, synchronously: one warm-up call, then calls until `seconds` have passed."""
    generate(SAMPLE_WARMUP)
    n_chars, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        generate(SAMPLE_CHUNK)
        n_chars += SAMPLE_CHUNK * streams
    return n_chars / (time.perf_counter() - started)


def draw_ids(probs, uniform, temperature):
    """One class id per row of `probs` (a numpy streams x classes array) sharpened by
    `temperature`, by inverse CDF of `uniform` (numpy, one value in [0, 1) per row): the batched
    draw a numpy user writes (the MXNet workers'). Scaling by the row's total keeps it in range
    whatever float32 sums to."""
    weights = probs ** (1.0 / temperature)
    cdf = weights.cumsum(axis=1)
    return (cdf > uniform[:, None] * cdf[:, -1:]).argmax(axis=1)


def worker_arguments(argv=None, cells=("lstm",)):
    """A worker's settings (compare.py passes them all)."""
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--cell", choices=cells, default=cells[0])
    p.add_argument("--onednn", choices=("on", "off"), default="on")   # PyTorch's: its oneDNN kernels
    for key in ("layers", "hidden", "embed", "seq_len", "batch", "warmup", "threads", "seed"):
        p.add_argument("--" + key.replace("_", "-"), type=int, required=True)
    for key in ("budget", "train_ratio", "lr", "weight_decay", "grad_clip", "init_scale"):
        p.add_argument("--" + key.replace("_", "-"), type=float, required=True)
    return p.parse_args(argv)


def sample_worker_arguments(argv=None, cells=("lstm",)):
    """A sampling worker's settings (compare.py passes them all); --streams is a comma list."""
    p = argparse.ArgumentParser()
    p.add_argument("--cell", choices=cells, default=cells[0])
    for key in ("layers", "hidden", "embed", "n_class", "threads", "seed"):
        p.add_argument("--" + key.replace("_", "-"), type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--streams", type=lambda text: [int(n) for n in text.split(",")], required=True)
    return p.parse_args(argv)


def report(result):
    """Prints the worker's one JSON line, with the process's peak RSS added."""
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps(result), flush=True)


# -- the driver ---------------------------------------------------------------------------------

class Column(NamedTuple):
    framework: str
    cell: str
    train: str    # the training worker's script
    sample: str | None   # the sampling worker's script (None: the column only trains)
    args: list    # worker arguments of this column
    python: object  # log -> the python to run the workers with


TASKS = {"train": "training", "sample": "sampling"}


def _columns():
    import _mxnet_venv
    import _torch_venv

    own = lambda log: Path(sys.executable)  # noqa: E731  (pyjlchar runs in this very venv)
    pyjlchar = ("_pyjlchar_train.py", "_pyjlchar_sample.py")
    mxnet = ("_mxnet_python_train.py", "_mxnet_python_sample.py")
    return {
        "pyjlchar-lstm": Column("pyjlchar", "unrolled", *pyjlchar, ["--cell", "lstm"], own),
        "pyjlchar-fused": Column("pyjlchar", "fused", *pyjlchar, ["--cell", "fused"], own),
        "torch": Column("PyTorch", "nn.LSTM", "_torch_train.py", "_torch_sample.py", [], _torch_venv.ensure),
        # Its sampling worker times oneDNN off itself, beside the default.
        "torch-onednn-off": Column("PyTorch", "nn.LSTM, oneDNN off", "_torch_train.py", None, ["--onednn", "off"],
                                   _torch_venv.ensure),
        "mxnet-lstm": Column("Apache MXNet Python", "unrolled", *mxnet, ["--cell", "lstm"], _mxnet_venv.ensure),
        "mxnet-fused": Column("Apache MXNet Python", "RNN op", *mxnet, ["--cell", "fused"], _mxnet_venv.ensure),
    }


COLUMN_KEYS = ("pyjlchar-lstm", "pyjlchar-fused", "torch", "torch-onednn-off", "mxnet-lstm", "mxnet-fused")
PYJLCHAR_KEYS = ("pyjlchar-lstm", "pyjlchar-fused")
# Issue targets the report checks each figure against: fused training against PyTorch at its best,
# and one stream's sampling in chars/s.
TARGETS = {"fused_training_vs_torch": 1.3, "sampling_1_stream_chars_per_s": 10_000}


def parse_args(argv=None):
    from pyjlchar.settings import DEFAULTS   # here: the workers import this file without pyjlchar

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget", type=float, default=60.0, help="training seconds per column and round (60)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for every framework (default: pyjlchar chooses its own, as for its users; "
                        "the others get the core count)")
    p.add_argument("--rounds", type=int, default=1, help="rounds, each running every column once (1)")
    p.add_argument("--warmup", type=int, default=3, help="batches before throughput is timed (3)")
    p.add_argument("--corpus", default=None, help="a UTF-8 text file (default: the built-in shakespeare)")
    p.add_argument("--only", default=",".join(COLUMN_KEYS),
                   help=f"comma-separated columns to run, of {', '.join(COLUMN_KEYS)} (all)")
    p.add_argument("--sample-seconds", type=float, default=5.0,
                   help="sampling seconds per column, stream count and round, after the warm-up (5)")
    p.add_argument("--no-sample", action="store_true", help="leave the sampling out")
    p.add_argument("--no-train", action="store_true", help="leave the training out")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: a {QUICK['layers']}x{QUICK['hidden']} model, seq_len {QUICK['seq_len']}, "
                        f"batch {QUICK['batch']}, a {QUICK['budget']:g} s budget and 1 warm-up batch, "
                        f"{QUICK['sample_seconds']:g} s of sampling")
    p.add_argument("--seed", type=int, default=DEFAULTS["train"]["seed"])
    args = p.parse_args(argv)
    args.only = [key.strip() for key in args.only.split(",") if key.strip()]
    unknown = [key for key in args.only if key not in COLUMN_KEYS]
    if unknown or not args.only:
        p.error(f"--only takes columns among {', '.join(COLUMN_KEYS)}, not {','.join(unknown) or 'nothing'}")
    if args.budget <= 0 or (args.threads is not None and args.threads <= 0) or args.rounds <= 0 or args.warmup < 1 or args.sample_seconds <= 0:
        # warm-up >= 1: every framework's first batch carries one-time costs (allocation, compilation)
        p.error("--budget, --threads, --rounds, --warmup and --sample-seconds must be positive")
    args.tasks = [task for task, off in (("train", args.no_train), ("sample", args.no_sample)) if not off]
    if not args.tasks:
        p.error("--no-train and --no-sample together leave nothing to run")
    model, train = DEFAULTS["model"], DEFAULTS["train"]
    settings = dict(layers=model["layers"], hidden=model["hidden"], embed=model["embed"], seq_len=train["seq_len"],
                    batch=train["batch_size"], budget=args.budget, warmup=args.warmup, sample_seconds=args.sample_seconds)
    if args.quick:
        settings.update(QUICK)
    args.settings = settings
    return args


def worker_env(threads):
    """A worker's environment: `threads` for its thread pools, or (None) none set, which leaves
    pyjlchar to choose, as it does for its users."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(var, None)
        if threads is not None:
            env[var] = str(threads)
    env["MXNET_SUBGRAPH_VERBOSE"] = "0"  # libmxnet would print a line at every bind
    return env


def torch_best(results, n=None):
    """PyTorch's fastest chars/s: its training columns (oneDNN on, off), or at `n` streams its
    sampling rows (the default and its variants); None when PyTorch did not run."""
    if n is None:
        rates = [results[key]["chars_per_s"] for key in ("torch", "torch-onednn-off") if key in results]
    else:
        r = results.get("torch")
        rates = [] if r is None else [r["chars_per_s"][n], *(v[n] for v in r["variants"].values())]
    return max(rates, default=None)


def run_worker(python, script, worker_argv, env, timeout):
    """The worker's JSON result, or a one-line reason why there is none."""
    try:
        proc = subprocess.run([str(python), str(HERE / script), *worker_argv], capture_output=True,
                              text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"did not finish within {timeout:.0f} s"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1]), None
    err = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    message = err[-1].removeprefix("error: ")[:300] if err else "no message"
    return None, f"{message} (exit {proc.returncode})"


def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def table(results, keys, columns):
    torch_rate = torch_best(results)
    rows = ["| framework | cell | chars/s | vs PyTorch at its best | peak RSS (MB) | batches | train NLL | val NLL |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in keys:
        framework, cell = columns[key][:2]
        r = results.get(key)
        if r is None:
            rows.append(f"| {framework} | {cell} | failed (below) | | | | | |")
            continue
        ratio = r["chars_per_s"] / torch_rate if torch_rate else None
        rows.append(f"| {r.get('version', framework)} | {cell} | {r['chars_per_s']:.0f} | {fmt(ratio, '.2f')} | "
                    f"{r['peak_rss_mb']:.0f} | {r['batches']:.0f} | {r['train_nll']:.3f} | {r['val_nll']:.3f} |")
    return "\n".join(rows)


def sample_table(results, keys, columns):
    """Sampling chars/s per stream count, each against PyTorch's fastest row at that count; a
    worker's variants (PyTorch's with oneDNN off) are rows of their own."""
    head = ["framework", "cell"]
    for n in STREAMS:
        head += [f"chars/s, {n} stream{'s' if n > 1 else ''}", "vs PyTorch at its best"]
    head.append("peak RSS (MB)")
    rows = ["| " + " | ".join(head) + " |", "| --- | --- |" + " ---: |" * (len(head) - 2)]
    for key in keys:
        framework, cell = columns[key][:2]
        r = results.get(key)
        if r is None:
            rows.append(f"| {framework} | {cell} | failed (below) |" + " |" * (len(head) - 3))
            continue
        for name, rates in [(cell, r["chars_per_s"]), *r["variants"].items()]:
            values = []
            for n in map(str, STREAMS):
                best = torch_best(results, n)
                ratio = rates[n] / best if best else None
                values += [f"{rates[n]:.0f}", fmt(ratio, ".2f")]
            rows.append(f"| {r['version']} | {name} | {' | '.join(values)} | {r['peak_rss_mb']:.0f} |")
    return "\n".join(rows)


def targets(results):
    """The figures the issue set targets for, each against its target."""
    lines = ["Targets:"]
    fused, best = results.get("train", {}).get("pyjlchar-fused"), torch_best(results.get("train", {}))
    if fused and best:
        ratio, goal = fused["chars_per_s"] / best, TARGETS["fused_training_vs_torch"]
        lines.append(f"- fused training {fused['chars_per_s']:.0f} chars/s, {ratio:.2f}x PyTorch at its best "
                     f"(target >= {goal:g}x): {'met' if ratio >= goal else 'not met'}")
    one = results.get("sample", {}).get("pyjlchar-fused")
    if one:
        rate, goal = one["chars_per_s"]["1"], TARGETS["sampling_1_stream_chars_per_s"]
        best = torch_best(results.get("sample", {}), "1")
        vs = f", {rate / best:.2f}x PyTorch at its best" if best else ""
        lines.append(f"- single-stream sampling {rate:.0f} chars/s{vs} (target >= {goal} chars/s): "
                     f"{'met' if rate >= goal else 'not met'}")
    return "\n".join(lines)


def combine_sample(runs):
    """One column's sampling rounds: the median chars/s per row and stream count, the largest
    peak RSS, the worker's version string."""
    def medians(rates):
        return {n: statistics.median(r[n] for r in rates) for n in rates[0]}

    return {"chars_per_s": medians([r["chars_per_s"] for r in runs]),
            "variants": {name: medians([r["variants"][name] for r in runs]) for name in runs[0].get("variants", {})},
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "version": runs[0].get("version"),
            "omp_num_threads": runs[0].get("omp_num_threads")}


def combine(runs):
    """One column's rounds: medians, the largest peak RSS, the worker's version string."""
    out = {key: statistics.median(r[key] for r in runs)
           for key in ("chars_per_s", "batches", "seconds", "train_nll", "val_nll")}
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    out["version"] = runs[0].get("version")
    out["omp_num_threads"] = runs[0].get("omp_num_threads")
    return out


def main(argv=None):
    args = parse_args(argv)
    from pyjlchar.corpus import files as corpus
    from pyjlchar.errors import UserError

    try:
        corpus_file = corpus.corpus_path(args.corpus or "shakespeare")
        corpus.check_file(corpus_file)  # missing, a directory or a pipe, empty: one sentence
        corpus_file.read_bytes().decode("utf-8")
    except UserError as e:
        sys.exit(f"error: {e}")
    except UnicodeDecodeError as e:
        sys.exit(f"error: corpus file {corpus_file} is not UTF-8 (byte at offset {e.start}): convert it, "
                 "e.g. with iconv -f latin1 -t utf-8")
    # Every worker reads this run's own copy: the same bytes even if the cache changes meanwhile.
    with tempfile.TemporaryDirectory(prefix="compare-bench-") as tmp:
        snapshot = Path(tmp) / corpus_file.name
        shutil.copyfile(corpus_file, snapshot)
        return run(args, snapshot)


def run(args, corpus_file):
    """Runs the columns on `corpus_file` and prints the report; 1 if any column failed."""
    from pyjlchar.settings import DEFAULTS

    s = args.settings
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    ratio, t = DEFAULTS["data"]["train_ratio"], DEFAULTS["train"]
    n_class, train_ids, val_ids = load_data(corpus_file, ratio)
    per_batch = s["batch"] * s["seq_len"]
    n_train, n_val = n_batches(len(train_ids), s["batch"], s["seq_len"]), n_batches(len(val_ids), s["batch"], s["seq_len"])
    if "train" in args.tasks and (n_train < 1 or n_val < 1):
        sys.exit(f"error: {args.corpus or corpus_file.name} is too short for one training and one validation "
                 f"batch of {per_batch + 1} characters: use a bigger corpus")

    columns = _columns()
    pythons, failures = {}, {}  # failures: (key, "setup" or task) -> reason
    for key in args.only:
        try:
            pythons[key] = columns[key].python(log)
        except Exception as e:  # a venv that cannot be made fails its column only
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            reason = lines[0].rstrip(":") + (f": {lines[-1]}" if len(lines) > 1 else "")
            failures[key, "setup"] = f"its virtual environment could not be made: {reason}"

    threads = args.threads or os.cpu_count() or 1   # the other frameworks' (torch.set_num_threads)
    model = ["--layers", s["layers"], "--hidden", s["hidden"], "--embed", s["embed"], "--threads", threads,
             "--seed", args.seed]
    worker_argv = {
        "train": ["--corpus", corpus_file, *model, "--seq-len", s["seq_len"], "--batch", s["batch"],
                  "--warmup", s["warmup"], "--budget", s["budget"], "--train-ratio", ratio, "--lr", t["learning_rate"],
                  "--weight-decay", t["weight_decay"], "--grad-clip", t["grad_clip"], "--init-scale", t["init_scale"]],
        "sample": [*model, "--n-class", n_class, "--seconds", s["sample_seconds"],
                   "--streams", ",".join(map(str, STREAMS))]}
    worker_argv = {task: list(map(str, argv)) for task, argv in worker_argv.items()}
    # Sampling: PyTorch's worker measures two variants, each at every stream count.
    timeouts = {"train": 600 + 3 * s["budget"], "sample": 600 + 6 * len(STREAMS) * s["sample_seconds"]}
    envs = {key: worker_env(None if key in PYJLCHAR_KEYS and not args.threads else threads) for key in args.only}
    load_before = os.getloadavg()
    runs = {(key, task): [] for key in pythons for task in args.tasks}
    keys = list(pythons)
    for r in range(args.rounds if keys else 0):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            for task in args.tasks:
                if (key, task) in failures or getattr(columns[key], task) is None:
                    continue
                log(f"round {r + 1}/{args.rounds}: {key} {TASKS[task]} ...")
                result, reason = run_worker(pythons[key], getattr(columns[key], task),
                                            worker_argv[task] + columns[key].args, envs[key], timeout=timeouts[task])
                if reason:
                    failures[key, task] = reason
                    log(f"  failed: {reason}")
                    continue
                runs[key, task].append(result)
                if task == "train":
                    log(f"  {result['chars_per_s']:.0f} chars/s, {result['batches']} batches, "
                        f"val NLL {result['val_nll']:.3f}, peak RSS {result['peak_rss_mb']:.0f} MB")
                else:
                    log("  " + ", ".join(f"{rate:.0f} chars/s at {n} stream(s)"
                                         for n, rate in result["chars_per_s"].items()))
    results = {task: {key: (combine if task == "train" else combine_sample)(rs)
                      for (key, t), rs in runs.items() if t == task and rs and (key, task) not in failures}
               for task in args.tasks}

    from pyjlchar.ops.throughput import cpu_model   # here: the workers import this file without pyjlchar

    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    chosen = {r["omp_num_threads"] for task in results.values() for key, r in task.items()
              if key in PYJLCHAR_KEYS and r.get("omp_num_threads")}
    threads_note = (f"{args.threads} thread(s) per framework" if args.threads else
                    f"pyjlchar's own thread choice (OMP_NUM_THREADS={'/'.join(sorted(chosen)) or 'n/a'}), "
                    f"{threads} thread(s) for the others")
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores; {threads_note}; {date}; "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    corpus_name = args.corpus or "the built-in shakespeare"
    if "train" in args.tasks:
        print(f"Model: {s['layers']}x{s['hidden']} LSTM, embed {s['embed']}, seq_len {s['seq_len']}, "
              f"batch {s['batch']}, {t['optimizer'].upper()} lr {t['learning_rate']:g}, wd {t['weight_decay']:g}, "
              f"clip {t['grad_clip']:g}; corpus {corpus_name} "
              f"({len(train_ids) + len(val_ids)} chars, {n_class} classes, {n_train} train / {n_val} validation batches); budget {s['budget']:g} s, "
              f"warm-up {s['warmup']} batches, {args.rounds} round(s), medians\n")
        print(table(results["train"], args.only, columns))
    if "sample" in args.tasks:
        print(("\n" if "train" in args.tasks else "") +
              f"Sampling: {s['layers']}x{s['hidden']} LSTM, embed {s['embed']}, {n_class} classes (those of "
              f"{corpus_name}), random weights; one character per stream and step, the states carried, drawn "
              f"from the softmax at temperature {SAMPLE_TEMPERATURE:g}; {SAMPLE_WARMUP} warm-up steps, then "
              f"{s['sample_seconds']:g} s per stream count; chars/s of all streams together; {args.rounds} round(s), "
              f"medians\n")
        print(sample_table(results["sample"], [key for key in args.only if columns[key].sample], columns))
    print("\n" + targets(results))
    if failures:
        print()
    for key in args.only:
        for task in ("setup", *args.tasks):
            if (key, task) in failures:
                what = key if task == "setup" else f"{key} {TASKS[task]}"
                print(f"- {what} failed: {failures[key, task]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))  # _mxnet_venv, _torch_venv
    sys.exit(main())
