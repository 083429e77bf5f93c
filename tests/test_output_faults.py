"""Where the output goes wrong: a full disk under the checkpoints, stdout on a full device, closed
or piped into `head`, stderr closed or unwritable, Ctrl-C while Julia starts. Real `pyjlchar`
processes, real files and devices; as a user runs them."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli import CORPUS_TEXT, trained, write_config  # noqa: F401 - a fixture

PYJLCHAR = [sys.executable, "-m", "pyjlchar"]
BIG_GRAPH = ["visualize", "--layers", "3", "--steps", "20"]  # about 210 KB of DOT: more than a pipe holds


def run(*args, shell_redirect="", env=None, timeout=600, **kwargs):
    """`pyjlchar ARGS`, through `sh -c` when the test needs a redirection that Python's
    subprocess cannot make (closing a standard descriptor)."""
    command = [*PYJLCHAR, *map(str, args)]
    if shell_redirect:
        command = ["sh", "-c", f'exec "$0" "$@" {shell_redirect}', *command]
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(command, text=True, env=env, timeout=timeout, **kwargs)


def assert_one_sentence(out, *phrases):
    """Failed with exit code 1 and one line on stderr (after any logs) naming the problem."""
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and "Stack trace" not in out.stderr, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), out.stderr
    for phrase in phrases:
        assert phrase in last, last


@pytest.fixture
def tmpfs(tmp_path):
    """A 1 MiB tmpfs: a disk that fills. Skipped where mounting is not permitted."""
    mountpoint = tmp_path / "tmpfs"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): "
                    f"{mounted.stderr.strip()}")
    yield mountpoint
    subprocess.run(["umount", str(mountpoint)], check=False)


def fill(folder: Path) -> Path:
    """Fills the filesystem of `folder` to the last byte; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


# ----- a full disk under the checkpoints ---------------------------------------------------------

def test_a_full_disk_keeps_the_last_checkpoint_and_says_so(trained, tmpfs, tmp_path):
    folder, _, _ = trained
    for file in (folder / "ck").iterdir():
        shutil.copy(file, tmpfs / file.name)
    config = write_config(tmp_path, folder / "corpus.txt", checkpoint_dir=str(tmpfs))
    before = {f.name: f.read_bytes() for f in tmpfs.iterdir()}
    filler = fill(tmpfs)

    out = run("train", "--config", config, "--epochs", 2, "--resume")
    assert_one_sentence(out, f"cannot write {tmpfs}/tiny-", "the disk is full", "free some space")
    filler.unlink()
    assert {f.name: f.read_bytes() for f in tmpfs.iterdir()} == before  # epoch 1 intact, no temp files

    # With space again, the run goes on from the checkpoint the full disk kept.
    again = run("train", "--config", config, "--epochs", 2, "--resume")
    assert again.returncode == 0, again.stderr
    assert "Resuming after epoch 1" in again.stderr
    assert (tmpfs / "tiny-0002.params").is_file()
    assert not list(tmpfs.glob(".*tmp*"))


# ----- stdout ------------------------------------------------------------------------------------

def test_sample_to_a_full_device_is_one_sentence(trained):
    folder, _, _ = trained
    with open("/dev/full", "w") as full:
        out = run("sample", "--checkpoint", folder / "ck" / "tiny", "--length", 20, stdout=full)
    assert_one_sentence(out, "cannot write the output (No space left on device)")
    assert out.stderr.count("\n") == 1


def test_sample_with_stdout_closed_fails_instead_of_losing_the_samples(trained):
    folder, _, _ = trained
    out = run("sample", "--checkpoint", folder / "ck" / "tiny", "--length", 20, shell_redirect=">&-")
    assert_one_sentence(out, "cannot write the output (stdout is closed)")
    assert out.stderr.count("\n") == 1


def test_a_pipe_closed_by_its_reader_ends_quietly():
    writer = subprocess.Popen([*PYJLCHAR, *BIG_GRAPH], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-1"], stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()  # only `head` reads the pipe
    first_line, _ = head.communicate(timeout=600)
    errors = writer.stderr.read().decode()
    assert writer.wait(timeout=60) == 1  # the output was cut short, as Python's guide says
    assert errors == ""
    assert first_line.startswith(b"digraph ")


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_a_slow_pipe_gets_all_of_the_output(tmp_path, unbuffered):
    # Julia's start made stdout's pipe non-blocking, and Python's writer dropped what did not
    # fit at once (also under PYTHONUNBUFFERED=1, when it ignores a partial write): a reader
    # slower than the writer got 64 KiB of the graph, and the command exited 0.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    whole = tmp_path / "whole.dot"
    with open(whole, "w") as f:
        assert run(*BIG_GRAPH, env=env, stdout=f).returncode == 0
    piped = tmp_path / "piped.dot"
    out = subprocess.run(["sh", "-c", f'"$0" "$@" | (sleep 2; cat > "{piped}")', *PYJLCHAR, *BIG_GRAPH],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert whole.stat().st_size > 150_000
    assert piped.read_bytes() == whole.read_bytes()


# ----- stderr ------------------------------------------------------------------------------------

@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_train_runs_when_its_logs_cannot_be_written(tmp_path, redirect):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    out = run("train", "--config", write_config(tmp_path, corpus), shell_redirect=redirect)
    assert out.returncode == 0
    assert (tmp_path / "ck" / "tiny-0001.params").is_file() and (tmp_path / "ck" / "tiny-meta.json").is_file()


# ----- Ctrl-C ------------------------------------------------------------------------------------

def test_ctrl_c_while_julia_starts_says_interrupted(tmp_path):
    """SIGINT while the main thread is inside Julia's start (here: precompiling PyJLChar into
    an empty depot), where Python cannot raise KeyboardInterrupt: one line, exit 130, at once.
    The signal goes to the Python process alone (a terminal would also stop the precompiling
    child, which is what made the start long here); the test then ends that child itself."""
    real = Path(os.environ.get("PYJLCHAR_CACHE") or Path(__file__).resolve().parent.parent / ".cache")
    cache = tmp_path / "cache"  # an empty Julia depot: `using PyJLChar` precompiles
    cache.mkdir()
    if (real / "libunwind").is_dir():
        (cache / "libunwind").symlink_to(real / "libunwind")
    if (real / "julia-info.json").is_file():
        shutil.copy(real / "julia-info.json", cache / "julia-info.json")
    env = {**os.environ, "PYJLCHAR_CACHE": str(cache), "PYJLCHAR_SYSIMAGE": "off"}
    stderr = tmp_path / "stderr"
    with open(stderr, "w") as err:
        proc = subprocess.Popen([*PYJLCHAR, "visualize"], env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    try:
        maps = Path(f"/proc/{proc.pid}/maps")
        deadline = time.time() + 120
        while proc.poll() is None and "libjulia" not in maps.read_text() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # well inside Julia's start
        assert proc.poll() is None, stderr.read_text()
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        assert time.time() - sent < 10
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the precompiling child
        except ProcessLookupError:
            pass
    text = stderr.read_text()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert text.strip().splitlines()[-1] == "interrupted", text
