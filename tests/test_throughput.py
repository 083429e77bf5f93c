"""`pyjlchar bench` (pyjlchar/ops/throughput.py): the report's shape and figures, measured on the real
code paths: training with each graph, sampling, memory, the threads and the cold starts."""
import json
import os
import re

import pytest

from test_cli import assert_clean_failure, pyjlchar

SMALL = ["--layers", 1, "--hidden", 8, "--embed", 4, "--seq-len", 4, "--batch-size", 2, "--seconds", 1]


def check_rates(report):
    assert set(report["train_chars_per_s"]) == {"unrolled", "fused"}
    assert set(report["sample_chars_per_s"]) == {"1", "32"}
    rates = [*report["train_chars_per_s"].values(), *report["sample_chars_per_s"].values()]
    assert all(rate > 0 for rate in rates)
    assert report["peak_rss_mb"] > 50   # Julia and libmxnet alone take more
    assert report["model"] == {"cell": "lstm", "layers": 1, "hidden": 8, "embed": 4, "seq_len": 4, "batch_size": 2}
    assert report["machine"]["cores"] >= 1 and report["machine"]["julia"]
    # The threads libmxnet ran with, and why (bridge/threads.py), as train's first line says them.
    assert re.fullmatch(r"\d+ OpenMP threads? \(.+\).*", report["machine"]["omp_threads"]), report["machine"]


def test_bench_json_reports_training_sampling_and_memory():
    out = pyjlchar("bench", "--json", "--no-cold-start", *SMALL)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    check_rates(report)
    assert report["context"] == "cpu"
    assert "cold_start_s" not in report
    assert "training, unrolled graph" in out.stderr and "training, fused graph" in out.stderr   # progress goes to stderr


def test_bench_runs_on_the_devices_of_its_context():
    # Two CPU devices: training data-parallel, sampling on the first, as a GPU pair would run.
    out = pyjlchar("bench", "--json", "--no-cold-start", "--context", "cpu:0,1", *SMALL)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    check_rates(report)
    assert report["context"] == "cpu:0,1"
    assert "training, unrolled graph on cpu:0,1" in out.stderr


def test_bench_on_a_gpu_with_a_cpu_build_names_the_cuda_wheels():
    out = pyjlchar("bench", "--json", "--no-cold-start", "--context", "gpu", *SMALL)
    if "CUDA" in pyjlchar("doctor", "--json").stdout.split('"features_disabled"')[0]:
        pytest.skip("this libmxnet has CUDA")
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr, out.stderr
    # After the first progress line, the sentence `pyjlchar train --context gpu` ends with.
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: gpu(0) was asked for") and "CUDA" in last and "mxnet-cu" in last, out.stderr
    assert_clean_failure(pyjlchar("bench", "--context", "tpu"), "'context' in [compute] must be cpu, gpu")


@pytest.mark.slow
def test_bench_times_the_cold_starts():
    out = pyjlchar("bench", "--json", *SMALL)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    check_rates(report)
    assert set(report["cold_start_s"]) == {"sample", "train", "visualize"}
    assert all(seconds > 0 for seconds in report["cold_start_s"].values())


def test_bench_text_report_names_each_figure_and_the_threads_it_ran_with():
    # OMP_NUM_THREADS set by the user is the count, and the reason the report gives.
    out = pyjlchar("bench", "--no-cold-start", *SMALL, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    for label in ("model: 1x8 LSTM,", "train, unrolled graph:", "train, fused graph:", "sample, 1 stream(s):",
                  "sample, 32 stream(s):", "peak memory:"):
        assert label in out.stdout
    machine = next(line for line in out.stdout.splitlines() if line.startswith("machine: "))
    assert machine.endswith(", 1 OpenMP thread (OMP_NUM_THREADS)"), machine
