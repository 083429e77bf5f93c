"""Benchmark: a big corpus, encoded once and trained on from the memory map.

    .venv/bin/python bench/big_corpus.py [--sizes 100 1000] [--batches 100] [--folder /tmp]

For each size (MB of UTF-8 text), it writes a corpus made of the built-in `shakespeare-full`
works repeated with variations (each copy starts at another line and has a header line with
non-ASCII characters), then measures, each in a fresh `pyjlchar` process:

- encoding: `pyjlchar corpus info FILE --json` on the new file (its cache entry cannot exist):
  the encoding rate (bytes / the seconds Julia spent encoding, one core) and the process's
  peak RSS (Python, Julia and libmxnet included);
- training: `pyjlchar train --corpus FILE --graph fused` (the default 2x256 model, batches of
  32 x 32 characters) from the now warm cache, stopped (Ctrl-C: it saves a checkpoint) after
  --batches batches: its peak RSS, and the seconds from starting the process to the end of the
  first batch (read from the event log that PYJLCHAR_EVENT_LOG asks the bridge to keep);
- scoring (the first size only): `pyjlchar eval` of the corpus's first --eval-chars characters
  with that checkpoint, with the default streams and with --streams 1, in seconds from
  starting the process to its end.

Prints the machine, a markdown table and the scoring times; asserts nothing. The corpus, its
cache entry and the checkpoints are deleted afterwards. Needs about twice the largest size
free in --folder and in the cache folder.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyjlchar.corpus import files as corpus
from pyjlchar.ops import throughput as bench


def write_corpus(path: Path, n_bytes: int) -> None:
    """At least `n_bytes` (whole copies) of the built-in works, each copy varied."""
    lines = corpus.corpus_path("shakespeare-full").read_text(encoding="utf-8").splitlines(keepends=True)
    written, copy = 0, 0
    with open(path, "wb") as f:
        while written < n_bytes:
            start = copy * 7919 % len(lines)
            data = (f"— Copy {copy} ✓ —\n" + "".join(lines[start:] + lines[:start])).encode()
            f.write(data)
            written += len(data)
            copy += 1


def pyjlchar(work: Path, name: str, *args, env: dict | None = None) -> subprocess.Popen:
    """`pyjlchar ARGS` in a new process, its output in `work`/NAME.out and .err."""
    return subprocess.Popen([sys.executable, "-m", "pyjlchar", *map(str, args)], env=env,
                            stdout=open(work / f"{name}.out", "w"), stderr=open(work / f"{name}.err", "w"))


def finished(proc: subprocess.Popen, block: bool) -> float | None:
    """The peak resident set (MB) of `proc` once it has ended (waiting for it if `block`), else None."""
    pid, status, usage = os.wait4(proc.pid, 0 if block else os.WNOHANG)
    if pid == 0:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024   # Linux reports KiB


def encode(path: Path, work: Path) -> tuple[dict, float]:
    """`corpus info`'s report and the encoding process's peak RSS."""
    rss = finished(pyjlchar(work, "encode", "corpus", "info", path, "--json"), block=True)
    out = (work / "encode.out").read_text()
    if not out:
        sys.exit(f"error: `pyjlchar corpus info {path}` failed: {(work / 'encode.err').read_text().strip()}")
    return json.loads(out), rss


def train(path: Path, work: Path, batches: int) -> tuple[float, float]:
    """Seconds from the start to the first trained batch, and peak RSS up to batch `batches`."""
    events = work / "events.jsonl"
    started = time.time()  # wall clock: the events' "time" comes from the other process
    proc = pyjlchar(work, "train", "train", "--corpus", path, "--graph", "fused", "--epochs", 1,
                    "--checkpoint-dir", work / "ck", env={**os.environ, "PYJLCHAR_EVENT_LOG": str(events)})
    first, rss = None, None
    while rss is None:
        time.sleep(0.2)
        progress = [e for e in map(json.loads, events.read_text().splitlines() if events.exists() else [])
                    if e["event"] == "progress"]
        if progress and first is None:
            first = progress[0]["time"] - started
        enough = bool(progress) and progress[-1]["batch"] >= batches
        if enough:
            os.kill(proc.pid, signal.SIGINT)   # not Popen.send_signal, which would reap it first
        rss = finished(proc, block=enough)
    if not enough:
        sys.exit(f"error: `pyjlchar train` stopped before batch {batches}: {(work / 'train.err').read_text().strip()}")
    return first, rss


def score(checkpoint: Path, text: Path, work: Path, *streams: str) -> tuple[float, dict]:
    """Seconds `pyjlchar eval` takes from start to end, and its report."""
    started = time.monotonic()
    finished(pyjlchar(work, "eval", "eval", "--checkpoint", checkpoint, "--text", text, *streams, "--json"),
             block=True)
    seconds = time.monotonic() - started
    out = (work / "eval.out").read_text()
    if not out:
        sys.exit(f"error: `pyjlchar eval` failed: {(work / 'eval.err').read_text().strip()}")
    return seconds, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="corpus sizes in MB (10^6 bytes)")
    parser.add_argument("--batches", type=int, default=100, help="training batches to measure (default 100)")
    parser.add_argument("--folder", default=tempfile.gettempdir(), help="where the corpora are written")
    parser.add_argument("--eval-chars", type=int, default=10**6, help="characters to score (default 1000000)")
    args = parser.parse_args()
    need = 2.2e6 * max(args.sizes)
    for where in (Path(args.folder), corpus.cache_folder()):
        where.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(where).free < need:
            sys.exit(f"error: {where} has {shutil.disk_usage(where).free / 1e9:.1f} GB free; the largest size needs "
                     f"{need / 1e9:.1f} GB there: free some space or pass smaller --sizes")
    m = bench.machine()
    threads = os.environ.get("OMP_NUM_THREADS", "pyjlchar's choice (a thread per core it may use)")
    print(f"Machine: {m['cpu']}, {m['cores']} cores; Julia {m['julia']}; OMP_NUM_THREADS {threads}; load average "
          f"{os.getloadavg()[0]:.2f} before; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"Training: the default 2x256 LSTM, fused graph, batches of 32 x 32 characters, first {args.batches} "
          "batches; encoding on one core\n")
    print("| corpus | encode (MB/s) | peak RSS, encoding (MB) | peak RSS, first "
          f"{args.batches} batches (MB) | first batch, warm cache (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    scoring = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(dir=args.folder, prefix="pyjlchar-big-") as tmp:
            work = Path(tmp)
            path = work / f"big-{size}mb.txt"
            write_corpus(path, size * 10**6)
            report, encode_rss = encode(path, work)
            try:
                cache = report["cache"]
                rate = report["bytes"] / 1e6 / cache["encode_seconds"]
                first, train_rss = train(path, work, args.batches)
            finally:
                shutil.rmtree(report["cache"]["folder"], ignore_errors=True)
            print(f"| {size} MB ({report['characters']:,} characters, {report['distinct']} distinct, "
                  f"{cache['id_type']} ids) | {rate:.1f} | {encode_rss:.0f} | {train_rss:.0f} | {first:.2f} |",
                  flush=True)
            if not scoring:
                text = work / "scored.txt"
                with open(path, encoding="utf-8") as f:
                    text.write_text(f.read(args.eval_chars), encoding="utf-8")
                for streams in ((), ("--streams", "1")):
                    scoring.append(score(work / "ck" / "ptb", text, work, *streams))
    for seconds, r in scoring:
        print(f"\nScoring {r['n_chars']:,} characters (`pyjlchar eval`, {r['streams']} stream(s), the checkpoint "
              f"above): {seconds:.1f} s from start to end, NLL {r['nll']:.4f}", end="")
    print()


if __name__ == "__main__":
    main()
