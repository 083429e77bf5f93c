"""pyjlchar's sampling columns of bench/compare.py; runs in the project's own venv.

Sampling happens in the embedded Julia, in PyJLChar.bench_sample (julia/src/charlstm/bench.jl):
`pyjlchar sample`'s own path (StatefulPredictor bound for one step of `streams` texts, states
carried, draw_chars drawing each stream's next character in Julia at temperature 1), random
weights, on the engine pyjlchar's commands choose on one CPU (as bench/_pyjlchar_train.py).
Prints one JSON line with chars/s per stream count.
"""
import sys

import compare
from _pyjlchar_train import version
from pyjlchar import julia
from pyjlchar.charlstm import use_naive_engine
from pyjlchar.errors import JuliaError, UserError


def main():
    a = compare.sample_worker_arguments(cells=("lstm", "fused"))
    use_naive_engine()  # before Julia loads libmxnet, as `pyjlchar sample` does
    jl = julia.get()
    if not jl.eval("isdefined(PyJLChar, :bench_sample)"):
        sys.exit("error: PyJLChar.bench_sample does not exist in this checkout, so pyjlchar's sampling "
                 "cannot be benchmarked yet")
    rates = {}
    try:  # bench_sample seeds its own generators and warms up as compare.sample_for does
        for streams in a.streams:
            rates[str(streams)] = jl.call("PyJLChar.bench_sample", cell=a.cell, layers=a.layers, hidden=a.hidden,
                                          embed=a.embed, n_class=a.n_class, streams=streams,
                                          seconds=a.seconds)["chars_per_s"]
    except (JuliaError, UserError) as e:
        sys.exit(f"error: PyJLChar.bench_sample failed: {str(e).splitlines()[0]}")
    compare.report({"chars_per_s": rates, "version": version(jl)})


if __name__ == "__main__":
    sys.exit(main())
