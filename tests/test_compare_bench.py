"""bench/compare.py: its data protocol, training and sampling loops and tables (fast), its quick
mode end to end and the peers' models against pyjlchar's maths (slow; each framework only where
its venv exists).

No timings are asserted: the machine may be busy.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
import _mxnet_venv  # noqa: E402
import _torch_venv  # noqa: E402
import compare  # noqa: E402


def test_data_protocol(tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_bytes("bab\r\ncé!ab".encode())  # 10 characters, \r kept, é one character
    n_class, train, val = compare.load_data(corpus, 0.85)
    # Vocabulary \n \r ! a b c é, then the unknown class; round(8.5) = 8 (ties to even).
    assert n_class == 8
    assert train == [4, 3, 4, 1, 0, 5, 6, 2] and val == [3, 4]
    # Batch k of B=2 sequences of T=2: chunk k*4 .. k*4+4; (8 - 1) // 4 = 1 full batch.
    assert compare.n_batches(len(train), 2, 2) == 1
    chunk = train[compare.batch_slice(0, 2, 2)]
    assert chunk == [4, 3, 4, 1, 0]
    assert compare.n_batches(9, 2, 2) == 2 and train[compare.batch_slice(1, 2, 2)] == [0, 5, 6, 2]


def test_train_for_counts_the_budget_from_the_first_batch_and_times_after_warmup(monkeypatch):
    clock = iter(range(100))  # each reading one "second" later
    monkeypatch.setattr(compare.time, "perf_counter", lambda: float(next(clock)))
    seen = []

    def step(k):
        seen.append(k)
        return float(len(seen))

    result = compare.train_for(step, n_train_batches=3, budget=4.5, warmup=2, chars_per_batch=10)
    # Started at 0; batch n ends at n; the fifth ends at 5 >= 4.5. Batches wrap around after 3.
    assert seen == [0, 1, 2, 0, 1]
    assert result["batches"] == 5 and result["seconds"] == 5
    assert result["chars_per_s"] == pytest.approx(3 * 10 / (5 - 2))  # after warm-up ended at 2
    assert result["train_nll"] == pytest.approx(3.0)


def test_sample_for_warms_up_then_counts_chunks_until_the_time_is_spent(monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 3.5, 3.5])  # start, then a reading before each chunk, then the end
    monkeypatch.setattr(compare.time, "perf_counter", lambda: next(clock))
    calls = []
    rate = compare.sample_for(calls.append, streams=4, seconds=3.0)
    # The warm-up call is not timed; chunks run while less than 3 s have passed (at 1 and 2).
    assert calls == [compare.SAMPLE_WARMUP, compare.SAMPLE_CHUNK, compare.SAMPLE_CHUNK]
    assert rate == pytest.approx(2 * compare.SAMPLE_CHUNK * 4 / 3.5)


def test_draw_ids_inverts_each_rows_cdf():
    np = pytest.importorskip("numpy")
    probs = np.array([[0.5, 0.0, 0.5], [0.1, 0.2, 0.7], [0.1, 0.2, 0.7]], np.float32)
    assert compare.draw_ids(probs, np.array([0.0, 0.05, 0.99]), 1.0).tolist() == [0, 0, 2]
    assert compare.draw_ids(probs, np.array([0.5, 0.25, 0.31]), 1.0).tolist() == [2, 1, 2]  # 0.5: past class 0
    # Rows need not sum to 1 (float32): the draw scales by the row's total; never a zero class.
    many = compare.draw_ids(np.tile(probs[:1] * 0.9, (1000, 1)), np.random.RandomState(0).random_sample(1000), 1.0)
    assert set(many.tolist()) == {0, 2} and 400 < (many == 0).sum() < 600
    # Temperature 0.5 squares the probabilities: 1:4 becomes 1:16.
    sharp = compare.draw_ids(np.array([[0.2, 0.8]]), np.array([1 / 17 - 1e-6]), 0.5)
    assert sharp.tolist() == [0] and compare.draw_ids(np.array([[0.2, 0.8]]), np.array([1 / 17 + 1e-6]), 0.5) == [1]


def test_sample_worker_arguments():
    a = compare.sample_worker_arguments(["--cell", "fused", "--layers", "2", "--hidden", "8", "--embed", "4",
                                         "--n-class", "9", "--threads", "1", "--seed", "3", "--seconds", "0.5",
                                         "--streams", "1,32"], cells=("lstm", "fused"))
    assert (a.cell, a.layers, a.hidden, a.embed, a.n_class, a.seconds, a.streams) == ("fused", 2, 8, 4, 9, 0.5, [1, 32])


def test_sample_table_gives_medians_and_ratios_to_pytorch_at_its_best():
    columns = {"torch": ("PyTorch", "nn.LSTM"), "pyjlchar-fused": ("pyjlchar", "fused"),
               "mxnet-lstm": ("Apache MXNet Python", "unrolled")}
    off = {"nn.LSTM, oneDNN off": {"1": 300, "32": 900}}
    torch_runs = [{"chars_per_s": {"1": rate, "32": 10 * rate}, "variants": off, "version": "PyTorch 9",
                   "peak_rss_mb": rss} for rate, rss in ((100, 200), (120, 210), (500, 190))]
    ours = {"chars_per_s": {"1": 360, "32": 2400}, "version": "pyjlchar x", "peak_rss_mb": 400}
    results = {"torch": compare.combine_sample(torch_runs), "pyjlchar-fused": compare.combine_sample([ours])}
    assert results["torch"]["chars_per_s"] == {"1": 120, "32": 1200} and results["torch"]["peak_rss_mb"] == 210
    rows = compare.sample_table(results, ["pyjlchar-fused", "torch", "mxnet-lstm"], columns).splitlines()
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert cells[0] == ["framework", "cell", "chars/s, 1 stream", "vs PyTorch at its best", "chars/s, 32 streams",
                        "vs PyTorch at its best", "peak RSS (MB)"]
    # At 1 stream PyTorch is at its best with oneDNN off (300), at 32 with it on (1200).
    assert cells[2] == ["pyjlchar x", "fused", "360", "1.20", "2400", "2.00", "400"]
    assert cells[3] == ["PyTorch 9", "nn.LSTM", "120", "0.40", "1200", "1.00", "210"]
    assert cells[4] == ["PyTorch 9", "nn.LSTM, oneDNN off", "300", "1.00", "900", "0.75", "210"]
    assert cells[5] == ["Apache MXNet Python", "unrolled", "failed (below)", "", "", "", ""]
    assert all(len(c) == len(cells[0]) for c in cells)
    # Without PyTorch's column there is nothing to compare with.
    alone = compare.sample_table({k: v for k, v in results.items() if k != "torch"}, ["pyjlchar-fused"], columns)
    assert alone.splitlines()[2].split("|")[4].strip() == "n/a"


def test_training_ratios_and_targets_are_against_pytorch_at_its_best():
    columns = {"torch": ("PyTorch", "nn.LSTM"), "torch-onednn-off": ("PyTorch", "nn.LSTM, oneDNN off"),
               "pyjlchar-fused": ("pyjlchar", "fused")}
    run = dict(batches=10, seconds=60, train_nll=2.0, val_nll=2.1, peak_rss_mb=300)
    results = {"torch": compare.combine([{**run, "chars_per_s": 900, "version": "PyTorch 9"}]),
               "torch-onednn-off": compare.combine([{**run, "chars_per_s": 1000, "version": "PyTorch 9, oneDNN off"}]),
               "pyjlchar-fused": compare.combine([{**run, "chars_per_s": 1250, "version": "pyjlchar x",
                                                   "omp_num_threads": "2"}])}
    rows = compare.table(results, ["pyjlchar-fused", "torch", "torch-onednn-off"], columns).splitlines()
    ratios = [[c.strip() for c in row.strip("|").split("|")][3] for row in rows[2:]]
    assert ratios == ["1.25", "0.90", "1.00"]
    sample = {"pyjlchar-fused": {"chars_per_s": {"1": 12000, "32": 9}},
              "torch": {"chars_per_s": {"1": 2000, "32": 9}, "variants": {"off": {"1": 3000, "32": 9}}}}
    lines = compare.targets({"train": results, "sample": sample}).splitlines()
    assert lines[1] == "- fused training 1250 chars/s, 1.25x PyTorch at its best (target >= 1.3x): not met"
    assert lines[2] == ("- single-stream sampling 12000 chars/s, 4.00x PyTorch at its best "
                        "(target >= 10000 chars/s): met")


def test_pyjlchar_workers_keep_their_own_thread_choice_unless_told():
    assert "OMP_NUM_THREADS" not in compare.worker_env(None)
    assert compare.worker_env(3)["OMP_NUM_THREADS"] == compare.worker_env(3)["MKL_NUM_THREADS"] == "3"


def test_train_and_sample_can_each_be_left_out():
    assert compare.parse_args([]).tasks == ["train", "sample"]
    assert compare.parse_args(["--no-train"]).tasks == ["sample"]
    quick = compare.parse_args(["--quick", "--no-sample", "--sample-seconds", "9"])
    assert quick.tasks == ["train"] and quick.settings["sample_seconds"] == compare.QUICK["sample_seconds"]
    with pytest.raises(SystemExit):
        compare.parse_args(["--no-train", "--no-sample"])


def _venv_or_skip(venv):
    if not venv.exists():
        pytest.skip(f"{venv.dir} has not been made (bench/compare.py makes it)")
    return venv.python


@pytest.fixture
def small_corpus(tmp_path):
    from pyjlchar.corpus import files as corpus

    path = tmp_path / "small.txt"
    path.write_text(corpus.corpus_path("shakespeare").read_text(encoding="utf-8")[:60000], encoding="utf-8")
    return path


@pytest.mark.slow
def test_quick_mode_prints_a_row_per_column_in_both_tables(small_corpus):
    columns = ["pyjlchar-lstm", "pyjlchar-fused"]
    columns += ["mxnet-lstm", "mxnet-fused"] if _mxnet_venv.MXNET.exists() else []
    columns += ["torch"] if _torch_venv.TORCH.exists() else []
    proc = subprocess.run([sys.executable, str(BENCH / "compare.py"), "--quick", "--threads", "1",
                           "--corpus", str(small_corpus), "--only", ",".join(columns)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    training, sampling = proc.stdout.split("\nSampling: ")
    rows = [line for line in training.splitlines() if line.startswith("| ") and "---" not in line]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["framework", "cell", "chars/s", "vs PyTorch at its best", "peak RSS (MB)", "batches",
                      "train NLL", "val NLL"]
    cells = {"pyjlchar-lstm": ("pyjlchar", "unrolled"), "pyjlchar-fused": ("pyjlchar", "fused"),
             "torch": ("PyTorch", "nn.LSTM"), "mxnet-lstm": ("Apache MXNet", "unrolled"),
             "mxnet-fused": ("Apache MXNet", "RNN op")}
    assert len(rows) == 1 + len(columns)
    for key, row in zip(columns, rows[1:]):
        values = [cell.strip() for cell in row.strip("|").split("|")]
        framework, cell = cells[key]
        assert values[0].startswith(framework) and values[1] == cell, row
        numbers = [float(v) for i, v in enumerate(values[2:]) if not (i == 1 and v == "n/a")]
        assert all(math.isfinite(x) and x > 0 for x in numbers), row
    assert "Machine: " in proc.stdout and "1 thread(s) per framework" in proc.stdout
    assert "Targets:" in proc.stdout and "single-stream sampling" in proc.stdout

    rows = [line for line in sampling.splitlines() if line.startswith("| ") and "---" not in line]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["framework", "cell", "chars/s, 1 stream", "vs PyTorch at its best", "chars/s, 32 streams",
                      "vs PyTorch at its best", "peak RSS (MB)"]
    expected = [cells[key] for key in columns]
    if "torch" in columns:  # its default nn.LSTM, then with oneDNN off
        expected.insert(columns.index("torch") + 1, ("PyTorch", "nn.LSTM, oneDNN off"))
    assert len(rows) == 1 + len(expected)
    for (framework, cell), row in zip(expected, rows[1:]):
        values = [cell.strip() for cell in row.strip("|").split("|")]
        assert values[0].startswith(framework) and values[1] == cell, row
        numbers = [float(v) for v in values[2:] if v != "n/a"]
        assert len(numbers) == (5 if "torch" in columns else 3), row
        assert all(math.isfinite(x) and x > 0 for x in numbers), row


# The peers' models against the unrolled graph, which is pyjlchar's node for node
# (tests/test_mxnet_interop.py): the same weights, gates reordered from the unrolled cell's
# (i, g, f, o) to the RNN operator's and torch's (i, f, g, o), must give the same NLL and
# the same gradients on one batch.
SIZES = dict(batch=3, seq_len=5, hidden=4, layers=2, embed=6, n_class=7)

MXNET_SIDE = r'''
import argparse, json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from _mxnet_python_train import Model

s = json.loads(sys.argv[2])
B, T, H, L, C = s["batch"], s["seq_len"], s["hidden"], s["layers"], s["n_class"]
a = dict(batch=B, seq_len=T, hidden=H, layers=L, embed=s["embed"], seed=1, init_scale=0.1, weight_decay=0.0,
         grad_clip=1.0, lr=0.01)
unrolled = Model(argparse.Namespace(cell="lstm", **a), C)
fused = Model(argparse.Namespace(cell="fused", **a), C)
rng = np.random.RandomState(0)
ids = rng.randint(0, C, size=B * T + 1)
w = {n: rng.uniform(-0.5, 0.5, unrolled.exe.arg_dict[n].shape).astype(np.float32) for n in unrolled.params}

def swap(x):  # gate blocks (i, g, f, o) <-> (i, f, g, o)
    return np.concatenate([x[g * H:(g + 1) * H] for g in (0, 2, 1, 3)])

def as_fused(p):
    lstm = []  # the RNN operator's layout: every layer's weights, then every layer's biases
    for l in range(1, L + 1):
        lstm += [swap(p["ptb_l%d_i2h_weight" % l]).ravel(), swap(p["ptb_l%d_h2h_weight" % l]).ravel()]
    for l in range(1, L + 1):
        lstm += [swap(p["ptb_l%d_i2h_bias" % l]), swap(p["ptb_l%d_h2h_bias" % l])]
    return {"embed_weight": p["ptb_embed_weight"].T, "lstm_parameters": np.concatenate(lstm),
            "pred_weight": p["ptb_pred_weight"], "pred_bias": p["ptb_pred_bias"]}

for model, params in ((unrolled, w), (fused, as_fused(w))):
    assert sorted(model.params) == sorted(params), (model.params, sorted(params))
    for n, value in params.items():
        model.exe.arg_dict[n][:] = value
nll = {}
for name, model in (("unrolled", unrolled), ("fused", fused)):
    y = model.load(ids, 0)
    model.exe.forward(is_train=True)
    model.exe.backward()
    nll[name] = model.nll(y)
grads = {n: unrolled.exe.grad_dict[n].asnumpy() for n in unrolled.params}
fused_grads = {n: fused.exe.grad_dict[n].asnumpy() for n in fused.params}
expected = as_fused(grads)
np.savez(sys.argv[3], ids=ids, **{"w:" + n: v for n, v in w.items()}, **{"g:" + n: v for n, v in grads.items()})
print(json.dumps({"nll": nll, "ops": fused.ops, "grad_diff": max(float(np.abs(fused_grads[n] - expected[n]).max())
                                                              for n in expected),
                  "grad_max": max(float(np.abs(g).max()) for g in grads.values())}))
'''

TORCH_SIDE = r'''
import json, sys
import numpy as np
import torch
sys.path.insert(0, sys.argv[1])
from _torch_train import CharLSTM, nll_sum

s = json.loads(sys.argv[2])
B, T, H, L, C = s["batch"], s["seq_len"], s["hidden"], s["layers"], s["n_class"]
saved = np.load(sys.argv[3])
w = {k[2:]: saved[k] for k in saved.files if k.startswith("w:")}
g = {k[2:]: saved[k] for k in saved.files if k.startswith("g:")}

def swap(x):
    return np.concatenate([x[i * H:(i + 1) * H] for i in (0, 2, 1, 3)])

def as_torch(p):
    out = {"embed.weight": p["ptb_embed_weight"].T, "pred.weight": p["ptb_pred_weight"],
           "pred.bias": p["ptb_pred_bias"]}
    for l in range(L):
        for theirs, ours in (("weight_ih", "i2h_weight"), ("weight_hh", "h2h_weight"), ("bias_ih", "i2h_bias"),
                             ("bias_hh", "h2h_bias")):
            out["lstm.%s_l%d" % (theirs, l)] = swap(p["ptb_l%d_%s" % (l + 1, ours)])
    return out

model = CharLSTM(C, s["embed"], H, L)
params = dict(model.named_parameters())
weights = as_torch(w)
assert sorted(params) == sorted(weights), sorted(params)
with torch.no_grad():
    for n, value in weights.items():
        params[n].copy_(torch.from_numpy(np.ascontiguousarray(value)))
loss = nll_sum(model, torch.from_numpy(saved["ids"]), 0, B, T)
loss.backward()
expected = as_torch(g)
print(json.dumps({"nll": loss.item() / (B * T),
                  "grad_diff": max(float(np.abs(params[n].grad.numpy() - expected[n]).max()) for n in expected)}))
'''


def _run(python, code, *args):
    proc = subprocess.run([str(python), "-c", code, str(BENCH), *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_fused_mxnet_and_torch_compute_the_unrolled_lstm(tmp_path):
    mxnet_python = _venv_or_skip(_mxnet_venv.MXNET)
    npz = tmp_path / "unrolled.npz"
    mx_side = _run(mxnet_python, MXNET_SIDE, json.dumps(SIZES), npz)
    assert "RNN" in mx_side["ops"]
    assert mx_side["nll"]["fused"] == pytest.approx(mx_side["nll"]["unrolled"], rel=1e-5)
    assert mx_side["grad_diff"] < 1e-5 * max(1.0, mx_side["grad_max"])
    if not _torch_venv.TORCH.exists():
        pytest.skip(f"{_torch_venv.TORCH.dir} has not been made (bench/compare.py makes it)")
    torch_side = _run(_torch_venv.TORCH.python, TORCH_SIDE, json.dumps(SIZES), npz)
    assert torch_side["nll"] == pytest.approx(mx_side["nll"]["unrolled"], rel=1e-5)
    # MXNet's SoftmaxOutput passes the summed NLL's gradient; torch's is of the same sum.
    assert torch_side["grad_diff"] < 1e-5 * max(1.0, mx_side["grad_max"])
