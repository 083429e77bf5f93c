"""The Python API (`import pyjlchar as pj`) on the real Julia and libmxnet, in this process."""
import gc
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import graphviz
import pytest

import pyjlchar as pj
from pyjlchar import bridge

CORPUS_TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
               "First Citizen:\nYou are all resolved rather to die than to famish?\n\n") * 40
TINY = {"name": "tiny", "layers": 1, "hidden": 16, "embed": 8, "seq_len": 8, "batch_size": 4, "epochs": 1}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text(CORPUS_TEXT)
    return path


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    events = []
    run = pj.train(corpus=str(corpus), checkpoint_dir=str(tmp_path_factory.mktemp("run") / "ck"),
                   on_progress=events.append, **TINY)
    return run, events


@pytest.fixture(scope="module")
def model(trained):
    with pj.load(trained[0].prefix) as loaded:
        yield loaded


def kept() -> int:
    """How many objects Julia keeps for Python."""
    return bridge.get().eval("length(PyJLChar.Bridge.KEPT)")


def test_train_returns_the_run(trained):
    run, events = trained
    assert Path(run.prefix).name == "tiny" and Path(run.prefix + "-meta.json").is_file()
    assert run.best == run.prefix + "-0001.params" and Path(run.best).is_file()
    assert [h["epoch"] for h in run.history] == [1] and run.meta["model"]["hidden"] == 16
    assert [e["path"] for e in events if e["event"] == "checkpoint"] == [run.best]
    assert any(e["event"] == "log" and e["message"].startswith("Saved checkpoint") for e in events)
    assert run.meta["model"]["graph"] == "fused" and run.history[0]["graph"] == "fused"   # the default graph


def test_train_says_its_threads_first(trained):
    _, events = trained
    first = events[0]
    assert first["event"] == "log" and first["message"].startswith("Threads: "), events[:3]
    threads = bridge.get().started.threads
    assert first["message"] == f"Threads: {threads.line()}"
    assert first["level"] == ("warn" if threads.warning else "info")


def test_settings_take_a_config_file_and_dotted_keys(corpus, tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(f'[data]\ncorpus = "{corpus}"\n[model]\nname = "fromfile"\nhidden = 8\n')
    settings = pj.settings.load(config, **{**TINY, "name": None, "hidden": None, "run.epochs": 3})
    assert settings["model"]["name"] == "fromfile" and settings["model"]["hidden"] == 8
    assert settings["run"]["epochs"] == 3 and settings["train"]["seq_len"] == 8
    assert pj.settings.load(settings, graph="unrolled")["model"] == {**settings["model"], "graph": "unrolled"}


def test_a_loaded_model_knows_its_run(model, trained):
    run, _ = trained
    assert model.checkpoint == run.best and model.prefix == run.prefix
    assert (model.spec["cell"], model.spec["graph"]) == ("lstm", "fused")
    assert model.spec["n_class"] == len(model.vocab) + 1
    assert repr(model) == f"Model({run.best!r}, cell='lstm', graph='fused', vocab={len(model.vocab)} chars)"
    assert set(CORPUS_TEXT) == set(model.vocab) and model.history == run.history


def test_sample_returns_a_text_or_a_list_and_repeats_with_a_seed(model):
    text = model.sample(40, prime="First", seed=7)
    assert isinstance(text, str) and text.startswith("First") and len(text) == 45
    assert model.sample(40, prime="First", seed=7) == text
    texts = model.sample(30, num_samples=3, seed=1)
    assert isinstance(texts, list) and len(texts) == 3 and all(len(t) == 31 for t in texts)
    assert model.sample(10, temperature=0, num_samples=2, seed=1) == model.sample(10, top_k=1, num_samples=2, seed=2)


def test_cli_sample_draws_what_the_api_draws(model, trained):
    out = subprocess.run([sys.executable, "-m", "pyjlchar", "sample", "--checkpoint", trained[0].prefix, "--seed", "7",
                          "--length", "40", "--num-samples", "1", "--prime", "First"],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout == model.sample(40, prime="First", seed=7) + "\n"


def test_a_stream_yields_characters_lazily_with_the_state_carried(model):
    stream = model.stream("First", length=70, seed=3)
    first = next(stream)
    model.sample(5, seed=9)  # sampling in between leaves the stream alone
    assert first + "".join(stream) == model.sample(70, prime="First", seed=3)[len("First"):]
    endless = model.stream("A", seed=3)
    assert len([c for c, _ in zip(endless, range(100))]) == 100


def test_a_stream_gives_its_text_a_chunk_at_a_time(model):
    stream = model.stream("First", length=70, seed=3)
    pieces = [next(stream)]  # a chunk begun by iterating: next_chunk gives the rest of it first
    while piece := stream.next_chunk():
        pieces.append(piece)
    assert [len(p) for p in pieces] == [1, pj.api.STREAM_CHUNK - 1, pj.api.STREAM_CHUNK, 70 - 2 * pj.api.STREAM_CHUNK]
    assert "".join(pieces) == model.sample(70, prime="First", seed=3)[len("First"):]
    assert stream.next_chunk() == "" and list(stream) == []


def test_evaluate_a_file_or_a_text(model, corpus):
    from_file = model.evaluate(corpus, streams=1)
    from_text = model.evaluate(text=CORPUS_TEXT, streams=1)
    assert from_file["n_chars"] == from_text["n_chars"] == len(CORPUS_TEXT)
    assert from_file["nll"] == pytest.approx(from_text["nll"], rel=1e-6)
    assert model.evaluate([corpus, corpus])["n_chars"] == 2 * len(CORPUS_TEXT)
    assert from_file["streams"] == 1 and model.evaluate(text=CORPUS_TEXT)["streams"] == 1  # < 16 KiB


@pytest.mark.parametrize("call, phrases", [
    (lambda m: pj.train(hidden=1.5), ["'hidden' in [model] must be an integer, not 1.5", "hidden=256"]),
    (lambda m: pj.train(epoch=2), ["unknown setting 'epoch'", "did you mean 'epochs'?"]),
    (lambda m: pj.train(**{"run.epoch": 2}), ["unknown key 'epoch' in [run]", "did you mean 'epochs'?"]),
    (lambda m: pj.train(corpus="/no/such/text.txt"), ["does not exist"]),
    (lambda m: pj.load("/no/such/run/ptb"), ["no checkpoint at /no/such/run/ptb"]),
    (lambda m: pj.load("/no/such/run/ptb", graph="lstm"), ["'graph' in [model] must be one of \"fused\", "
                                                          "\"unrolled\", not \"lstm\""]),
    (lambda m: pj.load("/no/such/run/ptb", context="tpu"), ["'context' in [compute] must be cpu, gpu"]),
    (lambda m: pj.train(cell="fused"), ["'cell' in [model] must be one of \"lstm\", not \"fused\""]),
    (lambda m: pj.train(**{"train.epochs": 2}), ["('epochs' is in [run]: move it there)"]),
    (lambda m: m.sample(-1), ["'length' in [sample] must be an integer from 1 to 2147483647, not -1"]),
    (lambda m: m.sample(prime="\u2603"), ["vocabulary lacks", "remove them from the prime text"]),
    (lambda m: m.sample(seed=-1), ["seed must be an integer from 0 to 2147483647"]),
    (lambda m: m.stream(top_p=0), ["'top_p' in [sample] must be a number above 0"]),
    (lambda m: m.evaluate(), ["give one of them"]),
    (lambda m: m.evaluate(text="a"), ["give at least 2"]),
    (lambda m: pj.graph(steps=0), ["steps must be an integer from 1 to 10000, not 0"]),
    (lambda m: pj.graph(graph="lstm"), ["'graph' in [model] must be one of"]),
    (lambda m: pj.curves("/no/such/run"), ["there is no run at /no/such/run"]),
])
def test_bad_input_is_a_user_error_with_the_commands_sentence(model, call, phrases):
    with pytest.raises(pj.UserError) as caught:
        call(model)
    for phrase in phrases:
        assert phrase in str(caught.value)


def test_models_and_streams_are_freed_when_closed_or_collected(trained):
    before = kept()
    with pj.load(trained[0].prefix) as loaded:
        assert kept() == before + 1
        stream = loaded.stream("First", seed=1)
        next(stream)
        assert kept() == before + 2
        del stream
        gc.collect()
    assert kept() == before  # the stream went with the close's call
    with pytest.raises(pj.UserError, match="is closed"):
        loaded.sample(5)
    unclosed = pj.load(trained[0].prefix)
    del unclosed
    gc.collect()
    bridge.get().call("identity", 1)  # the next call frees what the collector let go
    assert kept() == before


def test_a_model_is_usable_from_several_threads(model):
    expected = {seed: model.sample(20, prime="First", seed=seed) for seed in range(8)}
    drawn, errors = {}, []

    def draw(seeds):
        try:
            for seed in seeds:
                drawn[seed] = model.sample(20, prime="First", seed=seed)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=draw, args=(range(i, 8, 4),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and drawn == expected


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_rss_stays_flat_over_a_thousand_samples(model):
    for seed in range(1000):  # warm-up: compiled code, the bound predictor, Julia's heap at its working size
        model.sample(20, prime="First", seed=seed)
    before = rss_bytes()
    for seed in range(1000):
        model.sample(20, prime="First", seed=seed)
    grown = rss_bytes() - before
    assert grown < 8 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 1000 samples"


def test_graph_is_a_digraph_that_draws_itself(trained):
    drawn = pj.graph(layers=1, steps=2)
    assert isinstance(drawn, graphviz.Digraph)
    assert drawn.source.startswith("digraph") and "char-lstm: 1 layer, 2 steps" in drawn.source
    assert "<svg" in drawn._repr_image_svg_xml()
    assert pj.graph().source == drawn.source   # the original's picture by default: unrolled
    assert "\\nActivation\\n" in drawn.source and "\\nRNN\\n" not in drawn.source
    fused = pj.graph(layers=1, steps=2, graph="fused").source
    assert "\\nRNN\\n" in fused and "\\nActivation\\n" not in fused


def test_either_graph_runs_a_checkpoint_and_trains(trained, corpus, tmp_path):
    run, _ = trained
    with run.load(graph="unrolled") as unrolled, pj.load(run.prefix) as fused:
        assert unrolled.spec["graph"] == "unrolled" and fused.spec["graph"] == "fused"
        assert unrolled.sample(30, prime="First", temperature=0) == fused.sample(30, prime="First", temperature=0)
        assert unrolled.evaluate(text=CORPUS_TEXT, streams=1)["nll"] == pytest.approx(
            fused.evaluate(text=CORPUS_TEXT, streams=1)["nll"], abs=1e-4)
    again = pj.train(corpus=str(corpus), checkpoint_dir=str(tmp_path / "ck"), graph="unrolled",
                     on_progress=lambda event: None, **TINY)
    assert again.meta["model"]["graph"] == "unrolled" and again.history[0]["graph"] == "unrolled"


def test_history_shows_as_the_curves(trained, model, tmp_path):
    run, _ = trained
    assert run.history._repr_png_().startswith(b"\x89PNG")
    figure = pj.curves(run, model, output=tmp_path / "curves.svg")
    assert figure.axes and (tmp_path / "curves.svg").read_text().startswith("<?xml")
    assert run.plot().axes[0].get_ylabel() == "NLL per character (nats)"


SCRIPT = """
import sys, pyjlchar as pj
try:
    pj.train(corpus=sys.argv[1], checkpoint_dir=sys.argv[2], name="tiny", layers=1, hidden=16, embed=8, seq_len=8,
             batch_size=4, epochs=50)
except KeyboardInterrupt as e:
    print("caught", type(e).__name__, flush=True)
print(pj.load(sys.argv[2] + "/tiny").sample(10, prime="First", seed=1), flush=True)
"""


def test_ctrl_c_in_a_script_saves_the_run_and_raises_keyboard_interrupt(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 3)
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(corpus), str(tmp_path / "ck")], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # the default display's log lines: wait until training is under way
        if line.startswith("Speed:"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.startswith("caught Interrupted\nFirst"), out
    assert "interrupted; the checkpoint keeps the work so far: train again with resume=True" in err
    meta = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())
    assert meta["partial"]["batches_done"] > 0
