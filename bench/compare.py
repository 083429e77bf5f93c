"""Benchmark: the original's char-lstm trained by pyjlchar and by PyTorch and Apache MXNet Python.

Run it from the checkout (about 8 minutes at the defaults, 5 columns of 60 s plus start-up and
validation each; --quick is a smoke test of about 2 minutes):

    .venv/bin/python bench/compare.py [--budget 60] [--threads N] [--rounds 1] [--corpus PATH]
                                      [--only torch,mxnet-fused,...] [--quick]

Prints the machine, then a markdown table: training throughput (chars/s after a warm-up), the
worker process's peak RSS, throughput relative to PyTorch, and the NLL after the same
wall-clock training budget. Columns (--only picks some), each a worker subprocess in its own
virtual environment:

    pyjlchar-lstm   bench/_pyjlchar_train.py in this python: PyJLChar.bench_train, unrolled cell
    pyjlchar-fused  the same with the fused cell
    torch           bench/_torch_train.py in <cache>/torch-venv (torch 2.13.0+cpu): nn.LSTM
    mxnet-lstm      bench/_mxnet_python_train.py in <cache>/mxnet-python-venv (mxnet 1.9.1):
                    the unrolled graph, node for node pyjlchar's (bench/_mxnet_python_step.py)
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
one implementation; pyjlchar's is julia/src/charlstm/{vocab,provider}.jl):
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

Interleaving: every round runs each column once, one at a time, and the next round starts one
column later, so slow drifts of background load fall on all alike; the table gives each
column's median over rounds (peak RSS: the largest). Threads: --threads N (default: the core
count) sets OMP_NUM_THREADS, MKL_NUM_THREADS and OPENBLAS_NUM_THREADS for every worker, and
torch.set_num_threads(N). libmxnet's engine is each frontend's own choice: pyjlchar's naive
engine on one CPU, Apache MXNet Python's threaded default; MXNET_ENGINE_TYPE set for this
command sets both (the table names each column's engine).

Only the standard library is imported at the top: the workers, in their own venvs, import
this file for the protocol.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent

MODEL = dict(layers=2, hidden=256, embed=256, seq_len=32, batch=32)
QUICK = dict(layers=2, hidden=32, embed=32, seq_len=16, batch=16, budget=3.0, warmup=1)


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


def worker_arguments(argv=None, cells=("lstm",)):
    """A worker's settings (compare.py passes them all)."""
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--cell", choices=cells, default=cells[0])
    for key in ("layers", "hidden", "embed", "seq_len", "batch", "warmup", "threads", "seed"):
        p.add_argument("--" + key.replace("_", "-"), type=int, required=True)
    for key in ("budget", "train_ratio", "lr", "weight_decay", "grad_clip", "init_scale"):
        p.add_argument("--" + key.replace("_", "-"), type=float, required=True)
    return p.parse_args(argv)


def report(result):
    """Prints the worker's one JSON line, with the process's peak RSS added."""
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps(result), flush=True)


# -- the driver ---------------------------------------------------------------------------------

def _columns():
    """key -> (framework, cell, script, extra worker args, how to get its python)."""
    import _mxnet_venv
    import _torch_venv

    own = lambda log: Path(sys.executable)  # noqa: E731  (pyjlchar runs in this very venv)
    return {
        "pyjlchar-lstm": ("pyjlchar", "unrolled", "_pyjlchar_train.py", ["--cell", "lstm"], own),
        "pyjlchar-fused": ("pyjlchar", "fused", "_pyjlchar_train.py", ["--cell", "fused"], own),
        "torch": ("PyTorch", "nn.LSTM", "_torch_train.py", [], _torch_venv.ensure),
        "mxnet-lstm": ("Apache MXNet Python", "unrolled", "_mxnet_python_train.py", ["--cell", "lstm"],
                       _mxnet_venv.ensure),
        "mxnet-fused": ("Apache MXNet Python", "RNN op", "_mxnet_python_train.py", ["--cell", "fused"],
                        _mxnet_venv.ensure),
    }


COLUMN_KEYS = ("pyjlchar-lstm", "pyjlchar-fused", "torch", "mxnet-lstm", "mxnet-fused")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget", type=float, default=60.0, help="training seconds per column and round (60)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for every framework (default: the core count)")
    p.add_argument("--rounds", type=int, default=1, help="rounds, each running every column once (1)")
    p.add_argument("--warmup", type=int, default=3, help="batches before throughput is timed (3)")
    p.add_argument("--corpus", default=None, help="a UTF-8 text file (default: the built-in shakespeare)")
    p.add_argument("--only", default=",".join(COLUMN_KEYS),
                   help=f"comma-separated columns to run, of {', '.join(COLUMN_KEYS)} (all)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: a {QUICK['layers']}x{QUICK['hidden']} model, seq_len {QUICK['seq_len']}, "
                        f"batch {QUICK['batch']}, a {QUICK['budget']:g} s budget and 1 warm-up batch")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)
    args.only = [key.strip() for key in args.only.split(",") if key.strip()]
    unknown = [key for key in args.only if key not in COLUMN_KEYS]
    if unknown or not args.only:
        p.error(f"--only takes columns among {', '.join(COLUMN_KEYS)}, not {','.join(unknown) or 'nothing'}")
    if args.budget <= 0 or args.threads <= 0 or args.rounds <= 0 or args.warmup < 1:
        # warm-up >= 1: every framework's first batch carries one-time costs (allocation, compilation)
        p.error("--budget, --threads, --rounds and --warmup must be positive")
    settings = dict(MODEL, budget=args.budget, warmup=args.warmup)
    if args.quick:
        settings.update(QUICK)
    args.settings = settings
    return args


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def worker_env(threads):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env["MXNET_SUBGRAPH_VERBOSE"] = "0"  # libmxnet would print a line at every bind
    return env


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
    torch_rate = results.get("torch", {}).get("chars_per_s")
    rows = ["| framework | cell | chars/s | vs PyTorch | peak RSS (MB) | batches | train NLL | val NLL |",
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


def combine(runs):
    """One column's rounds: medians, the largest peak RSS, the worker's version string."""
    out = {key: statistics.median(r[key] for r in runs)
           for key in ("chars_per_s", "batches", "seconds", "train_nll", "val_nll")}
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    out["version"] = runs[0].get("version")
    return out


def main(argv=None):
    args = parse_args(argv)
    from pyjlchar import corpus
    from pyjlchar.errors import UserError

    try:
        corpus_file = corpus.corpus_path(args.corpus or "shakespeare")
        corpus.check_corpus(corpus_file)  # missing, empty, binary or not UTF-8: one sentence
    except UserError as e:
        sys.exit(f"error: {e}")
    # Every worker reads this run's own copy: the same bytes even if the cache changes meanwhile.
    with tempfile.TemporaryDirectory(prefix="compare-bench-") as tmp:
        snapshot = Path(tmp) / corpus_file.name
        shutil.copyfile(corpus_file, snapshot)
        return run(args, snapshot)


def run(args, corpus_file):
    """Runs the columns on `corpus_file` and prints the report; 1 if any column failed."""
    s = args.settings
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    n_class, train_ids, val_ids = load_data(corpus_file, 0.9)
    per_batch = s["batch"] * s["seq_len"]
    n_train, n_val = n_batches(len(train_ids), s["batch"], s["seq_len"]), n_batches(len(val_ids), s["batch"], s["seq_len"])
    if n_train < 1 or n_val < 1:
        sys.exit(f"error: {args.corpus or corpus_file.name} is too short for one training and one validation "
                 f"batch of {per_batch + 1} characters: use a bigger corpus")

    columns = _columns()
    pythons, failures = {}, {}
    for key in args.only:
        try:
            pythons[key] = columns[key][4](log)
        except Exception as e:  # a venv that cannot be made fails its column only
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            reason = lines[0].rstrip(":") + (f": {lines[-1]}" if len(lines) > 1 else "")
            failures[key] = f"its virtual environment could not be made: {reason}"

    worker_argv = ["--corpus", str(corpus_file), "--layers", s["layers"], "--hidden", s["hidden"],
                   "--embed", s["embed"], "--seq-len", s["seq_len"], "--batch", s["batch"],
                   "--warmup", s["warmup"], "--threads", args.threads, "--seed", args.seed,
                   "--budget", s["budget"], "--train-ratio", 0.9, "--lr", 0.01, "--weight-decay", 1e-5,
                   "--grad-clip", 1.0, "--init-scale", 0.1]
    worker_argv = list(map(str, worker_argv))
    env = worker_env(args.threads)
    load_before = os.getloadavg()
    runs = {key: [] for key in pythons}
    keys = list(pythons)
    for r in range(args.rounds if keys else 0):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            if key in failures:
                continue
            log(f"round {r + 1}/{args.rounds}: {key} ...")
            result, reason = run_worker(pythons[key], columns[key][2], worker_argv + columns[key][3], env,
                                        timeout=600 + 3 * s["budget"])
            if reason:
                failures[key] = reason
                log(f"  failed: {reason}")
            else:
                runs[key].append(result)
                log(f"  {result['chars_per_s']:.0f} chars/s, {result['batches']} batches, "
                    f"val NLL {result['val_nll']:.3f}, peak RSS {result['peak_rss_mb']:.0f} MB")
    results = {key: combine(rs) for key, rs in runs.items() if rs and key not in failures}

    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores; {args.threads} thread(s) per framework; {date}; "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"Model: {s['layers']}x{s['hidden']} LSTM, embed {s['embed']}, seq_len {s['seq_len']}, batch {s['batch']}, "
          f"ADAM lr 0.01, wd 1e-5, clip 1; corpus {args.corpus or 'the built-in shakespeare'} ({len(train_ids) + len(val_ids)} chars, "
          f"{n_class} classes, {n_train} train / {n_val} validation batches); budget {s['budget']:g} s, "
          f"warm-up {s['warmup']} batches, {args.rounds} round(s), medians\n")
    print(table(results, args.only, columns))
    if failures:
        print()
    for key in args.only:
        if key in failures:
            print(f"- {key} failed: {failures[key]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))  # _mxnet_venv, _torch_venv
    sys.exit(main())
