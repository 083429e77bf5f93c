"""pyjlchar's columns of bench/compare.py; runs in the project's own venv.

Training happens in the embedded Julia, in PyJLChar.bench_train (julia/src/charlstm/bench.jl),
which follows compare.py's data protocol with pyjlchar's own vocabulary and data provider;
this process adds its peak RSS (Julia and libmxnet live in it). libmxnet's engine is the one
pyjlchar's commands choose on one CPU (the naive engine, unless MXNET_ENGINE_TYPE says
otherwise). Prints one JSON line.
"""
import os
import sys

import compare
from pyjlchar import julia
from pyjlchar.charlstm import use_naive_engine
from pyjlchar.errors import JuliaError, UserError


def main():
    a = compare.worker_arguments(cells=("lstm", "fused"))
    use_naive_engine()  # before Julia loads libmxnet, as `pyjlchar train` and `pyjlchar bench` do
    jl = julia.get()
    if not jl.eval("isdefined(PyJLChar, :bench_train)"):
        sys.exit("error: PyJLChar.bench_train does not exist in this checkout (julia/src/charlstm/bench.jl "
                 "is missing), so pyjlchar cannot be benchmarked yet")
    try:  # weight decay, clip and init scale: bench_train's own, the original's (as compare.py's)
        result = jl.call("PyJLChar.bench_train", a.corpus, cell=a.cell, layers=a.layers, hidden=a.hidden,
                         embed=a.embed, seq_len=a.seq_len, batch_size=a.batch, train_ratio=a.train_ratio,
                         seconds=a.budget, warmup_batches=a.warmup, validate=True, seed=a.seed,
                         learning_rate=a.lr)
    except (JuliaError, UserError) as e:
        sys.exit(f"error: PyJLChar.bench_train failed: {str(e).splitlines()[0]}")
    result = {key: result[key] for key in ("chars_per_s", "batches", "seconds", "train_nll", "val_nll")}
    result["version"] = version(jl)
    compare.report(result)


def version(jl):
    return (f"pyjlchar (Julia {jl.info.version}, libmxnet {jl.call('PyJLChar.mx.version')}, "
            f"{os.environ['MXNET_ENGINE_TYPE']})")


if __name__ == "__main__":
    sys.exit(main())
