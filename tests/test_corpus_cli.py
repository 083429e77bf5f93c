"""Corpora as users name them (folders, lists of files), encoded once into the cache; `corpus
info`; `eval --streams`; bad input as one sentence. Real `pyjlchar` processes on real files."""
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from pyjlchar.corpus.files import cache_folder
from pyjlchar.show.progress import Reporter
from test_cli import CORPUS_TEXT, assert_clean_failure, pyjlchar, trained, write_config  # noqa: F401


def identity(text: str) -> dict:
    """A run's corpus identity, as its meta records it."""
    return {"characters": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}


def cache_entries(label: str) -> list:
    """The cache entries (and temporary folders) of corpora whose first file is named `label`."""
    return [name for name in os.listdir(cache_folder()) if name.lstrip(".").startswith(label + "-")]


def unique(stem: str) -> str:
    """A file name no other test run uses, so that its cache entries are this test's."""
    return f"{stem}-{uuid.uuid4().hex[:12]}"


def meta_of(folder) -> dict:
    return json.loads((folder / "ck" / "tiny-meta.json").read_text())


def test_a_folder_trains_as_its_files_in_order_encoded_once(tmp_path):
    texts = tmp_path / "texts"
    (texts / "act2").mkdir(parents=True)
    first_file = unique("act1")
    parts = {f"{first_file}.txt": CORPUS_TEXT, "act2/scene1.txt": CORPUS_TEXT.upper(),
             "act2/scene2.txt": "Ünïcödé ✓\n" * 50}
    for name, text in parts.items():
        (texts / name).write_text(text, encoding="utf-8")
    (texts / "notes.md").write_text("not part of the corpus")
    config = write_config(tmp_path, texts)
    first = pyjlchar("train", "--config", config)
    assert first.returncode == 0, first.stderr
    meta = meta_of(tmp_path)
    assert meta["corpus_identity"] == identity("".join(parts.values()))
    assert meta["data"]["corpus"] == str(texts)
    [entry] = cache_entries(f"{first_file}+2")   # named after the first file, and how many follow
    encoded = (cache_folder() / entry / "ids.bin").stat().st_mtime_ns

    resumed = pyjlchar("train", "--config", config, "--resume", "--epochs", 2)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming after epoch 1" in resumed.stderr
    assert cache_entries(f"{first_file}+2") == [entry]
    assert (cache_folder() / entry / "ids.bin").stat().st_mtime_ns == encoded


def test_corpus_flags_given_twice_are_a_list(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(CORPUS_TEXT)
    b.write_text("Second file.\n" * 100)
    out = pyjlchar("train", "--config", write_config(tmp_path, a), "--corpus", b, "--corpus", a)
    assert out.returncode == 0, out.stderr
    meta = meta_of(tmp_path)
    assert meta["data"]["corpus"] == [str(b), str(a)]
    assert meta["corpus_identity"] == identity(b.read_text() + a.read_text())


def test_corpus_info_counts_splits_and_says_whether_it_was_cached(tmp_path):
    text = "héllo\nworld\n" * 100 + "last line"
    path = tmp_path / f"{unique('info')}.txt"
    path.write_text(text, encoding="utf-8")
    first = pyjlchar("corpus", "info", path, "--train-ratio", 0.75, "--json")
    assert first.returncode == 0, first.stderr
    r = json.loads(first.stdout)
    ranked = sorted(([c, n] for c, n in Counter(text).items()), key=lambda pair: (-pair[1], pair[0]))
    assert (r["characters"], r["bytes"], r["lines"], r["distinct"]) == (len(text), len(text.encode()), 201, len(ranked))
    assert r["most_frequent"] == ranked[:5] and r["least_frequent"] == sorted(ranked[-5:], key=lambda pair: pair[1])
    n_train = round(len(text) * 0.75)
    assert (r["train_ratio"], r["train_characters"], r["validation_characters"]) == (0.75, n_train, len(text) - n_train)
    assert r["files"] == [str(path)] and r["sha256"] == identity(text)["sha256"]
    assert r["cache"]["encode_seconds"] > 0 and r["cache"]["id_type"] == "UInt8"
    assert cache_entries(path.stem) == [os.path.basename(r["cache"]["folder"])]

    again = pyjlchar("corpus", "info", path)
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert f"characters: {len(text):,}" in lines and "lines: 201" in lines
    assert f"distinct characters: {len(ranked)}" in lines
    assert "  most frequent: " + ", ".join(f"{c!r} {n:,}" for c, n in ranked[:5]) in lines
    n_train = round(len(text) * 0.9)
    assert f"train / validation at train_ratio 0.9: {n_train:,} / {len(text) - n_train:,} characters" in lines
    assert lines[-1].startswith(f"cache: {r['cache']['folder']} (UInt8 ids") and lines[-1].endswith("already encoded")


def test_corpus_info_takes_the_configs_corpus_and_checks_the_ratio(tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    for name in ("b.txt", "a.txt"):
        (texts / name).write_text(f"the text of {name}\n")
    config = write_config(tmp_path, texts)
    out = pyjlchar("corpus", "info", "--config", config, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["files"] == [str(texts / "a.txt"), str(texts / "b.txt")]
    assert_clean_failure(pyjlchar("corpus", "info", texts, "--train-ratio", 1.5), "'train_ratio' in [data]")


def test_eval_streams_several_texts_and_folders(trained, tmp_path):
    folder, _, _ = trained
    checkpoint = folder / "ck" / "tiny"
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "1.txt").write_text(CORPUS_TEXT[:3000])
    (parts / "2.txt").write_text(CORPUS_TEXT[3000:])
    whole = tmp_path / "whole.txt"
    whole.write_text(CORPUS_TEXT)

    def scores(*args):
        out = pyjlchar("eval", "--checkpoint", checkpoint, *args, "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    one = scores("--text", whole, "--streams", 1)
    assert one["streams"] == 1 and one["n_predicted"] == len(CORPUS_TEXT) - 1
    assert scores("--text", parts, "--streams", 1) == one   # the folder's files, as one text
    assert scores("--text", parts / "1.txt", "--text", parts / "2.txt", "--streams", 1) == one
    eight = scores("--text", whole, "--streams", 8)
    assert eight["streams"] == 8 and eight["n_predicted"] == one["n_predicted"]
    assert abs(eight["nll"] - one["nll"]) < 0.05   # only the start of each piece lacks context
    assert len(CORPUS_TEXT) < 16 * 1024 and scores("--text", whole)["streams"] == 1   # the default: one per 16 KiB
    plain = pyjlchar("eval", "--checkpoint", checkpoint, "--text", whole, "--streams", 2)
    assert plain.returncode == 0 and "streams = 2" in plain.stdout.splitlines()


def test_two_processes_encoding_one_corpus_at_once_share_one_whole_entry(tmp_path):
    path = tmp_path / f"{unique('shared')}.txt"
    text = "Speak, speak. ✓ First Citizen: you are all resolved rather to die than to famish?\n" * 200_000
    path.write_text(text, encoding="utf-8")   # 17 MB: they usually overlap (test_encoded_corpus.jl forces it)
    both = [subprocess.Popen([sys.executable, "-m", "pyjlchar", "corpus", "info", str(path), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    reports = []
    for proc in both:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    assert reports[0]["cache"]["folder"] == reports[1]["cache"]["folder"]
    assert [r["characters"] for r in reports] == [len(text)] * 2
    assert cache_entries(path.stem) == [os.path.basename(reports[0]["cache"]["folder"])]   # no temporary folder left
    ids = (Path(reports[0]["cache"]["folder"]) / "ids.bin").read_bytes()
    assert len(ids) == len(text)


def test_a_bad_byte_in_the_middle_of_a_large_file_is_named_and_nothing_cached(tmp_path):
    path = tmp_path / f"{unique('bad-middle')}.txt"
    good = ("All: Speak, speak. ✓\n" * 100_000).encode()   # 2.3 MB: several chunks
    path.write_bytes(good + b"\xff" + good)
    out = pyjlchar("corpus", "info", path)
    assert_clean_failure(out, f"corpus file {path} is not UTF-8 (byte 0xff at offset {len(good)})", "iconv")
    assert cache_entries(path.stem) == []
    out = pyjlchar("train", "--config", write_config(tmp_path, path))
    assert_clean_failure(out, f"is not UTF-8 (byte 0xff at offset {len(good)})")
    assert cache_entries(path.stem) == [] and not (tmp_path / "ck" / "tiny-meta.json").exists()


@pytest.mark.parametrize("files, phrases", [
    ({"a.txt": "text\n", "b.txt": "", "c.txt": "more\n"}, ["b.txt is empty", "remove it from"]),
    ({"readme.md": "no text files here"}, ["holds no .txt files", "*.txt"]),
])
def test_bad_folders_are_one_sentence(tmp_path, files, phrases):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    assert_clean_failure(pyjlchar("corpus", "info", folder), *phrases)
    assert_clean_failure(pyjlchar("train", "--config", write_config(tmp_path, folder)), *phrases)
    assert_clean_failure(pyjlchar("eval", "--checkpoint", "run/none", "--text", folder), *phrases)


def test_long_tasks_show_a_progress_line_on_a_terminal():
    stream = io.StringIO()
    reporter = Reporter(stream, live=True)
    reporter({"event": "task", "what": "encoding big.txt (pass 1 of 2)", "done": 50_000_000, "total": 100_000_000,
              "unit": "bytes"})
    line = stream.getvalue()
    assert line.startswith("\rencoding big.txt (pass 1 of 2) █") and " 50%" in line and "MB/s  ETA" in line
    reporter({"event": "log", "level": "info", "message": "Encoded big.txt"})
    assert stream.getvalue().endswith("\r\033[KEncoded big.txt\n")   # log lines scroll above it
    reporter({"event": "task", "what": "scoring", "done": 10, "total": 40, "unit": "chars"})
    assert "chars/s" in stream.getvalue().splitlines()[-1]
    quiet = io.StringIO()
    Reporter(quiet, live=False)({"event": "task", "what": "scoring", "done": 1, "total": 2, "unit": "chars"})
    assert quiet.getvalue() == ""
