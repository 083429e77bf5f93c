"""`pip install` outside the checkout: the sdist and the wheel carry the Julia package and the
configs, and an installed pyjlchar sets itself up and runs from any folder.

Slow (it builds both, makes a virtual environment and compiles without a system image); it runs
with --runslow, and always in CI."""
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from pyjlchar.bridge import paths

pytestmark = [pytest.mark.slow, pytest.mark.ci]

CORPUS = ("ROMEO:\nBut soft, what light through yonder window breaks?\n\n"
          "JULIET:\nO Romeo, Romeo, wherefore art thou Romeo?\n\n") * 30


def run(cmd, cwd, env=None, timeout=1200):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", out, paths.ROOT], cwd=out)
    return out


def test_the_wheel_and_the_sdist_carry_the_julia_package_and_the_configs(dist):
    wheel = next(dist.glob("pyjlchar-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("pyjlchar/_share/Project.toml", "pyjlchar/_share/Manifest.toml", "pyjlchar/_share/julia/Project.toml",
                   "pyjlchar/_share/julia/src/PyJLChar.jl", "pyjlchar/_share/julia/src/CharLSTM/train/train.jl",
                   "pyjlchar/_share/julia/precompile/replay.jl", "pyjlchar/_share/config/shakespeare.toml",
                   "pyjlchar/_share/config/quick.toml", "pyjlchar/corpus/files.py", "pyjlchar/bridge/calls.py"):
        assert needed in names, needed
    # Every module of the package and every Julia source of the checkout: none left behind.
    root = paths.ROOT
    modules = {p.relative_to(root).as_posix() for p in (root / "pyjlchar").rglob("*.py") if "_share" not in p.parts}
    julia = {f"pyjlchar/_share/{p.relative_to(root).as_posix()}" for folder in ("julia/src", "julia/precompile")
             for p in (root / folder).rglob("*.jl")}
    assert not (modules | julia) - names, sorted((modules | julia) - names)
    sdist = next(dist.glob("pyjlchar-*.tar.gz"))
    members = {name.split("/", 1)[1] for name in tarfile.open(sdist).getnames() if "/" in name}
    assert {"julia/src/PyJLChar.jl", "julia/src/CharLSTM/CharLSTM.jl", "julia/precompile/replay.jl",
            "config/shakespeare.toml", "Manifest.toml", "setup.py", "pyjlchar/ops/doctor.py"} <= members


def test_an_installed_wheel_sets_up_and_trains_samples_and_draws_from_another_folder(dist, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    pyjlchar = venv / "bin" / "pyjlchar"
    run([venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check", next(dist.glob("pyjlchar-*.whl"))],
        cwd=tmp_path)
    home = tmp_path / "home"
    # A user's machine: no checkout, its own cache folder; Julia and its libunwind as installed
    # here (`pyjlchar setup` finds Julia; it fetches libunwind again into the new cache).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYJLCHAR_") and k != "MXNET_LIBRARY_PATH"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYJLCHAR_SYSIMAGE="off")
    work = tmp_path / "elsewhere"
    work.mkdir()

    never_set_up = subprocess.run([pyjlchar, "sample", "--checkpoint", "x"], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=300)
    assert never_set_up.returncode == 1 and "pyjlchar setup" in never_set_up.stderr
    assert "Traceback" not in never_set_up.stderr

    run([pyjlchar, "setup"], cwd=work, env=env)
    report = json.loads(run([pyjlchar, "doctor", "--json"], cwd=work, env=env).stdout)
    assert report["ok"], report["problems"]
    cache = home / ".cache" / "pyjlchar"
    assert report["cache"]["folder"] == str(cache)
    assert "site-packages" not in report["cache"]["folder"]

    (work / "corpus.txt").write_text(CORPUS)
    (work / "tiny.toml").write_text('[data]\ncorpus = "corpus.txt"\n[model]\nname = "tiny"\nlayers = 1\n'
                                    'hidden = 16\nembed = 8\n[train]\nseq_len = 8\nbatch_size = 4\n'
                                    '[run]\nepochs = 1\ncheckpoint_dir = "ck"\n')
    run([pyjlchar, "train", "--config", "tiny.toml"], cwd=work, env=env)
    sample = run([pyjlchar, "sample", "--checkpoint", "ck/tiny", "--prime", "ROMEO", "--length", 20,
                  "--num-samples", 1, "--seed", 1], cwd=work, env=env)
    assert sample.stdout.startswith("ROMEO") and len(sample.stdout) > 20
    dot = run([pyjlchar, "visualize", "--layers", 1, "--steps", 2], cwd=work, env=env)
    assert dot.stdout.startswith("digraph")
    assert (cache / "julia-depot").is_dir() and (cache / "libunwind").is_dir()
