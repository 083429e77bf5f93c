"""`pyjlchar bench`: the report's shape and figures, measured on the real code paths."""
import json

import pytest

from test_charlstm_cli import pyjlchar

SMALL = ["--layers", 1, "--hidden", 8, "--embed", 4, "--seq-len", 4, "--batch-size", 2, "--seconds", 1]


def check_rates(report):
    assert set(report["train_chars_per_s"]) == {"lstm", "fused"}
    assert set(report["sample_chars_per_s"]) == {"1", "32"}
    rates = [*report["train_chars_per_s"].values(), *report["sample_chars_per_s"].values()]
    assert all(rate > 0 for rate in rates)
    assert report["peak_rss_mb"] > 50   # Julia and libmxnet alone take more
    assert report["model"] == {"layers": 1, "hidden": 8, "embed": 4, "seq_len": 4, "batch_size": 2}
    assert report["machine"]["cores"] >= 1 and report["machine"]["julia"]


def test_bench_json_reports_training_sampling_and_memory():
    out = pyjlchar("bench", "--json", "--no-cold-start", *SMALL)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    check_rates(report)
    assert "cold_start_s" not in report
    assert "training, fused cell" in out.stderr   # progress goes to stderr


@pytest.mark.slow
def test_bench_times_the_cold_starts():
    out = pyjlchar("bench", "--json", *SMALL)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    check_rates(report)
    assert set(report["cold_start_s"]) == {"sample", "train", "visualize"}
    assert all(seconds > 0 for seconds in report["cold_start_s"].values())


def test_bench_text_report_names_each_figure():
    out = pyjlchar("bench", "--no-cold-start", *SMALL)
    assert out.returncode == 0, out.stderr
    for label in ("train, lstm cell:", "train, fused cell:", "sample, 1 stream(s):", "sample, 32 stream(s):",
                  "peak memory:"):
        assert label in out.stdout
