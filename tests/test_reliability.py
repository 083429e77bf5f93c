"""Faults and abuse, as an operator meets them: signals, kills, a second writer, changed or odd
input, runaway settings. Real processes of the real command, on real files."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli import CORPUS_TEXT, assert_clean_failure, pyjlchar, write_config


def start_train(config, *args):
    return subprocess.Popen([sys.executable, "-m", "pyjlchar", "train", "--config", str(config), *map(str, args)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def wait_for(proc, prefix: str) -> list[str]:
    """Reads the process's stderr until a line starting with `prefix` (training under way)."""
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(prefix):
            return seen
    raise AssertionError("the run ended before printing " + prefix + ":\n" + "".join(seen))


def meta_of(folder: Path) -> dict:
    return json.loads((folder / "ck" / "tiny-meta.json").read_text())


@pytest.fixture
def long_run(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    return tmp_path, write_config(tmp_path, corpus, epochs=3)


@pytest.mark.parametrize("signum, code, said", [(signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                                 (signal.SIGHUP, 129, "hung up (SIGHUP)")])
def test_sigterm_and_sighup_save_like_ctrl_c(long_run, signum, code, said):
    folder, config = long_run
    proc = start_train(config)
    wait_for(proc, "Speed:")
    sent = time.monotonic()
    proc.send_signal(signum)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == code
    assert time.monotonic() - sent < 10
    assert said in rest and "--resume" in rest and "Interrupted in epoch 1" in rest, rest
    partial = meta_of(folder)["partial"]
    assert partial["epoch"] == 1 and partial["batches_done"] > 0
    assert partial["train_nll"] > 0 and partial["seconds"] > 0   # what was measured, not 0.0


def test_a_second_writer_is_refused_while_sample_and_eval_still_read(long_run):
    folder, config = long_run
    first = start_train(config, "--epochs", 30)
    try:
        wait_for(first, "Saved checkpoint to")   # epoch 1 is complete on disk
        second = pyjlchar("train", "--config", config, "--epochs", 30, "--resume")
        assert_clean_failure(second, f"another process (pid {first.pid}) is training the run")
        assert pyjlchar("sample", "--checkpoint", folder / "ck" / "tiny", "--length", 5, "--seed", 1).returncode == 0
        assert pyjlchar("eval", "--checkpoint", folder / "ck" / "tiny", "--text", folder / "corpus.txt").returncode == 0
    finally:
        first.send_signal(signal.SIGINT)
        first.stderr.read()
        first.wait(timeout=60)
    # The lock went with its process: the run resumes.
    meta = meta_of(folder)
    upto = meta["partial"]["epoch"] if "partial" in meta else meta["epoch"] + 1
    resumed = pyjlchar("train", "--config", config, "--epochs", upto, "--resume")
    assert resumed.returncode == 0, resumed.stderr


def test_a_killed_writers_lock_is_taken_over(long_run):
    folder, config = long_run
    proc = start_train(config)
    wait_for(proc, "Speed:")
    proc.kill()
    proc.wait()
    out = pyjlchar("train", "--config", config, "--epochs", 1, "--resume")
    assert out.returncode == 0, out.stderr
    assert f"from process {proc.pid}, which is gone" in out.stderr


def test_kill_9_at_any_moment_leaves_a_run_that_loads_and_resumes(long_run):
    folder, config = long_run
    # Tiny epochs, so that kills land in checkpoint writes as well as in batches.
    small = write_config(folder, folder / "corpus.txt", epochs=40, seq_len=4, batch_size=2)
    for delay in (0.3, 1.0, 1.7, 2.5):
        proc = start_train(small, *(["--resume"] if (folder / "ck" / "tiny-meta.json").exists() else []))
        wait_for(proc, "Training ")
        time.sleep(delay)
        proc.kill()
        proc.wait()
        stale = [p.name for p in (folder / "ck").iterdir() if ".tmp" in p.name]
        for params in sorted((folder / "ck").glob("tiny-*.params")):
            sampled = pyjlchar("sample", "--checkpoint", params, "--length", 3, "--num-samples", 1, "--seed", 1)
            assert sampled.returncode == 0, (params.name, sampled.stderr)
        if meta_of(folder)["epoch"] > 0 or "partial" in meta_of(folder):
            assert pyjlchar("sample", "--checkpoint", folder / "ck" / "tiny", "--length", 3).returncode == 0
    resumed = pyjlchar("train", "--config", small, "--resume", "--epochs", meta_of(folder)["epoch"] + 1)
    assert resumed.returncode == 0, resumed.stderr
    # Temporary files of the killed writers are cleared when a run starts.
    assert not [p for p in (folder / "ck").iterdir() if ".tmp" in p.name], stale


def test_switching_graphs_keeps_every_epoch_loadable(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus, graph="unrolled")
    assert pyjlchar("train", "--config", config).returncode == 0
    out = pyjlchar("train", "--config", config, "--resume", "--epochs", 2, "--graph", "fused")
    assert out.returncode == 0, out.stderr
    meta = meta_of(tmp_path)
    assert [h["graph"] for h in meta["history"]] == ["unrolled", "fused"]
    for epoch in (1, 2):
        params = tmp_path / "ck" / f"tiny-{epoch:04d}.params"
        for graph in ("unrolled", "fused"):
            scored = pyjlchar("eval", "--checkpoint", params, "--text", corpus, "--graph", graph, "--json")
            assert scored.returncode == 0, scored.stderr
    assert pyjlchar("sample", "--checkpoint", tmp_path / "ck" / "tiny", "--length", 5).returncode == 0


def test_resume_on_changed_text_is_refused_unless_asked(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus)
    assert pyjlchar("train", "--config", config).returncode == 0
    corpus.write_text(CORPUS_TEXT[::-1])   # the same characters, another text
    refused = pyjlchar("train", "--config", config, "--resume", "--epochs", 2)
    assert_clean_failure(refused, "is not the text this run was trained on", "--allow-new-text")
    allowed = pyjlchar("train", "--config", config, "--resume", "--epochs", 2, "--allow-new-text")
    assert allowed.returncode == 0, allowed.stderr
    corpus.write_text("Zebra quagga xylophone " * 200)   # characters the vocabulary lacks
    assert_clean_failure(pyjlchar("train", "--config", config, "--resume", "--epochs", 3, "--allow-new-text"),
                         "vocabulary lacks")


def test_impossible_checkpoint_folders_are_found_before_training(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    (tmp_path / "a-file").write_text("x")
    out = pyjlchar("train", "--config", write_config(tmp_path, corpus), "--checkpoint-dir", tmp_path / "a-file" / "ck")
    assert_clean_failure(out, "cannot make the checkpoint folder", "a-file is a file", "--checkpoint-dir")
    assert "Training " not in out.stderr


def test_a_fifo_corpus_is_refused_at_once(tmp_path):
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    out = pyjlchar("train", "--config", write_config(tmp_path, fifo), timeout=60)
    assert_clean_failure(out, "is not a regular file", "save the text to a file")


def test_a_diverging_run_stops_without_saving_the_ruined_weights(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus, learning_rate=1e30, grad_clip=0, epochs=2)
    out = pyjlchar("train", "--config", config)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]   # after the log lines of the training that ran
    assert last.startswith("error: training diverged in epoch 1"), out.stderr
    assert "no epoch was saved" in last and "lower learning_rate" in last
    assert meta_of(tmp_path)["epoch"] == 0 and not list((tmp_path / "ck").glob("*.params"))
    # Nothing was saved, so the run starts again with sane settings, no --resume needed.
    assert pyjlchar("train", "--config", write_config(tmp_path, corpus)).returncode == 0


def test_a_model_too_big_for_the_machine_is_refused_with_the_figure(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus)
    config.write_text(config.read_text().replace("hidden = 16", "hidden = 100000"))
    out = pyjlchar("train", "--config", config)
    assert_clean_failure(out, "needs at least", "GiB of memory", "lower hidden")


@pytest.mark.parametrize("args, phrase", [(["--seed", "-1"], "--seed"), (["--seed", str(2**70)], "--seed")])
def test_sample_seeds_out_of_range(args, phrase):
    out = pyjlchar("sample", "--checkpoint", "nowhere", *args)
    assert out.returncode == 2 and phrase in out.stderr and "Traceback" not in out.stderr


def test_a_long_sample_streams_and_ctrl_c_keeps_what_was_drawn(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus)
    assert pyjlchar("train", "--config", config).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "pyjlchar", "sample", "--checkpoint", str(tmp_path / "ck" / "tiny"),
                             "--num-samples", "1", "--length", "10000000", "--prime", "First"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.read(200)   # arrives while the sample is still being drawn
    assert first.startswith(b"First") and proc.poll() is None
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert len(first + rest) > 200 and b"drawn so far" in err


def test_a_damaged_optimizer_state_file_is_one_sentence_on_resume(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus)
    assert pyjlchar("train", "--config", config).returncode == 0
    states = tmp_path / "ck" / "tiny-0001.states"
    states.write_bytes(states.read_bytes()[: len(states.read_bytes()) // 2])
    out = pyjlchar("train", "--config", config, "--resume", "--epochs", 2)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "Stacktrace" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the optimizer state file") and str(states) in last and "start a new run" in last


def test_settings_beyond_what_libmxnet_can_hold_are_refused(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    out = pyjlchar("train", "--config", write_config(tmp_path, corpus, grad_clip=1e300))
    assert_clean_failure(out, "'grad_clip' in [train] must be a number from 0 to 3.4e38 (0: no clipping), not 1e+300")
