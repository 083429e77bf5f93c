"""pyjlchar's sampling columns of bench/compare.py; runs in the project's own venv.

Sampling happens in the embedded Julia, in the bench_sample command: `pyjlchar sample`'s own
path (the graph bound for one step of `streams` texts, states carried, each stream's next
character drawn in Julia at temperature 1), random weights, on the engine pyjlchar chooses
for one CPU (as bench/_pyjlchar_train.py). Prints one JSON line with chars/s per stream count.
"""
import sys

import compare
from _pyjlchar_train import GRAPHS, version
from pyjlchar import bridge, commands
from pyjlchar.settings import load_config
from pyjlchar.errors import JuliaError, UserError


def main():
    a = compare.sample_worker_arguments(cells=("lstm", "fused"))
    settings = load_config(None, {"model.graph": GRAPHS[a.cell], "model.layers": a.layers, "model.hidden": a.hidden,
                                  "model.embed": a.embed})
    rates = {}
    try:  # bench_sample seeds its own generators and warms up as compare.sample_for does
        for streams in a.streams:
            rates[str(streams)] = bridge.run(commands.bench_sample(settings, a.n_class, streams,
                                                                   a.seconds))["chars_per_s"]
    except (JuliaError, UserError) as e:
        sys.exit(f"error: pyjlchar's bench_sample failed: {str(e).splitlines()[0]}")
    compare.report({"chars_per_s": rates, "version": version(bridge.get()),
                    "omp_num_threads": str(bridge.get().started.threads.threads)})


if __name__ == "__main__":
    sys.exit(main())
