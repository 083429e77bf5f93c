"""pyjlchar's columns of bench/compare.py; runs in the project's own venv.

Training happens in the embedded Julia, in the bench_train command: `pyjlchar train`'s own
pipeline (vocabulary, data provider, fit) for a wall-clock budget, with compare.py's settings;
this process adds its peak RSS (Julia and libmxnet live in it). libmxnet's engine is the one
pyjlchar chooses for one CPU (the naive engine, unless MXNET_ENGINE_TYPE says otherwise).
Prints one JSON line.
"""
import os
import sys

import compare
from pyjlchar import bridge, commands
from pyjlchar.settings import load_config
from pyjlchar.errors import JuliaError, UserError


def main():
    a = compare.worker_arguments(cells=("lstm", "fused"))
    settings = load_config(None, {
        "data.corpus": a.corpus, "data.train_ratio": a.train_ratio, "model.graph": GRAPHS[a.cell],
        "model.layers": a.layers,
        "model.hidden": a.hidden, "model.embed": a.embed, "train.seq_len": a.seq_len, "train.batch_size": a.batch,
        "train.learning_rate": a.lr, "train.weight_decay": a.weight_decay, "train.grad_clip": a.grad_clip,
        "train.init_scale": a.init_scale, "train.seed": a.seed})
    try:
        result = bridge.run(commands.bench_train(settings, a.budget, warmup_batches=a.warmup, validate=True))
    except (JuliaError, UserError) as e:
        sys.exit(f"error: pyjlchar's bench_train failed: {str(e).splitlines()[0]}")
    result = {key: result[key] for key in ("chars_per_s", "batches", "seconds", "train_nll", "val_nll")}
    result["version"] = version(bridge.get())
    result["omp_num_threads"] = str(bridge.get().started.threads.threads)   # pyjlchar's choice, made when Julia started
    compare.report(result)


# compare.py's columns name pyjlchar's graphs as its "cells": lstm, the unrolled graph.
GRAPHS = {"lstm": "unrolled", "fused": "fused"}


def version(jl):
    return (f"pyjlchar (Julia {jl.started.info.version}, libmxnet {jl.call('PyJLChar.mx.version')}, "
            f"{os.environ['MXNET_ENGINE_TYPE']})")


if __name__ == "__main__":
    sys.exit(main())
