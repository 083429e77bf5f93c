"""pyjlchar's Julia system image: its key, the choice between it and Julia's own, and the image."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from pyjlchar import runtime, sysimage

PYJLCHAR = [sys.executable, "-m", "pyjlchar"]


@pytest.fixture(scope="module")
def info():
    return runtime.julia_info()


def copy_sources(root):
    """A copy of everything the image bakes in from the checkout."""
    for rel in ("Project.toml", "Manifest.toml", "julia/Project.toml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(runtime.ROOT / rel, root / rel)
    for rel in ("julia/src", "julia/precompile"):
        shutil.copytree(runtime.ROOT / rel, root / rel)
    return root


def cache_like_the_projects(tmp_path):
    """An empty cache folder that shares the project's Julia depot, libunwind and Julia facts."""
    cache = tmp_path / "cache"
    cache.mkdir()
    runtime.julia_info()  # writes julia-info.json
    (runtime.cache_dir() / "julia-depot").mkdir(exist_ok=True)  # absent where only the image was used
    for name in ("julia-depot", "libunwind", "julia-info.json"):
        (cache / name).symlink_to(runtime.cache_dir() / name)
    return cache


def test_key_changes_when_a_julia_source_changes_and_back(tmp_path, info):
    root = copy_sources(tmp_path)
    key = sysimage.image_key(info, root)
    assert sysimage.image_key(info, root) == key
    source = root / "julia/src/charlstm/sampler.jl"
    original = source.read_bytes()
    source.write_bytes(original + b"\n# an edit\n")
    assert sysimage.image_key(info, root) != key
    source.write_bytes(original)
    assert sysimage.image_key(info, root) == key
    (root / "julia/src/charlstm/new_file.jl").write_text("# a new file\n")
    assert sysimage.image_key(info, root) != key


@pytest.mark.parametrize("rel", ["Manifest.toml", "julia/Project.toml", "julia/precompile/workload.jl"])
def test_key_changes_with_the_environment_and_the_workload(tmp_path, info, rel):
    root = copy_sources(tmp_path)
    key = sysimage.image_key(info, root)
    with open(root / rel, "a") as f:
        f.write("\n# an edit\n")
    assert sysimage.image_key(info, root) != key


def test_key_changes_with_libmxnet_and_julia(tmp_path, info, monkeypatch):
    key = sysimage.image_key(info)
    other = tmp_path / "libmxnet.so"
    other.write_bytes(b"another build")
    monkeypatch.setenv("MXNET_LIBRARY_PATH", str(other))
    assert sysimage.image_key(info) != key
    monkeypatch.delenv("MXNET_LIBRARY_PATH")
    assert sysimage.image_key(info) == key
    newer = runtime.JuliaInfo(**{**info.__dict__, "version": info.version + "-other"})
    assert sysimage.image_key(newer) != key


def test_only_an_image_built_for_these_sources_is_chosen(tmp_path, info, monkeypatch):
    monkeypatch.setenv("PYJLCHAR_CACHE", str(tmp_path))
    image, why = sysimage.choose(info)
    assert image == info.sysimage and "none is built" in why
    sysimage.image_dir().mkdir()
    (sysimage.image_dir() / "pyjlchar-0123456789abcdef0123.so").write_bytes(b"stale")
    image, why = sysimage.choose(info)
    assert image == info.sysimage and "stale" in why
    fresh = sysimage.image_path(info)
    fresh.write_bytes(b"fresh")
    assert sysimage.choose(info) == (str(fresh), "built for these sources")
    monkeypatch.setenv("PYJLCHAR_SYSIMAGE", "off")
    assert sysimage.choose(info) == (info.sysimage, "PYJLCHAR_SYSIMAGE=off")


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
    assert report["running"] == runtime.julia_info().sysimage
    assert "stale" in report["reason"]


def test_a_bad_setting_is_one_clear_sentence():
    out = subprocess.run([*PYJLCHAR, "visualize"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYJLCHAR_SYSIMAGE": "maybe"})
    assert out.returncode == 1
    assert out.stderr.strip() == "error: PYJLCHAR_SYSIMAGE=maybe is not one of auto, off: fix or unset it"


def check_image_runs_pyjlchar(image, env):
    """The commands start on `image` and give what they give on Julia's own image."""
    report = json.loads(subprocess.run([*PYJLCHAR, "doctor", "--json"], capture_output=True, text=True,
                                       env=env, timeout=600, check=True).stdout)["sysimage"]
    assert report["in_use"] is True and report["running"] == str(image)
    assert report["workload_failures"] == []
    dot = [subprocess.run([*PYJLCHAR, "visualize", "--layers", "2", "--steps", "3"], capture_output=True,
                          env={**env, "PYJLCHAR_SYSIMAGE": setting}, timeout=600, check=True).stdout
           for setting in ("auto", "off")]
    assert dot[0] == dot[1] and dot[0].startswith(b"digraph")
    julia = subprocess.run([str(runtime.ROOT / "scripts/julia"), "-e",
                            "print(unsafe_string(Base.JLOptions().image_file))"],
                           capture_output=True, text=True, env=env, timeout=600, check=True)
    assert julia.stdout == str(image)


def test_the_image_built_for_these_sources_runs_the_commands():
    image = sysimage.image_path(runtime.julia_info())
    if not image.is_file() or os.environ.get("PYJLCHAR_SYSIMAGE") == "off":
        pytest.skip("no image is built for these sources (scripts/setup.sh builds it)")
    check_image_runs_pyjlchar(image, dict(os.environ))


@pytest.mark.slow
def test_build_makes_an_image_that_runs_the_commands(tmp_path):
    cache = cache_like_the_projects(tmp_path)
    env = {**os.environ, "PYJLCHAR_CACHE": str(cache), "PYJLCHAR_SYSIMAGE": "auto"}
    build = subprocess.run([sys.executable, "-m", "pyjlchar.sysimage", "build"], capture_output=True,
                           text=True, env=env, timeout=3600)
    assert build.returncode == 0, build.stderr
    images = list((cache / "sysimage").glob("pyjlchar-*.so"))
    assert len(images) == 1 and "built" in build.stderr
    if images[0].name != sysimage.image_path(runtime.julia_info()).name:
        pytest.skip("the Julia sources changed after the build had read them: its image is stale already")
    check_image_runs_pyjlchar(images[0], env)
    again = subprocess.run([sys.executable, "-m", "pyjlchar.sysimage", "build"], capture_output=True,
                           text=True, env=env, timeout=60)
    assert again.returncode == 0 and again.stderr == ""  # fresh: nothing to do


def test_the_workload_reports_requests_with_unexpected_outcomes(tmp_path):
    # The build turns these lines into warnings and the image's "workload_failures".
    request = '{"fn": "PyJLChar.%s", "args": [], "kwargs": {}, "free": [], "backtrace": false}'
    requests = tmp_path / "requests.txt"
    requests.write_text("\n".join(["ok " + request % "no_such_function", "error " + request % "system_info",
                                   "ok " + request % "system_info"]) + "\n")
    # On Julia's own image, as the build runs it (pyjlchar's holds the workload's module already).
    out = subprocess.run([str(runtime.ROOT / "scripts/julia"), f"--sysimage={runtime.julia_info().sysimage}",
                          str(sysimage.WORKLOAD), str(requests)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "workload: PyJLChar loaded" and lines[-1] == "workload: replayed 3 requests"
    assert [line.split(" unexpectedly")[0] for line in lines[1:-1]] == [
        "workload: PyJLChar.no_such_function failed", "workload: PyJLChar.system_info succeeded"]
    assert "UndefVarError" in lines[1]
