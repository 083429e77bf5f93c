"""The model's two graphs: `unrolled` (the original's, one node per gate and step) and `fused`
(libmxnet's RNN operator). They compute the same function of the same weights, and a checkpoint
written by either trains on, samples, scores and resumes in the other. Real Julia, real
libmxnet, real files: from the command line, and through the Python API in this process."""
import json
import math
import shutil
from pathlib import Path

import pytest

import pyjlchar as pj
from test_cli import CORPUS_TEXT, pyjlchar, write_config

GRAPHS = ("unrolled", "fused")
HELD_OUT = "First Citizen:\nYou are all resolved rather to speak than to die?\n\nAll:\nResolved.\n"


def test_fused_training_and_either_graph_reads_the_checkpoint(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus, epochs=1)
    out = pyjlchar("train", "--config", config, "--graph", "fused")
    assert out.returncode == 0, out.stderr
    assert "LSTM (fused graph)" in out.stderr
    ck = tmp_path / "ck"
    meta = json.loads((ck / "tiny-meta.json").read_text())
    assert meta["model"]["graph"] == "fused" and meta["model"]["cell"] == "lstm"
    assert meta["history"][0]["graph"] == "fused"
    assert meta["history"][0]["val_nll"] < 3.0

    samples = {graph: pyjlchar("sample", "--checkpoint", ck / "tiny", "--graph", graph, "--temperature", 0,
                               "--length", 60, "--num-samples", 2, "--prime", "First")
               for graph in GRAPHS}
    assert samples["unrolled"].returncode == 0, samples["unrolled"].stderr
    assert samples["unrolled"].stdout == samples["fused"].stdout

    scores = {graph: pyjlchar("eval", "--checkpoint", ck / "tiny", "--text", corpus, "--json", "--graph", graph)
              for graph in GRAPHS}
    nll = {graph: json.loads(out.stdout)["nll"] for graph, out in scores.items()}
    assert abs(nll["unrolled"] - nll["fused"]) < 1e-4

    # Resuming converts the run, weights and optimizer state, to the graph asked for, and back.
    unrolled = tmp_path / "unrolled"
    shutil.copytree(ck, unrolled)
    out = pyjlchar("train", "--config", config, "--epochs", 2, "--resume", "--graph", "unrolled",
                   "--checkpoint-dir", unrolled)
    assert out.returncode == 0, out.stderr
    assert "Converting the run from the fused graph to the unrolled graph" in out.stderr
    meta = json.loads((unrolled / "tiny-meta.json").read_text())
    assert meta["model"]["graph"] == "unrolled" and meta["epoch"] == 2
    assert [h["graph"] for h in meta["history"]] == ["fused", "unrolled"]
    saved = (unrolled / "tiny-0002.params").read_bytes()
    assert b"tiny_l1_i2h_weight" in saved and b"tiny_lstm_parameters" not in saved

    out = pyjlchar("train", "--config", config, "--epochs", 2, "--resume", "--graph", "fused")
    assert out.returncode == 0, out.stderr
    assert "Converting" not in out.stderr
    resumed = json.loads((ck / "tiny-meta.json").read_text())
    # The same weights and optimizer state, whichever graph took epoch 2: the same NLL.
    assert abs(resumed["history"][1]["train_nll"] - meta["history"][1]["train_nll"]) < 1e-3


# ----- the same run by each graph, through the Python API --------------------------------------

# Two layers, so that the fused graph's one flat vector holds more than one layer's weights.
MODEL = {"layers": 2, "hidden": 16, "embed": 8, "seq_len": 8, "batch_size": 4, "seed": 3}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text(CORPUS_TEXT)
    return path


@pytest.fixture(scope="module")
def runs(corpus, tmp_path_factory):
    """The same run (seed, settings, text) trained by each graph, every batch's NLL logged."""
    folder = tmp_path_factory.mktemp("runs")
    return {graph: pj.train(None, corpus=str(corpus), name="tiny", graph=graph, epochs=1,
                            checkpoint_dir=str(folder / graph), log_every=1, on_progress=lambda event: None, **MODEL)
            for graph in GRAPHS}


def batch_nlls(run) -> list:
    with open(f"{run.prefix}-log.jsonl") as log:
        return [line["train_nll"] for line in map(json.loads, log) if "train_nll" in line]


def test_both_graphs_start_from_the_same_weights_and_train_alike(runs):
    nlls = {graph: batch_nlls(run) for graph, run in runs.items()}
    assert len(nlls["unrolled"]) == len(nlls["fused"]) > 20
    # The first batch is scored by the seed's weights, before any step: the same function of
    # the same weights, up to float32 rounding, and near chance (log of the classes).
    assert nlls["fused"][0] == pytest.approx(nlls["unrolled"][0], abs=1e-5)
    assert nlls["unrolled"][0] == pytest.approx(math.log(len(runs["unrolled"].meta["vocab"]) + 1), abs=0.1)
    # The same gradients step after step: the runs part only by rounding.
    assert nlls["fused"] == pytest.approx(nlls["unrolled"], abs=1e-3)
    for graph, run in runs.items():
        (entry,) = run.history
        assert entry["graph"] == graph and run.meta["model"]["graph"] == graph
    u, f = runs["unrolled"].history[0], runs["fused"].history[0]
    assert f["train_nll"] == pytest.approx(u["train_nll"], abs=1e-3)
    assert f["val_nll"] == pytest.approx(u["val_nll"], abs=1e-3)
    assert u["val_nll"] < nlls["unrolled"][0] - 0.5   # it learned


@pytest.mark.parametrize("written", GRAPHS)
def test_a_checkpoint_of_either_graph_scores_and_samples_the_same_in_both(runs, corpus, written):
    prefix = runs[written].prefix
    with pj.load(prefix, graph="unrolled") as unrolled, pj.load(prefix, graph="fused") as fused:
        assert (unrolled.spec["graph"], fused.spec["graph"]) == GRAPHS
        assert unrolled.spec["cell"] == fused.spec["cell"] == "lstm"
        assert unrolled.checkpoint == fused.checkpoint == runs[written].best
        for streams in (1, 3):
            scores = [m.evaluate(text=HELD_OUT, streams=streams) for m in (unrolled, fused)]
            assert scores[1]["nll"] == pytest.approx(scores[0]["nll"], abs=1e-5), streams
            assert scores[0]["n_predicted"] == scores[1]["n_predicted"] == len(HELD_OUT) - 1
        whole = [m.evaluate(str(corpus), on_progress=lambda event: None)["nll"] for m in (unrolled, fused)]
        assert whole[1] == pytest.approx(whole[0], abs=1e-5)
        # The probabilities agree to 1e-5: the likeliest character and a seeded draw agree too.
        assert fused.sample(80, prime="First", temperature=0) == unrolled.sample(80, prime="First", temperature=0)
        assert fused.sample(80, prime="All:", seed=4) == unrolled.sample(80, prime="All:", seed=4)
        assert fused.sample(30, num_samples=3, seed=5) == unrolled.sample(30, num_samples=3, seed=5)


def test_a_run_trained_by_one_graph_resumes_in_the_other(runs, corpus, tmp_path):
    # Epoch 2 of the fused run, once by each graph: the same weights and optimizer state go on.
    for graph in GRAPHS:
        shutil.copytree(Path(runs["fused"].prefix).parent, tmp_path / graph)
    resumed = {graph: pj.train(None, resume=True, corpus=str(corpus), name="tiny", graph=graph, epochs=2,
                               checkpoint_dir=str(tmp_path / graph), log_every=1, on_progress=lambda event: None,
                               **MODEL)
               for graph in GRAPHS}
    for graph, run in resumed.items():
        assert [h["graph"] for h in run.history] == ["fused", graph]
    assert resumed["unrolled"].history[1]["train_nll"] == pytest.approx(resumed["fused"].history[1]["train_nll"],
                                                                       abs=1e-3)
    assert resumed["unrolled"].history[1]["val_nll"] == pytest.approx(resumed["fused"].history[1]["val_nll"],
                                                                     abs=1e-3)
    # The unrolled epoch's file has the unrolled layout, and still runs in the fused graph.
    with pj.load(resumed["unrolled"].best, graph="fused") as model:
        assert model.spec["graph"] == "fused" and model.checkpoint.endswith("tiny-0002.params")
        assert model.evaluate(text=HELD_OUT)["nll"] < math.log(len(model.vocab) + 1)
