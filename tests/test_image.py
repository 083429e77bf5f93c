"""pyjlchar's Julia system image: its key, the choice between it and Julia's own (bridge/image.py),
and the image ops/image_build.py builds by replaying the commands' requests."""
import json
import os
import shutil
from pathlib import Path
import subprocess
import sys

import pytest

from pyjlchar.bridge import image, paths
from pyjlchar.ops import image_build
from pyjlchar.settings import DEFAULTS

PYJLCHAR = [sys.executable, "-m", "pyjlchar"]


@pytest.fixture(scope="module")
def info():
    return paths.julia_info()


def copy_sources(root):
    """A copy of everything the image bakes in from the checkout."""
    for rel in ("Project.toml", "Manifest.toml", "julia/Project.toml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.ROOT / rel, root / rel)
    for rel in ("julia/src", "julia/precompile"):
        shutil.copytree(paths.ROOT / rel, root / rel)
    return root


def cache_like_the_projects(tmp_path):
    """An empty cache folder that shares the project's Julia depot, libunwind and Julia facts."""
    cache = tmp_path / "cache"
    cache.mkdir()
    paths.julia_info()  # writes julia-info.json
    (paths.cache_dir() / "julia-depot").mkdir(exist_ok=True)  # absent where only the image was used
    for name in ("julia-depot", "libunwind", "julia-info.json"):
        (cache / name).symlink_to(paths.cache_dir() / name)
    return cache


def test_key_changes_when_a_julia_source_changes_and_back(tmp_path, info):
    root = copy_sources(tmp_path)
    key = image.image_key(info, root)
    assert image.image_key(info, root) == key
    source = root / "julia/src/CharLSTM/use/sampler.jl"
    original = source.read_bytes()
    source.write_bytes(original + b"\n# an edit\n")
    assert image.image_key(info, root) != key
    source.write_bytes(original)
    assert image.image_key(info, root) == key
    (root / "julia/src/CharLSTM/graph/new_cell.jl").write_text("# a new file\n")
    assert image.image_key(info, root) != key


@pytest.mark.parametrize("rel", ["Manifest.toml", "julia/Project.toml", "julia/precompile/replay.jl",
                                 "julia/src/CharLSTM/settings.jl"])
def test_key_changes_with_the_environment_and_the_replay(tmp_path, info, rel):
    root = copy_sources(tmp_path)
    key = image.image_key(info, root)
    with open(root / rel, "a") as f:
        f.write("\n# an edit\n")
    assert image.image_key(info, root) != key


def test_key_changes_with_libmxnet_and_julia(tmp_path, info, monkeypatch):
    key = image.image_key(info)
    other = tmp_path / "libmxnet.so"
    other.write_bytes(b"another build")
    monkeypatch.setenv("MXNET_LIBRARY_PATH", str(other))
    assert image.image_key(info) != key
    monkeypatch.delenv("MXNET_LIBRARY_PATH")
    assert image.image_key(info) == key
    newer = paths.JuliaInfo(**{**info.__dict__, "version": info.version + "-other"})
    assert image.image_key(newer) != key


def test_only_an_image_built_for_these_sources_is_chosen(tmp_path, info, monkeypatch):
    monkeypatch.setenv("PYJLCHAR_CACHE", str(tmp_path))
    chosen, why = image.choose(info)
    assert chosen == info.sysimage and "none is built" in why
    image.image_dir().mkdir()
    (image.image_dir() / "pyjlchar-0123456789abcdef0123.so").write_bytes(b"stale")
    chosen, why = image.choose(info)
    assert chosen == info.sysimage and "stale" in why
    fresh = image.image_path(info)
    fresh.write_bytes(b"fresh")
    assert image.choose(info) == (str(fresh), "built for these sources")
    monkeypatch.setenv("PYJLCHAR_SYSIMAGE", "off")
    assert image.choose(info) == (info.sysimage, "PYJLCHAR_SYSIMAGE=off")


def test_a_stale_image_is_never_started(tmp_path):
    # Julia aborts the process on a file that is not an image: starting this one would show.
    cache = cache_like_the_projects(tmp_path)
    (cache / "sysimage").mkdir()
    (cache / "sysimage" / "pyjlchar-0123456789abcdef0123.so").write_bytes(b"not an image")
    out = subprocess.run([*PYJLCHAR, "doctor", "--json"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYJLCHAR_CACHE": str(cache)})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["sysimage"]
    assert report["in_use"] is False and report["fresh"] is False
    assert report["running"] == paths.julia_info().sysimage
    assert "stale" in report["reason"]


def test_a_bad_setting_is_one_clear_sentence():
    out = subprocess.run([*PYJLCHAR, "visualize"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYJLCHAR_SYSIMAGE": "maybe"})
    assert out.returncode == 1
    assert out.stderr.strip() == "error: PYJLCHAR_SYSIMAGE=maybe is not one of auto, off: fix or unset it"


def check_image_runs_pyjlchar(built, env):
    """The commands start on `built` and give what they give on Julia's own image."""
    report = json.loads(subprocess.run([*PYJLCHAR, "doctor", "--json"], capture_output=True, text=True,
                                       env=env, timeout=600, check=True).stdout)["sysimage"]
    assert report["in_use"] is True and report["running"] == str(built)
    assert report["replay_failures"] == []
    dot = [subprocess.run([*PYJLCHAR, "visualize", "--layers", "2", "--steps", "3"], capture_output=True,
                          env={**env, "PYJLCHAR_SYSIMAGE": setting}, timeout=600, check=True).stdout
           for setting in ("auto", "off")]
    assert dot[0] == dot[1] and dot[0].startswith(b"digraph")
    julia = subprocess.run([str(paths.ROOT / "scripts/julia"), "-e",
                            "print(unsafe_string(Base.JLOptions().image_file))"],
                           capture_output=True, text=True, env=env, timeout=600, check=True)
    assert julia.stdout == str(built)


def test_the_image_built_for_these_sources_runs_the_commands():
    built = image.image_path(paths.julia_info())
    if not built.is_file() or os.environ.get("PYJLCHAR_SYSIMAGE") == "off":
        pytest.skip("no image is built for these sources (scripts/setup.sh builds it)")
    check_image_runs_pyjlchar(built, dict(os.environ))


@pytest.mark.slow
def test_build_makes_an_image_that_runs_the_commands(tmp_path):
    cache = cache_like_the_projects(tmp_path)
    env = {**os.environ, "PYJLCHAR_CACHE": str(cache), "PYJLCHAR_SYSIMAGE": "auto"}
    build = subprocess.run([sys.executable, "-m", "pyjlchar.ops.image_build", "build"], capture_output=True,
                           text=True, env=env, timeout=3600)
    assert build.returncode == 0, build.stderr
    images = list((cache / "sysimage").glob("pyjlchar-*.so"))
    assert len(images) == 1 and "built" in build.stderr
    if images[0].name != image.image_path(paths.julia_info()).name:
        pytest.skip("the Julia sources changed after the build had read them: its image is stale already")
    check_image_runs_pyjlchar(images[0], env)
    again = subprocess.run([sys.executable, "-m", "pyjlchar.ops.image_build", "build"], capture_output=True,
                           text=True, env=env, timeout=60)
    assert again.returncode == 0 and again.stderr == ""  # fresh: nothing to do


def test_the_replay_reports_requests_with_unexpected_outcomes(tmp_path):
    # The build turns these lines into warnings and the image's "replay_failures".
    request = '{"fn": "PyJLChar.%s", "args": [], "kwargs": {}, "free": [], "backtrace": false}'
    requests = tmp_path / "requests.txt"
    requests.write_text("\n".join(["ok " + request % "no_such_function", "error " + request % "system_info",
                                   "ok " + request % "system_info"]) + "\n")
    out = replay(requests)
    lines = out.stdout.splitlines()
    assert lines[0] == "replay: PyJLChar loaded" and lines[-1] == "replay: replayed 3 requests"
    assert [line.split(" unexpectedly")[0] for line in lines[1:-1]] == [
        "replay: PyJLChar.no_such_function failed", "replay: PyJLChar.system_info succeeded"]
    assert "UndefVarError" in lines[1]


def replay(requests) -> subprocess.CompletedProcess:
    # On Julia's own image, as the build runs it (pyjlchar's holds the replay's module already).
    out = subprocess.run([str(paths.ROOT / "scripts/julia"), f"--sysimage={paths.julia_info().sysimage}",
                          str(image_build.REPLAY), str(requests)], capture_output=True, text=True, timeout=1800)
    # Only Julia's notice when it precompiles PyJLChar first (after its sources changed), and
    # libmxnet's when its engine starts (the build keeps both in its log).
    said = [line for line in out.stderr.splitlines() if line.strip() and not line.startswith("[ Info: Precompiling")
            and not line.endswith("MXNet start using engine: NaiveEngine")]
    assert out.returncode == 0 and said == [], out.stderr
    return out


def test_the_requests_the_build_replays_are_the_commands_own(tmp_path):
    # Made by commands.py's functions for a tiny run: train (either graph), resume, load, sample,
    # a failing sample, eval, a stream, corpus info, visualize and doctor, each as expected.
    requests = image_build.write_requests(tmp_path)
    lines = requests.read_text().splitlines()
    assert len(lines) == 16 and sum(line.startswith("error ") for line in lines) == 1
    fns = [json.loads(line.split(" ", 1)[1])["fn"] for line in lines]
    assert {fn.rsplit(".", 1)[1] for fn in fns} >= {"train", "load_model", "sample", "evaluate", "evaluate_text",
                                                   "open_stream", "stream_next", "free", "corpus_info", "graph",
                                                   "system_info"}
    train = json.loads(lines[0].split(" ", 1)[1])["kwargs"]
    assert set(train) == {"data", "model", "train", "run", "compute", "corpus_files", "corpus_cache", "resume",
                          "allow_new_text"}   # the sections, whole, and the command's own keys
    assert train["model"]["graph"] == "unrolled" and set(train["model"]) == set(DEFAULTS["model"])
    assert (tmp_path / "corpus.txt").stat().st_size == 12_000


def test_the_requests_the_build_replays_succeed_on_julias_own_image(tmp_path):
    # What the image is built from: every request has the outcome expected, so the commands'
    # calls fit Commands.jl's keywords (all required) and a tiny run trains, resumes and samples.
    out = replay(image_build.write_requests(tmp_path))
    lines = out.stdout.splitlines()
    assert lines == ["replay: PyJLChar loaded", "replay: replayed 16 requests"], out.stdout
    assert (tmp_path / "run" / "replay-0002.params").is_file() and (tmp_path / "fused" / "replay-0001.params").is_file()


def test_status_and_usage_of_the_build_command(tmp_path):
    status = subprocess.run([sys.executable, "-m", "pyjlchar.ops.image_build", "status"], capture_output=True,
                            text=True, timeout=120, check=True)
    report = json.loads(status.stdout)
    assert report["path"] == str(image.image_path(paths.julia_info()))
    assert report["fresh"] == Path(report["path"]).is_file() and report["setting"] in ("auto", "off")
    usage = subprocess.run([sys.executable, "-m", "pyjlchar.ops.image_build"], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: python -m pyjlchar.ops.image_build build|status" in usage.stderr
    off = subprocess.run([sys.executable, "-m", "pyjlchar.ops.image_build", "build"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYJLCHAR_SYSIMAGE": "off", "PYJLCHAR_CACHE": str(tmp_path)})
    assert off.returncode == 0 and off.stderr == "sysimage: PYJLCHAR_SYSIMAGE=off: not building it\n"
    assert not (tmp_path / "sysimage").exists()
