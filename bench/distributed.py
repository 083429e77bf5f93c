"""Benchmark: training as a parameter-server job (kvstore dist_sync) on this machine's loopback,
and what that predicts for a real network.

Run it from the checkout (about 5 minutes at the defaults on 2 cores; --quick is a smoke test
of under a minute):

    .venv/bin/python bench/distributed.py [--cells lstm fused] [--workers 1 2 4] [--servers 1 2]
                                          [--batches 192] [--rounds 30] [--machines 2 4 8 16]
                                          [--gbits 10 25] [--latency-us 50] [--json] [--quick]

Model: pyjlchar's defaults (pyjlchar/settings.py: 2 LSTM layers of 256, embedding 256, seq_len 32,
batches of 32 per worker) over the built-in shakespeare corpus's classes. It measures:

1. Communication: a job of bench/_dist_node.jl processes (a scheduler, --servers servers,
   --workers workers, started as `pyjlchar launch` starts its nodes) where every worker pushes
   and pulls a gradient of every parameter's real size through a dist_sync store, as training
   does after each batch, and waits until the pulls have landed. Per batch: the median over
   --rounds rounds (after warm-up rounds) of the slowest worker's round; bytes sent (the push)
   and received (the pull) per worker: the parameters' values x 4 bytes each way.
2. Throughput of real training, chars/s of the whole job: one plain `pyjlchar train` process
   (kvstore local), then `pyjlchar launch -n W -s 1 -- train --kvstore dist_sync` for each
   --workers W, one epoch of a corpus cut from the built-in shakespeare to --batches training
   batches (each worker takes its share). Timed from the progress events (PYJLCHAR_EVENT_LOG)
   from the end of the --warmup-batches-th step to the last one, so start-up and validation
   are left out; a step of the job ends when its slowest worker ends it. NLLs from the run's
   meta file.
3. A projection to M machines (--machines) on a real network (--gbits), one worker per machine
   and a server on each (S = M): time per batch = compute + communication, compute being the
   single process's measured time per batch. See `projection` below for the model of the
   network and its assumptions; they are also printed.
4. 2-bit gradient compression, when this pyjlchar has the [train] gradient_compression setting:
   2 workers trained with "2bit" against the same run without, the NLLs after the same batches
   and the throughput; bytes per batch with 2-bit pushes (16 values per 4-byte word, pulls
   stay 32-bit) are printed in any case (computed, not measured).

Every process runs on this machine, each computing on one core, so with more workers than cores
they compete for the CPU: the loopback figures show what communication costs, not how training
scales.
Prints the conditions and markdown tables, or --json; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from pyjlchar.corpus import files as corpus
from pyjlchar.bridge import paths
from pyjlchar.distributed import job, launch
from pyjlchar.ops import throughput as bench
from pyjlchar.settings import DEFAULTS, SECTIONS

HERE = Path(__file__).resolve().parent
NODE = HERE / "_dist_node.jl"
FLOAT_BYTES = 4
# libmxnet 1.9.1's KVStoreDist: an array of fewer values than MXNET_KVSTORE_BIGARRAY_BOUND goes
# whole to server (key * 9973) % S, a bigger one is cut into S nearly equal parts, one per server.
# Each process computes on one core (unless OMP_NUM_THREADS says otherwise), as the docstring says.
ONE_CORE_EACH = os.environ.get("OMP_NUM_THREADS") or "1"
BIGARRAY_BOUND = int(os.environ.get("MXNET_KVSTORE_BIGARRAY_BOUND", 1000 * 1000))
TWO_BIT_VALUES_PER_WORD = 16  # 2-bit compression packs 16 gradient values into one float32
QUICK = dict(layers=1, hidden=32, embed=32, batches=8, rounds=5, warmup_rounds=1, warmup_batches=1,
             workers=[1, 2], servers=[1], cells=["lstm"])
JOB_TIMEOUT_S = 900
COMPRESSION = "gradient_compression" in SECTIONS["compute"].keys   # the setting exists in this pyjlchar


def parse_args(argv=None):
    model, train = DEFAULTS["model"], DEFAULTS["train"]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--cells", nargs="+", choices=["lstm", "fused"], default=["lstm", "fused"],
                   help="cells to measure (default: both; the first also runs the compression comparison)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts (1 2 4)")
    p.add_argument("--servers", type=int, nargs="+", default=[1, 2],
                   help="server counts of the communication jobs (1 2); training jobs use 1")
    p.add_argument("--batches", type=int, default=192,
                   help="training batches of the whole job (192: any worker count up to 4 takes them all)")
    p.add_argument("--warmup-batches", type=int, default=2, help="steps per worker before training is timed (2)")
    p.add_argument("--rounds", type=int, default=30, help="timed push+pull rounds per communication job (30)")
    p.add_argument("--warmup-rounds", type=int, default=5, help="untimed rounds before them (5)")
    p.add_argument("--machines", type=int, nargs="+", default=[2, 4, 8, 16], help="projected machines (2 4 8 16)")
    p.add_argument("--gbits", type=float, nargs="+", default=[10.0, 25.0],
                   help="projected network bandwidths in Gbit/s, each direction (10 25)")
    p.add_argument("--latency-us", type=float, default=50.0,
                   help="projected cost of one message, in microseconds, paid twice per array and batch (50)")
    p.add_argument("--compute-ms", type=float, default=None,
                   help="project with this compute time per batch (e.g. a faster machine's) instead of the "
                        "single process's measured one")
    p.add_argument("--layers", type=int, default=model["layers"])
    p.add_argument("--hidden", type=int, default=model["hidden"])
    p.add_argument("--embed", type=int, default=model["embed"])
    p.add_argument("--seq-len", type=int, default=train["seq_len"])
    p.add_argument("--batch", type=int, default=train["batch_size"], help="sequences per batch and worker")
    p.add_argument("--no-train", action="store_true",
                   help="leave out the training runs (and the projection, unless --compute-ms is given)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: a {QUICK['layers']}x{QUICK['hidden']} model, {QUICK['batches']} batches, "
                        f"{QUICK['rounds']} rounds, workers {QUICK['workers']}, servers {QUICK['servers']}, "
                        "the lstm cell")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    counts = args.workers + args.servers + args.machines + [args.batches, args.rounds]
    if min(counts) < 1 or args.warmup_batches < 1 or args.warmup_rounds < 0 or min(args.gbits) <= 0:
        p.error("counts, --batches, --rounds, --warmup-batches and --gbits must be positive")
    if args.batches < max(args.workers) * (args.warmup_batches + 1):
        p.error(f"--batches must give every worker more than --warmup-batches steps: at least "
                f"{max(args.workers) * (args.warmup_batches + 1)}")
    return args


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- 1. communication -------------------------------------------------------------------------

def comm_job(work: Path, cell: str, workers: int, servers: int, n_class: int, args) -> dict:
    """Runs one communication job; the parameter sizes and the seconds per push+pull round."""
    port = job.free_port()
    outs = [work / f"comm-{cell}-{workers}w{servers}s-{i}.json" for i in range(workers)]
    node_args = [cell, args.layers, args.hidden, args.embed, n_class, args.warmup_rounds, args.rounds]
    roles = [("scheduler", "scheduler", None)] + [(f"server {i}", "server", None) for i in range(servers)] + \
            [(f"worker {i}", "worker", outs[i]) for i in range(workers)]
    logs = {name: work / f"{name.replace(' ', '-')}.err" for name, _, _ in roles}
    nodes, files = [], []
    try:
        for name, role, out in roles:
            # Ranks are the scheduler's to give, so each worker is told its output file instead.
            command = [sys.executable, "-m", "pyjlchar.bridge", str(NODE), str(out or os.devnull), *map(str, node_args)]
            files.append(open(logs[name], "w"))
            nodes.append(launch.Node(name, role, subprocess.Popen(
                command, env={**os.environ, "OMP_NUM_THREADS": ONE_CORE_EACH,
                              **launch.job_variables(role, "127.0.0.1", port, workers, servers),
                              "DMLC_INTERFACE": "lo"}, stdout=subprocess.DEVNULL,
                stderr=files[-1])))
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while any(n.proc.poll() is None for n in nodes):
            failed = [n for n in nodes if n.proc.poll() not in (None, 0)]
            if failed or time.monotonic() > deadline:
                what = f"{failed[0].name} failed" if failed else f"did not end within {JOB_TIMEOUT_S} s"
                err = logs[failed[0].name].read_text()[-2000:] if failed else ""
                raise RuntimeError(f"communication job ({cell}, {workers} worker(s), {servers} server(s)): "
                                   f"{what}\n{err}")
            time.sleep(0.2)
    finally:
        for node in nodes:
            node.kill()
            node.proc.wait()
        for f in files:
            f.close()
    results = [json.loads(out.read_text()) for out in outs]
    # Rounds are synchronous: the job's round ends with its slowest worker's.
    per_round = [max(r["seconds"][i] for r in results) for i in range(args.rounds)]
    first = results[0]
    return {"cell": cell, "workers": workers, "servers": servers, "keys": first["keys"], "values": first["values"],
            "sizes": first["sizes"], "bytes_sent_per_worker": first["values"] * FLOAT_BYTES,
            "bytes_received_per_worker": first["values"] * FLOAT_BYTES,
            "seconds_per_batch": statistics.median(per_round), "best_seconds_per_batch": min(per_round)}


# -- 2. training throughput ---------------------------------------------------------------------

def cut_corpus(path: Path, args) -> int:
    """Writes the first characters of the built-in shakespeare, enough for --batches training
    batches; returns the full corpus's class count (its characters and the unknown class)."""
    text = corpus.corpus_path("shakespeare").read_text(encoding="utf-8")
    ratio = DEFAULTS["data"]["train_ratio"]
    # Training takes the first round(n * ratio) characters, validation the rest, at least a batch;
    # a part's batches need one more character for their labels.
    chars = args.batch * args.seq_len
    n = max(math.ceil((args.batches * chars + 1) / ratio), math.ceil((chars + 1) / (1 - ratio))) + 1
    path.write_text(text[:n], encoding="utf-8")
    return len(set(text)) + 1


# The runs name pyjlchar's graphs as "cells", as compare.py does: lstm, the unrolled graph.
GRAPHS = {"lstm": "unrolled", "fused": "fused"}


def train_run(work: Path, text: Path, cell: str, workers: int, args, compression: str | None = None) -> dict:
    """One training run: workers == 0 is a plain `pyjlchar train`, else a launched job of that many
    workers and one server. Its job-wide chars/s, batches, NLLs and wall seconds."""
    name = f"{cell}-{workers}w" + (f"-{compression}" if compression else "")
    config = work / f"{name}.toml"
    extra = f'\n[compute]\ngradient_compression = "{compression}"\n' if compression else ""
    # JSON strings are TOML basic strings.
    config.write_text(f'[data]\ncorpus = {json.dumps(str(text))}\n\n[model]\nname = "{name}"\n'
                      f'layers = {args.layers}\nhidden = {args.hidden}\nembed = {args.embed}\ngraph = "{GRAPHS[cell]}"\n\n'
                      f'[train]\nseq_len = {args.seq_len}\nbatch_size = {args.batch}\n\n[run]\nepochs = 1\n'
                      f'checkpoint_dir = {json.dumps(str(work / name))}\n{extra}')
    train = ["train", "--config", str(config)]
    command = train if workers == 0 else ["launch", "-n", str(workers), "-s", "1", "--", *train,
                                          "--kvstore", "dist_sync"]
    events = work / f"{name}.events"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pyjlchar", *command], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=JOB_TIMEOUT_S,
                          env={**os.environ, "OMP_NUM_THREADS": ONE_CORE_EACH, "PYJLCHAR_EVENT_LOG": str(events)})
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"`pyjlchar {' '.join(command)}` failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    # Every worker appends its events to the one log; a batch number counts batches of the whole
    # epoch, so worker r's k-th step is batch k * W for all of them.
    done = {}
    for line in events.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "progress":
            done[event["batch"]] = max(done.get(event["batch"], 0.0), event["time"])
    steps = sorted(done)
    warm, last = steps[args.warmup_batches - 1], steps[-1]
    chars = (last - warm) * args.batch * args.seq_len
    history = json.loads((work / name / f"{name}-meta.json").read_text())["history"][0]
    return {"cell": cell, "workers": workers, "servers": 1 if workers else 0, "compression": compression or "none",
            "chars_per_s": chars / (done[last] - done[warm]), "batches": last, "train_nll": history["train_nll"],
            "val_nll": history["val_nll"], "wall_seconds": wall}


# -- 3. projection ------------------------------------------------------------------------------

def server_loads(sizes: dict, servers: int, two_bit: bool) -> tuple[list[int], list[int]]:
    """The bytes each server receives from one worker (push) and sends back to it (pull) per
    batch, by libmxnet's placement of the arrays (keys numbered by sorted name, from 1)."""
    push, pull = [0] * servers, [0] * servers
    for key, name in enumerate(sorted(sizes), start=1):
        n = sizes[name]
        if n < BIGARRAY_BOUND:
            parts = [((key * 9973) % servers, n)]
        else:
            edges = [round(n / servers * i) for i in range(servers + 1)]
            parts = [(s, edges[s + 1] - edges[s]) for s in range(servers)]
        for s, values in parts:
            push[s] += FLOAT_BYTES * (math.ceil(values / TWO_BIT_VALUES_PER_WORD) if two_bit else values)
            pull[s] += FLOAT_BYTES * values
    return push, pull


def busiest_link_bytes(sizes: dict, machines: int, two_bit: bool = False) -> float:
    """The bytes per batch on the busiest direction of the busiest machine's link, with one worker
    and one server on each of `machines` machines.

    Machine m's worker sends its pushes to the other machines' servers and receives their pulls;
    its server receives the pushes of the M-1 other workers and sends each of them its pull.
    Traffic between the worker and server of one machine stays on it. So, with push_s and
    pull_s the bytes server s takes from and gives to one worker:
        out_m = sum(push_s, s != m) + (M - 1) pull_m,   in_m = sum(pull_s, s != m) + (M - 1) push_m.
    With the arrays spread evenly (push_s = pull_s = B / M, B a worker's gradient bytes) both are
    2 B (M - 1) / M: about twice the gradient per batch, for any M."""
    push, pull = server_loads(sizes, machines, two_bit)
    return max(max(sum(push) - push[m] + (machines - 1) * pull[m], sum(pull) - pull[m] + (machines - 1) * push[m])
               for m in range(machines))


def projection(sizes: dict, compute_s: float, args, two_bit: bool = False) -> list[dict]:
    """Time per batch = compute + communication, the second = the busiest link's bytes at the
    bandwidth + 2 messages per array at --latency-us (push and pull in turn, not overlapped)."""
    rows = []
    for machines in args.machines:
        link = busiest_link_bytes(sizes, machines, two_bit)
        row = {"machines": machines, "busiest_link_bytes": link}
        for gbits in args.gbits:
            comm = link / (gbits * 1e9 / 8) + 2 * len(sizes) * args.latency_us * 1e-6
            speedup = machines * compute_s / (compute_s + comm)
            row[f"{gbits:g}"] = {"comm_s": comm, "speedup": speedup, "efficiency": speedup / machines}
        rows.append(row)
    return rows


# -- output -------------------------------------------------------------------------------------

def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.2f}"


def report(result: dict, args) -> None:
    c = result["conditions"]
    print(f"Machine: {c['cpu']}, {c['cores']} cores; {c['date']}; load average {c['load_before']:.2f} before, "
          f"{c['load_after']:.2f} after")
    print(f"Julia {c['julia']}, libmxnet 1.9.1's parameter server (ps-lite, TCP) on loopback (DMLC_INTERFACE=lo), "
          f"every process on this machine; OMP_NUM_THREADS={c['omp_num_threads']} per process, libmxnet's "
          f"{c['engine']}")
    m = result["model"]
    print(f"Model: {m['layers']}x{m['hidden']} LSTM, embed {m['embed']}, {m['n_class']} classes (the built-in "
          f"shakespeare's), seq_len {m['seq_len']}, batch {m['batch']} per worker")
    comm = result["communication"]
    if comm:
        print(f"\nCommunication per batch: push + pull of every gradient through dist_sync, one scheduler, "
              f"median of {args.rounds} rounds (best in brackets)\n")
        print("| cell | arrays | values | workers | servers | sent per worker (MB) | received per worker (MB) "
              "| push + pull (ms) | MB/s per worker, each way |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in comm:
            print(f"| {r['cell']} | {r['keys']} | {r['values']:,} | {r['workers']} | {r['servers']} | "
                  f"{mb(r['bytes_sent_per_worker'])} | {mb(r['bytes_received_per_worker'])} | "
                  f"{r['seconds_per_batch'] * 1e3:.1f} ({r['best_seconds_per_batch'] * 1e3:.1f}) | "
                  f"{r['bytes_sent_per_worker'] / 1e6 / r['seconds_per_batch']:.0f} |")
        print(f"\nWith 2-bit compression (computed): a worker would send "
              f"{mb(sum(server_loads(comm[0]['sizes'], 1, True)[0]))} MB per batch instead of "
              f"{mb(comm[0]['bytes_sent_per_worker'])} (1/{TWO_BIT_VALUES_PER_WORD} per array, rounded up) "
              "and receive the same full-precision pull.")
    training = result["training"]
    if training:
        print(f"\nTraining throughput, whole job: one epoch of {training[0]['batches']} batches of the built-in shakespeare's "
              f"first characters, timed after {args.warmup_batches} step(s) per worker up to the last step "
              "(start-up and validation left out); one server per job\n")
        print("| run | cell | workers | chars/s | vs one process | train NLL | val NLL | wall (s) |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        alone = {r["cell"]: r["chars_per_s"] for r in training if r["workers"] == 0}
        for r in training:
            run = "pyjlchar train (local)" if r["workers"] == 0 else \
                "pyjlchar launch, dist_sync" + (", 2-bit" if r["compression"] == "2bit" else "")
            print(f"| {run} | {r['cell']} | {r['workers'] or 1} | {r['chars_per_s']:.0f} | "
                  f"{r['chars_per_s'] / alone[r['cell']]:.2f} | {r['train_nll']:.4f} | {r['val_nll']:.4f} | "
                  f"{r['wall_seconds']:.0f} |")
        print("\nW workers take one step per W batches (a W times larger batch at the same learning rate), so "
              "their NLLs after the same batches differ from one process's.")
        # With one OpenMP thread on the naive engine, a process computes on one core.
        print(f"Each process computes on one core, so up to {c['cores']} workers run side by side here "
              "(the server's summing takes its share too).", end="")
        busy = [w for w in args.workers if w > c["cores"]]
        if busy:
            print(f" The jobs of {', '.join(map(str, busy))} workers are CPU-bound: their chars/s measure the cost "
                  "of sharing the cores and of communication, not how training scales across machines.", end="")
        print()
    if result["compression"]:
        print(f"\nGradient compression: {result['compression']}")
    for cell, proj in result["projection"].items():
        p = proj["assumptions"]
        print(f"\nProjection, {cell} cell: one worker and one server on each machine; compute "
              f"{p['compute_s'] * 1e3:.0f} ms per batch ({p['compute_from']}); a worker's gradient "
              f"{mb(p['gradient_bytes'])} MB each way; arrays on servers as libmxnet places them; communication = "
              f"busiest link direction's bytes / bandwidth + {2 * p['arrays']} messages x {args.latency_us:g} us; "
              "no overlap of communication and compute; full duplex links at line rate (TCP overhead ignored); the "
              "servers' summing and the workers' waiting for each other ignored; 2-bit: pushes of 1/16 the bytes, "
              "pulls full, the time to quantize not counted\n")
        for label, rows in (("none", proj["none"]), ("2-bit pushes", proj["2bit"])):
            head = "| machines | compression | busiest link (MB/batch) |" + "".join(
                f" comm {g:g} Gb/s (ms) | speed-up | efficiency |" for g in args.gbits)
            print(head)
            print("| ---: | --- | ---: |" + " ---: | ---: | ---: |" * len(args.gbits))
            for row in rows:
                cells = "".join(f" {row[f'{g:g}']['comm_s'] * 1e3:.1f} | {row[f'{g:g}']['speedup']:.2f} | "
                                f"{row[f'{g:g}']['efficiency']:.0%} |" for g in args.gbits)
                print(f"| {row['machines']} | {label} | {mb(row['busiest_link_bytes'])} |{cells}")
            print()


def main(argv=None):
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    result = {"communication": [], "training": [], "projection": {}, "compression": None}
    with tempfile.TemporaryDirectory(prefix="pyjlchar-dist-bench-") as tmp:
        work = Path(tmp)
        text = work / "shakespeare-cut.txt"
        n_class = cut_corpus(text, args)
        for cell in args.cells:
            for servers in args.servers:
                for workers in args.workers:
                    log(f"communication: {cell} cell, {workers} worker(s), {servers} server(s) ...")
                    r = comm_job(work, cell, workers, servers, n_class, args)
                    log(f"  {r['seconds_per_batch'] * 1e3:.1f} ms per push + pull of "
                        f"{mb(r['bytes_sent_per_worker'])} MB")
                    result["communication"].append(r)
        if not args.no_train:
            for cell in args.cells:
                for workers in [0, *args.workers]:
                    log(f"training: {cell} cell, " + (f"{workers} worker(s) and a server ..." if workers else
                                                      "one plain process ..."))
                    r = train_run(work, text, cell, workers, args)
                    log(f"  {r['chars_per_s']:.0f} chars/s, val NLL {r['val_nll']:.4f}")
                    result["training"].append(r)
            cell = args.cells[0]
            if COMPRESSION:
                log(f"training: {cell} cell, 2 workers, 2-bit gradient compression ...")
                r = train_run(work, text, cell, 2, args, compression="2bit")
                log(f"  {r['chars_per_s']:.0f} chars/s, val NLL {r['val_nll']:.4f}")
                result["training"].append(r)
                if 2 not in args.workers:
                    result["training"].append(train_run(work, text, cell, 2, args))
                result["compression"] = (f"measured above: the {cell} cell's 2-worker runs with and without "
                                         "2-bit, the same batches")
            else:
                result["compression"] = ("not measured: this pyjlchar has no [train] gradient_compression "
                                         "setting yet")
        if not args.no_train or args.compute_ms:
            for cell in args.cells:
                sizes = next(r["sizes"] for r in result["communication"] if r["cell"] == cell)
                if args.compute_ms:
                    compute_s, source = args.compute_ms / 1e3, "--compute-ms"
                else:
                    alone = next(r for r in result["training"] if r["cell"] == cell and r["workers"] == 0)
                    compute_s, source = args.batch * args.seq_len / alone["chars_per_s"], "the single process above"
                result["projection"][cell] = {
                    "assumptions": {"compute_s": compute_s, "compute_from": source, "arrays": len(sizes),
                                    "gradient_bytes": FLOAT_BYTES * sum(sizes.values()), "latency_us": args.latency_us},
                    "none": projection(sizes, compute_s, args), "2bit": projection(sizes, compute_s, args, True)}
    m = bench.machine()
    result["conditions"] = {"cpu": m["cpu"], "cores": m["cores"], "julia": m["julia"],
                            "omp_num_threads": ONE_CORE_EACH,
                            "engine": paths.engine_for(None),
                            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                            "load_before": load_before, "load_after": os.getloadavg()[0]}
    result["model"] = {"layers": args.layers, "hidden": args.hidden, "embed": args.embed, "n_class": n_class,
                       "seq_len": args.seq_len, "batch": args.batch}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result, args)
    return result


if __name__ == "__main__":
    main()
