"""Benchmark: the char-lstm training step through this project's Julia `mx` layer against the
same step through Apache MXNet's own Python frontend (both on the same libmxnet 1.9.1 wheel).

Run it from the checkout (not a test; it takes a minute or two):

    .venv/bin/python bench/mx_layer.py [--steps 10] [--rounds 6] [--warmup 3] [--json]

The step: the unrolled LSTM (pyjlchar's default model and batches, pyjlchar/settings.py: 2 layers,
256 hidden, 256 embed, 32 steps, batch 32; 65 classes, one-hot inputs, no dropout), ADAM with
pyjlchar's default settings (lr 0.01, wd 1e-5, clip 1).
- this layer: bench/_mx_layer_step.jl in the embedded Julia: the executor bound once by
  `mx.fit`'s DeviceExecutors; per step host batch -> staging NDArrays -> executor inputs,
  `train_batch!` (forward(is_train=true), backward, `mx.update!` = one fused adam_update per
  parameter);
- Apache MXNet Python: bench/_mxnet_python_step.py in a worker process of the separate venv
  (bench/_mxnet_venv.py, made once under .cache/): the same graph built with mx.sym,
  simple_bind, the same copies, forward/backward, mx.nd.adam_update per parameter.
Both start from the same weights and see the same batches, so their final weights are also
compared. Rounds alternate sides (the idle side waits, blocked); OMP_NUM_THREADS is the same
for both (default: the number of cores). Steady state: timed after --warmup steps per side.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pyjlchar.settings import DEFAULTS, OPTIONS

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=10, help="timed training steps per round and side (10)")
    p.add_argument("--rounds", type=int, default=6, help="rounds, alternating which side goes first (6)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per side before the rounds (3)")
    p.add_argument("--threads", type=int, default=None,
                   help="OMP_NUM_THREADS for both sides (default: $OMP_NUM_THREADS, else the core count)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    model, train = DEFAULTS["model"], DEFAULTS["train"]
    p.add_argument("--layers", type=int, default=model["layers"])
    p.add_argument("--hidden", type=int, default=model["hidden"])
    p.add_argument("--embed", type=int, default=model["embed"])
    p.add_argument("--seq-len", type=int, default=train["seq_len"])
    p.add_argument("--batch", type=int, default=train["batch_size"])
    p.add_argument("--vocab", type=int, default=OPTIONS["vocab"].default)
    p.add_argument("--seed", type=int, default=train["seed"])
    return p.parse_args(argv)


class Worker:
    """The Apache MXNet Python side: bench/_mxnet_python_step.py in the mxnet venv."""

    def __init__(self, python, env):
        self.proc = subprocess.Popen([str(python), str(HERE / "_mxnet_python_step.py"), "worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def ask(self, **msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Apache MXNet worker stopped (exit {self.proc.wait()}); see its stderr above")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


def main(argv=None):
    args = parse_args(argv)
    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
    # Before libmxnet is loaded in this process (by the Julia bridge) and in the worker.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else print

    import numpy as np
    import _mxnet_venv
    from pyjlchar import bridge

    python = _mxnet_venv.ensure(log=log)
    chars_per_step = args.batch * args.seq_len
    with tempfile.TemporaryDirectory(prefix="mx-layer-bench-") as tmp:
        tmp = Path(tmp)
        pool = 4  # distinct batches, cycled
        ids = np.random.RandomState(args.seed).randint(0, args.vocab, size=(pool, args.batch, args.seq_len + 1))
        ids = ids.astype(np.int32)
        np.save(tmp / "ids.npy", ids)
        init_params = tmp / "init.params"
        t = DEFAULTS["train"]
        cfg = dict(layers=args.layers, hidden=args.hidden, embed=args.embed, n_class=args.vocab,
                   learning_rate=t["learning_rate"], weight_decay=t["weight_decay"], grad_clip=t["grad_clip"])

        log(f"OMP_NUM_THREADS={threads}; starting Julia and binding the LSTM ...")
        jl = bridge.get()
        jl.eval(f"include({json.dumps(str(HERE / '_mx_layer_step.jl'))})")
        jl_params = jl.call("MXLayerBench.setup", ids, str(init_params), init_scale=t["init_scale"], seed=args.seed,
                            **cfg)
        worker = Worker(python, dict(os.environ))
        try:
            info = worker.ask(cmd="init", ids=str(tmp / "ids.npy"), init_params=str(init_params), **cfg)
            if sorted(info["params"]) != sorted(jl_params):
                raise RuntimeError(f"the two graphs differ in parameters: {info['params']} vs {jl_params}")
            log(f"warm-up: {args.warmup} steps each")
            jl.call("MXLayerBench.run", args.warmup)
            worker.ask(cmd="run", steps=args.warmup)

            rounds = []
            for r in range(args.rounds):
                order = ("julia", "python") if r % 2 == 0 else ("python", "julia")
                seconds = {}
                for side in order:
                    if side == "julia":
                        seconds[side] = jl.call("MXLayerBench.run", args.steps)
                    else:
                        seconds[side] = worker.ask(cmd="run", steps=args.steps)["seconds"]
                rate = {side: args.steps * chars_per_step / s for side, s in seconds.items()}
                rounds.append({"first": order[0], "julia_chars_per_s": rate["julia"],
                               "mxnet_python_chars_per_s": rate["python"],
                               "ratio": rate["julia"] / rate["python"]})
                log(f"round {r + 1}/{args.rounds}: this layer {rate['julia']:8.0f} chars/s, "
                    f"Apache MXNet Python {rate['python']:8.0f} chars/s, ratio {rate['julia'] / rate['python']:.3f}")

            # Same start, same batches, same number of steps: the weights should agree.
            worker.ask(cmd="save", path=str(tmp / "python_params.npz"))
            theirs = np.load(tmp / "python_params.npz")
            ours = jl.call("MXLayerBench.params")
            max_diff = max(float(np.max(np.abs(ours[n] - theirs[n]))) for n in jl_params)
            max_weight = max(float(np.max(np.abs(theirs[n]))) for n in jl_params)
        finally:
            worker.close()

    julia_rates = [r["julia_chars_per_s"] for r in rounds]
    python_rates = [r["mxnet_python_chars_per_s"] for r in rounds]
    julia_rate, python_rate = statistics.median(julia_rates), statistics.median(python_rates)
    result = {
        "config": {"layers": args.layers, "hidden": args.hidden, "embed": args.embed, "seq_len": args.seq_len,
                   "batch": args.batch, "vocab": args.vocab, "optimizer": "adam", "steps_per_round": args.steps,
                   "rounds": args.rounds, "warmup": args.warmup, "omp_num_threads": threads},
        "libmxnet": {"this_layer": os.environ.get("MXNET_LIBRARY_PATH"), "mxnet_python": info["library"]},
        "rounds": rounds,
        "julia_chars_per_s": julia_rate,
        "mxnet_python_chars_per_s": python_rate,
        "ratio": julia_rate / python_rate,
        "target_ratio": 0.95,
        # Less sensitive to other load on the machine: the best round of each side, and the
        # median of the ratios of rounds run back to back.
        "best_julia_chars_per_s": max(julia_rates),
        "best_mxnet_python_chars_per_s": max(python_rates),
        "best_ratio": max(julia_rates) / max(python_rates),
        "median_paired_ratio": statistics.median(r["ratio"] for r in rounds),
        "final_weights_max_abs_diff": max_diff,
        "final_weights_max_abs": max_weight,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"\nchar-lstm training step ({args.layers}x{args.hidden} LSTM, embed {args.embed}, "
              f"{args.seq_len} steps, batch {args.batch}, {args.vocab} classes, ADAM), "
              f"OMP_NUM_THREADS={threads}, {args.rounds} rounds of {args.steps} steps:")
        print(f"                              median        best")
        print(f"  this layer (Julia mx)       {julia_rate:10.0f} {max(julia_rates):10.0f} chars/s")
        print(f"  Apache MXNet Python         {python_rate:10.0f} {max(python_rates):10.0f} chars/s")
        print(f"  ratio (this / Apache MXNet) {julia_rate / python_rate:10.3f} {result['best_ratio']:10.3f}"
              f"   (target >= 0.95; median of paired rounds {result['median_paired_ratio']:.3f})")
        print(f"  final weights: max |difference| {max_diff:.3g} (largest weight {max_weight:.3g})")
    return result


if __name__ == "__main__":
    main()
