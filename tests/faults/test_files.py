"""Files from elsewhere are input: a checkpoint that claims more than it holds, or whose bytes
were cut, is refused in one sentence before anything is allocated; a damaged corpus cache (it is
pyjlchar's own) is encoded again with a line saying so. Real files, the real command."""
import json
import shutil
import struct
import time
from pathlib import Path

import pytest

from test_cli import CORPUS_TEXT, assert_clean_failure, pyjlchar, write_config

LEGACY = Path(__file__).parent.parent / "fixtures" / "legacy" / "fused"


@pytest.fixture
def run_copy(tmp_path):
    shutil.copytree(LEGACY, tmp_path / "run")
    return tmp_path / "run"


def damage(path: Path, at: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[at:at + len(data)] = data
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("what, change", [
    ("an array claiming 2^62 elements", lambda p: damage(p, 36, struct.pack("<q", 2**62))),
    ("an array count of 2^40", lambda p: damage(p, 16, struct.pack("<Q", 2**40))),
    ("a file cut short", lambda p: p.write_bytes(p.read_bytes()[:-100])),
    ("bytes after the last array", lambda p: p.write_bytes(p.read_bytes() + b"\0" * 7)),
])
def test_a_params_file_that_lies_is_one_sentence_at_once(run_copy, what, change):
    params = run_copy / "legacy-0002.params"
    change(params)
    started = time.monotonic()
    out = pyjlchar("sample", "--checkpoint", params, "--length", "10", "--seed", "1")
    assert_clean_failure(out, f"the checkpoint {params} is corrupt or truncated", "use another epoch's checkpoint")
    assert time.monotonic() - started < 60, what


def test_a_damaged_corpus_cache_is_encoded_again_and_trains(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT * 4)
    first = pyjlchar("corpus", "info", corpus, "--json")
    assert first.returncode == 0, first.stderr
    ids = Path(json.loads(first.stdout)["cache"]["folder"]) / "ids.bin"
    ids.write_bytes(b"\xfe" * ids.stat().st_size)   # ids past any vocabulary
    again = pyjlchar("train", "--config", write_config(tmp_path, corpus))
    assert again.returncode == 0, again.stderr
    assert "was damaged (ids.bin holds ids past its vocabulary): encoding it again" in again.stderr, again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize("command", [["sample", "--checkpoint"], ["plot"]])
def test_a_meta_file_nested_a_hundred_thousand_deep_is_one_sentence(run_copy, tmp_path, command):
    (run_copy / "legacy-meta.json").write_text("[" * 100_000 + "]" * 100_000)
    (run_copy / "legacy-log.jsonl").unlink()   # plot then reads the meta file
    args = [*command, run_copy / "legacy"] + (["-o", tmp_path / "c.svg"] if command == ["plot"] else [])
    out = pyjlchar(*args)
    assert_clean_failure(out, str(run_copy / "legacy-meta.json"))
    assert "RecursionError" not in out.stderr and "StackOverflow" not in out.stderr


def test_a_meta_file_of_a_hundred_megabytes_is_one_sentence_before_it_is_read(run_copy):
    meta = run_copy / "legacy-meta.json"
    with meta.open("r+b") as f:
        f.truncate(100 * 2**20)   # sparse: 100 MiB that take no disk
    out = pyjlchar("sample", "--checkpoint", run_copy / "legacy", "--length", "5")
    assert_clean_failure(out, f"the meta file {meta} is 100 MiB, more than any run's meta file")
