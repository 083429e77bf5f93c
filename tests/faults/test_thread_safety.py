"""A run in a thread other than the main one (a notebook's, a web worker's, a GUI's) keeps its
work when the process is signalled, when the interpreter exits, and when it is asked to stop;
a Model or TextStream shared by threads takes turns. Real processes, real runs, real files."""
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import pyjlchar as pj
from test_cli import CORPUS_TEXT, write_config

# The child: trains in a thread; its main thread waits for a word on stdin: "stop" sets the
# run's stop event, "exit" leaves (the interpreter exits under a daemon thread still training),
# end of input (after a signal) waits for the thread. It prints how the run ended.
CHILD = r"""
import os, sys, threading, traceback
import pyjlchar as pj
word, config = sys.argv[1], sys.argv[2]
stop, ended = threading.Event(), []
def work():
    try:
        pj.train(config, stop=stop)
        ended.append("finished")
    except pj.Interrupted as e:
        ended.append(e.what)
    except BaseException:
        traceback.print_exc()
        os._exit(3)   # the main thread waits on stdin: end the child, so that the test sees why
thread = threading.Thread(target=work, daemon=True)
thread.start()
said = sys.stdin.readline().strip()
if said == "exit":
    sys.exit(0)
if said == "stop":
    stop.set()
thread.join()
print(ended[0], flush=True)
"""


def start_child(tmp_path, word):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    config = write_config(tmp_path, corpus, epochs=3)
    return subprocess.Popen([sys.executable, "-c", CHILD, word, str(config)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_training(proc) -> list[str]:
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("Speed:"):
            return seen
    raise AssertionError("the run ended before it trained:\n" + "".join(seen))


def finish(proc, timeout: float) -> tuple[str, str]:
    """Ends the child's input, then waits for it: its stdout and the rest of its stderr."""
    proc.stdin.close()
    proc.stdin = None  # closed: communicate has nothing more to send
    return proc.communicate(timeout=timeout)


def partial_epoch(tmp_path) -> dict:
    meta = json.loads((tmp_path / "ck" / "tiny-meta.json").read_text())
    assert "partial" in meta, meta
    return meta["partial"]


@pytest.mark.parametrize("how, said", [("SIGTERM", "terminated (SIGTERM)"), ("SIGINT", "interrupted"),
                                       ("SIGHUP", "hung up (SIGHUP)"), ("stop", "stopped on request")])
def test_a_run_in_another_thread_saves_its_epoch_when_stopped(tmp_path, how, said):
    proc = start_child(tmp_path, how)
    wait_for_training(proc)
    if how == "stop":
        proc.stdin.write("stop\n")
        proc.stdin.flush()
    else:
        proc.send_signal(getattr(signal, how))
    out, err = finish(proc, 120)
    assert proc.returncode == 0, err
    assert out.strip() == said
    assert f"{said}; the checkpoint keeps the work so far: train again with resume=True" in err, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    partial = partial_epoch(tmp_path)
    assert partial["epoch"] == 1 and partial["batches_done"] > 0
    run = pj.train(write_config(tmp_path, tmp_path / "corpus.txt", epochs=1), resume=True,
                   on_progress=lambda event: None)
    assert [h["epoch"] for h in run.history] == [1]   # the partial epoch, finished


def test_the_interpreter_exiting_under_a_training_thread_saves_its_epoch(tmp_path):
    proc = start_child(tmp_path, "exit")
    wait_for_training(proc)
    proc.stdin.write("exit\n")
    _, err = finish(proc, 180)
    assert proc.returncode == 0, err
    assert "terminated (SIGTERM); the checkpoint keeps the work so far" in err, err
    assert "Exception ignored" not in err, err
    assert partial_epoch(tmp_path)["batches_done"] > 0


def test_stop_must_be_an_event_and_flags_booleans(tmp_path):
    with pytest.raises(pj.UserError, match="stop must be a threading.Event"):
        pj.train(stop=True)
    with pytest.raises(pj.UserError, match="resume must be True or False, not 'yes'"):
        pj.train(resume="yes")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shared")
    corpus = folder / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    run = pj.train(write_config(folder, corpus), on_progress=lambda event: None)
    with pj.load(run.prefix) as loaded:
        yield loaded


def in_threads(n, fn):
    errors, results = [], []

    def work(i):
        try:
            results.append(fn(i))
        except BaseException as e:  # noqa: BLE001 - the test reports it
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_threads_sharing_a_model_take_turns_and_get_what_one_thread_gets(model):
    alone = [model.sample(40, prime="All:", seed=seed) for seed in range(6)]
    shared = in_threads(6, lambda i: (i, model.sample(40, prime="All:", seed=i)))
    assert [text for _, text in sorted(shared)] == alone
    scores = in_threads(4, lambda i: model.evaluate(text=CORPUS_TEXT, streams=1)["nll"])
    assert len(set(scores)) == 1


def test_one_text_stream_read_from_two_threads_gives_each_character_once(model):
    expected = "".join(model.stream("All:", length=300, seed=3))
    stream = model.stream("All:", length=300, seed=3)
    drawn = [c for piece in in_threads(2, lambda i: list(stream)) for c in piece]
    assert sorted(drawn) == sorted(expected)   # every character once, whichever thread got it


def test_a_model_closed_by_one_thread_is_one_sentence_in_another(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    run = pj.train(write_config(tmp_path, corpus), on_progress=lambda event: None)
    loaded = pj.load(run.prefix)
    in_threads(1, lambda i: loaded.close())
    with pytest.raises(pj.UserError, match="is closed: load it again with pyjlchar.load"):
        loaded.sample(10)
