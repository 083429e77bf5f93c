"""`pyjlchar sample --stream`: one sample written as it is drawn, endless unless a length is
given, through real pipes and signals, with a real checkpoint."""
import os
import signal
import subprocess
import sys
import time

from test_cli import assert_clean_failure, pyjlchar, trained  # noqa: F401 - a fixture

PRIME = "First"


def stream_command(folder, *args):
    return [sys.executable, "-m", "pyjlchar", "sample", "--checkpoint", str(folder / "ck" / "tiny"), "--stream",
            "--prime", PRIME, *map(str, args)]


def test_a_stream_of_given_length_writes_what_sample_writes(trained, tmp_path):
    folder, _, _ = trained
    sampled = pyjlchar("sample", "--checkpoint", folder / "ck" / "tiny", "--prime", PRIME, "--seed", 7,
                       "--length", 70, "--num-samples", 1)
    assert sampled.returncode == 0, sampled.stderr
    assert len(sampled.stdout) == len(PRIME) + 70 + 1  # a length that ends inside a chunk
    config = tmp_path / "sample.toml"
    config.write_text("[sample]\nlength = 70\nnum_samples = 3\n")  # the file's num_samples is not --stream's
    for length in (["--length", 70], ["--set", "sample.length=70"], ["--config", config]):
        streamed = subprocess.run(stream_command(folder, "--seed", 7, *length), capture_output=True, text=True,
                                  timeout=600)
        assert streamed.returncode == 0, streamed.stderr
        assert streamed.stdout == sampled.stdout, length


def test_a_stream_is_written_as_it_is_drawn(trained):
    folder, _, _ = trained
    # Less than stdout's 8 KiB buffer: unless each chunk is flushed, all of it comes at the end, at once.
    proc = subprocess.Popen(stream_command(folder, "--length", 8000), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = os.read(proc.stdout.fileno(), 1 << 16)  # what has come when the first bytes come
        rest, errors = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, errors.decode()
    assert len(first + rest) == len(PRIME) + 8000 + 1
    assert len(first) < 4000, len(first)


def test_an_endless_stream_into_head_ends_quickly_and_quietly(trained):
    folder, _, _ = trained
    writer = subprocess.Popen(stream_command(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-c", "1000"], stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()  # only `head` reads the pipe
    try:
        taken, _ = head.communicate(timeout=600)
        head_done = time.monotonic()
        assert writer.wait(timeout=30) == 1  # cut short, as streams.py ends a closed pipe
    finally:
        writer.kill()
    assert time.monotonic() - head_done < 10
    assert len(taken) == 1000 and taken.startswith(PRIME.encode())
    assert writer.stderr.read().decode() == ""


def test_several_samples_cannot_stream(trained):
    folder, _, _ = trained
    out = subprocess.run(stream_command(folder, "--num-samples", 3), capture_output=True, text=True, timeout=600)
    assert_clean_failure(out, "--stream writes one sample, not 3", "leave out --num-samples")
    assert "\n" not in out.stderr.strip() and out.stdout == ""


def test_ctrl_c_ends_an_endless_stream_with_its_text_out(trained):
    folder, _, _ = trained
    proc = subprocess.Popen(stream_command(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = os.read(proc.stdout.fileno(), 1 << 16)  # under way
        assert first and proc.poll() is None
        proc.send_signal(signal.SIGINT)
        rest, errors = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    text = (first + rest).decode()
    assert text.startswith(PRIME) and text.endswith("\n") and len(text) > len(first)
    errors = errors.decode()
    assert "Traceback" not in errors and "Stacktrace" not in errors, errors
    assert errors.strip() == "interrupted; the text above is what was drawn so far"


def test_several_samples_by_set_cannot_stream_either(trained):
    folder, _, _ = trained
    out = subprocess.run(stream_command(folder, "--set", "sample.num_samples=2"), capture_output=True, text=True,
                         timeout=600)
    assert_clean_failure(out, "--stream writes one sample, not 2", "leave out --set sample.num_samples")


def test_either_graph_streams_the_checkpoint(trained):
    folder, _, _ = trained
    greedy = [subprocess.run(stream_command(folder, "--length", 40, "--temperature", 0, "--graph", graph),
                             capture_output=True, text=True, timeout=600) for graph in ("fused", "unrolled")]
    assert greedy[0].returncode == 0, greedy[0].stderr
    assert greedy[0].stdout == greedy[1].stdout and len(greedy[0].stdout) == len(PRIME) + 40 + 1
