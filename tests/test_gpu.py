"""pyjlchar on a GPU: training with both graphs, sampling, evaluation and data-parallel training
on the device that PYJLCHAR_TEST_DEVICE names (gpu, the default, or cpu), each checked against
the CPU on the same weights. Real libmxnet, real files, through the Python API.

Marked `gpu`, and skipped unless libmxnet has CUDA and sees a GPU; scripts/gpu-check runs them
with a CUDA build of libmxnet. `PYJLCHAR_TEST_DEVICE=cpu pytest -m gpu tests/test_gpu.py` runs
the same tests on the CPU (the comparisons are then of the CPU with itself), which checks the
tests themselves on a machine without a GPU.
"""
import json
import math
import os

import pytest

import pyjlchar as pj
from pyjlchar import bridge, commands

pytestmark = pytest.mark.gpu

DEVICE = os.environ.get("PYJLCHAR_TEST_DEVICE", "gpu")
TOLERANCE = 1e-4
CORPUS_TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
               "First Citizen:\nYou are all resolved rather to die than to famish?\n\n") * 40
HELD_OUT = "First Citizen:\nYou are all resolved rather to speak than to die?\n\nAll:\nResolved.\n"
# Small enough for seconds on a CPU; dropout 0, as a GPU draws its dropout masks differently.
MODEL = {"layers": 2, "hidden": 32, "embed": 16, "dropout": 0.0, "seq_len": 16, "batch_size": 8, "seed": 7}


@pytest.fixture(scope="module")
def gpus():
    """The number of devices of DEVICE's kind that libmxnet can use; skips without a GPU."""
    if DEVICE not in ("gpu", "cpu"):
        pytest.fail(f"PYJLCHAR_TEST_DEVICE={DEVICE!r}: set it to gpu or cpu")
    bridge.get(DEVICE)  # libmxnet's engine as a command on DEVICE gets it
    info = bridge.run(commands.system_info())
    if DEVICE == "cpu":
        return math.inf
    if not info["mxnet_features"].get("CUDA"):
        pytest.skip(f"{info['mxnet_library']} is built without CUDA: run scripts/gpu-check on a machine with a "
                    "GPU, or PYJLCHAR_TEST_DEVICE=cpu to run these tests on the CPU")
    if info["gpu_count"] < 1:
        pytest.skip("libmxnet has CUDA but sees no GPU (check the driver and CUDA_VISIBLE_DEVICES)")
    return info["gpu_count"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text(CORPUS_TEXT)
    return path


def train(corpus, folder, graph, context, epochs=2):
    """A run of MODEL by `graph` on `context`, its metrics logged after every batch."""
    return pj.train(None, corpus=str(corpus), name="tiny", graph=graph, epochs=epochs, checkpoint_dir=str(folder),
                    context=context, log_every=1, on_progress=lambda event: None, **MODEL)


def batch_nlls(run) -> list:
    """The training NLL of each batch, in order, from the run's metrics log."""
    with open(f"{run.prefix}-log.jsonl") as log:
        lines = [json.loads(line) for line in log]
    return [line["train_nll"] for line in lines if "train_nll" in line]


@pytest.fixture(scope="module", params=["unrolled", "fused"])
def runs(request, gpus, corpus, tmp_path_factory):
    """The same run (seed, settings, graph) on DEVICE and on the CPU."""
    graph = request.param
    folder = tmp_path_factory.mktemp(f"runs-{graph}")
    return graph, train(corpus, folder / "device", graph, DEVICE), train(corpus, folder / "reference", graph, "cpu")


def test_training_starts_from_the_cpus_weights_and_its_nll_falls(runs):
    graph, on_device, on_cpu = runs
    device_nlls, cpu_nlls = batch_nlls(on_device), batch_nlls(on_cpu)
    # The first batch's NLL is the untrained weights' (the seed's), before any step.
    assert device_nlls[0] == pytest.approx(cpu_nlls[0], abs=TOLERANCE), graph
    assert device_nlls[0] == pytest.approx(math.log(len(on_device.meta["vocab"]) + 1), abs=0.1)
    # Two epochs over a small repeated text: the NLL falls by more than a nat (0.7 allows for noise).
    assert sum(device_nlls[-10:]) / 10 < device_nlls[0] - 0.7, device_nlls
    history = on_device.history
    assert len(history) == 2 and history[1]["val_nll"] < history[0]["val_nll"], history
    assert all(entry["graph"] == graph for entry in history)


@pytest.mark.parametrize("as_graph", ["fused", "unrolled"])
def test_a_checkpoint_scores_the_same_on_the_device_as_on_the_cpu(runs, corpus, as_graph):
    _, on_device, _ = runs
    with pj.load(on_device.prefix, graph=as_graph, context=DEVICE) as model, \
            pj.load(on_device.prefix, graph=as_graph, context="cpu") as reference:
        for streams in (1, 4):
            scored, expected = (m.evaluate(text=HELD_OUT, streams=streams) for m in (model, reference))
            assert scored["nll"] == pytest.approx(expected["nll"], abs=TOLERANCE), (as_graph, streams)
            assert scored["n_predicted"] == expected["n_predicted"] == len(HELD_OUT) - 1
        whole = model.evaluate(str(corpus), on_progress=lambda event: None)
        assert whole["nll"] == pytest.approx(reference.evaluate(str(corpus), on_progress=lambda event: None)["nll"],
                                             abs=TOLERANCE)
        # The text it trained on, far below the untrained weights' log(classes).
        assert whole["nll"] < math.log(len(model.vocab) + 1) - 0.7


def test_sampling_on_the_device_draws_what_the_cpu_draws(runs):
    _, on_device, _ = runs
    with pj.load(on_device.prefix, context=DEVICE) as model, pj.load(on_device.prefix, context="cpu") as reference:
        greedy = model.sample(200, prime="First", temperature=0)
        # The likeliest character of probabilities equal to 1e-4: the same text unless two tie.
        assert greedy == reference.sample(200, prime="First", temperature=0)
        assert greedy.startswith("First") and len(greedy) == 205
        drawn = model.sample(150, prime="All:", seed=3)
        assert drawn == model.sample(150, prime="All:", seed=3)  # same seed, same text
        # A draw differs only where the uniform number falls within 1e-4 of a boundary: rare in 150.
        assert drawn == reference.sample(150, prime="All:", seed=3)
        batch = model.sample(60, num_samples=4, seed=5)
        assert len(batch) == 4 and all(len(text) == 61 for text in batch)
        assert batch == reference.sample(60, num_samples=4, seed=5)


def test_data_parallel_training_on_two_devices(gpus, corpus, tmp_path):
    if gpus < 2:
        pytest.skip(f"data-parallel training needs 2 GPUs; libmxnet sees {gpus}")
    pair = f"{DEVICE}:0,1"
    run = train(corpus, tmp_path / "device", "fused", pair)
    single = train(corpus, tmp_path / "reference", "fused", "cpu")
    nlls = batch_nlls(run)
    # Each device takes half of every batch, from the same weights: the first batch's NLL is the same.
    assert nlls[0] == pytest.approx(batch_nlls(single)[0], abs=TOLERANCE)
    assert sum(nlls[-10:]) / 10 < nlls[0] - 0.7, nlls
    with pj.load(run.prefix, context=DEVICE) as model, pj.load(run.prefix, context="cpu") as reference:
        assert model.evaluate(text=HELD_OUT)["nll"] == pytest.approx(reference.evaluate(text=HELD_OUT)["nll"],
                                                                      abs=TOLERANCE)
