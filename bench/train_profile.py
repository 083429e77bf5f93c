"""Where a training batch's time goes: libmxnet's operators against everything else.

    .venv/bin/python bench/train_profile.py [--graph fused] [--seconds 20] [--batch-size 32]

Trains the original's model on the built-in Shakespeare plays as `pyjlchar train` does (the
bench_train command), first timed alone, then again under libmxnet's profiler, and prints a
markdown table per batch: each operator's time (forward, backward, the optimizer's updates,
copies), their sum, and the rest of the plain batch's time (the engine, the data provider,
Julia, the metric). The profiler's bookkeeping slows the calls it times, so the shares are of
the profiled batch, and the plain batch's time is printed beside. Threads are pyjlchar's own
choice unless OMP_NUM_THREADS is set.
"""
from __future__ import annotations

import argparse
import os
import sys

from pyjlchar import bridge, commands
from pyjlchar.settings import load_config


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--graph", choices=("unrolled", "fused"), default="fused")
    p.add_argument("--seconds", type=float, default=20.0, help="training seconds per run (20)")
    p.add_argument("--batch-size", type=int, default=None, help="sequences per batch (pyjlchar's default)")
    a = p.parse_args(argv)
    settings = load_config(None, {"data.corpus": "shakespeare", "model.graph": a.graph,
                                  "train.batch_size": a.batch_size})
    plain = bridge.run(commands.bench_train(settings, a.seconds, warmup_batches=3, validate=False))
    profiled = bridge.run(commands.bench_train(settings, a.seconds, warmup_batches=3, validate=False, profile=True))
    chars = settings["train"]["batch_size"] * settings["train"]["seq_len"]
    batch_ms, profiled_ms = (1000 * chars / run["chars_per_s"] for run in (plain, profiled))
    per_batch = profiled["profile_per_batch"].get("operator", {})
    # libmxnet 1.9.1's profiler records each operator of a bound graph twice: the softmax, which
    # runs once per batch (the fused graph) or once per step (the unrolled), shows how often.
    softmaxes = 1 if a.graph == "fused" else settings["train"]["seq_len"]
    recorded = round(per_batch["SoftmaxOutput"][0] / softmaxes)
    operators = sorted(((name, ms / recorded) for name, (_, ms) in per_batch.items()), key=lambda kv: -kv[1])
    op_ms = sum(ms for _, ms in operators)
    print(f"Training batch, {a.graph} graph, batch {settings['train']['batch_size']} x seq_len "
          f"{settings['train']['seq_len']}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, libmxnet engine "
          f"{os.environ.get('MXNET_ENGINE_TYPE')}: {batch_ms:.2f} ms per batch ({plain['chars_per_s']:.0f} chars/s); "
          f"{profiled_ms:.2f} ms under the profiler, whose split this is\n")
    print("| part of a batch (profiled) | ms | share |\n|---|---:|---:|")
    row = lambda what, ms: print(f"| {what} | {ms:.2f} | {100 * ms / profiled_ms:.0f}% |")  # noqa: E731
    shown = [(name, ms) for name, ms in operators if ms >= 0.01 * profiled_ms]
    for name, ms in shown:
        row(f"operator {name}", ms)
    row(f"{len(operators) - len(shown)} other operators", op_ms - sum(ms for _, ms in shown))
    row("**operators**", op_ms)
    row("the rest (engine, data, Julia, metric)", max(0.0, profiled_ms - op_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
