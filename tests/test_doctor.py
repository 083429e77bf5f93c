"""`pyjlchar doctor`, run as a user runs it."""
import json
import os
import subprocess
import sys

PYJLCHAR = [sys.executable, "-m", "pyjlchar"]


def run(*args, env=None):
    return subprocess.run([*PYJLCHAR, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_doctor_json_reports_julia_libmxnet_and_features():
    out = run("doctor", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert report["julia"]["version"].split(".")[:2] >= ["1", "5"]
    assert report["julia"]["bridge"] in ("embedded", "juliacall") and report["julia"]["bridge_reason"]
    assert report["mxnet"]["version"] == "1.9.1"
    assert report["mxnet"]["library"].endswith("libmxnet.so")
    assert {"MKLDNN", "DIST_KVSTORE", "OPENMP"} <= set(report["mxnet"]["features"])
    assert "CUDA" in report["mxnet"]["features"] + report["mxnet"]["features_disabled"]
    assert report["mxnet"]["gpu_count"] == (report["mxnet"]["gpu_count"] if "CUDA" in report["mxnet"]["features"] else 0)
    assert "local" in report["mxnet"]["kvstore_types"]
    assert report["cache"]["julia_depot"].startswith(report["cache"]["folder"])


def test_doctor_text_ends_with_status_ok():
    out = run("doctor")
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("status    ok")
    assert "libmxnet  1.9.1" in out.stdout


def test_doctor_names_the_fix_when_libmxnet_is_missing(tmp_path):
    out = run("doctor", "--json", env={"MXNET_LIBRARY_PATH": str(tmp_path / "nope.so")})
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["ok"] is False
    assert "MXNET_LIBRARY_PATH" in report["problems"][0] and "unset" in report["problems"][0]


def test_doctor_names_the_fix_when_julia_is_missing(tmp_path):
    out = run("doctor", env={"JULIA": str(tmp_path / "no-julia")})
    assert out.returncode == 1
    assert "Julia was not found" in out.stdout and "JULIA=" in out.stdout
    assert "Traceback" not in out.stderr


def test_unloadable_libmxnet_is_one_clear_sentence(tmp_path):
    fake = tmp_path / "libmxnet.so"
    fake.write_bytes(b"not a library")
    out = run("doctor", env={"MXNET_LIBRARY_PATH": str(fake)})
    assert out.returncode == 1
    assert "could not be loaded" in out.stdout
    assert "Traceback" not in out.stderr + out.stdout
