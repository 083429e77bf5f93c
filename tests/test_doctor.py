"""`pyjlchar doctor` (pyjlchar/ops/doctor.py), run as a user runs it: what the installation has
(Julia and the bridge, libmxnet, the OpenMP threads and why, the system image, GPUs) and the fix
when it is not usable."""
import json
import os
import subprocess
import sys

PYJLCHAR = [sys.executable, "-m", "pyjlchar"]


def run(*args, env=None):
    """`pyjlchar ARGS` with `env` over this environment (a None value removes the variable)."""
    merged = {**os.environ, **(env or {})}
    return subprocess.run([*PYJLCHAR, *args], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in merged.items() if v is not None})


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
    from pyjlchar.bridge import gpus

    labels = [line.split()[0] for line in out.stdout.splitlines()]
    # "gpu": a GPU here that no libmxnet wheel runs on (see below).
    assert labels == ["pyjlchar", "python", "julia", "bridge", "libmxnet", "features", "kvstores", "threads", "gpus",
                      *(["gpu"] if gpus.unsupported_gpu() else []), "sysimage", "graphviz", "cache", "status"], \
        out.stdout


def test_doctor_says_the_threads_and_why():
    # By default one per core this process may use (its affinity, a cgroup quota), said so.
    from pyjlchar.bridge import threads

    out = run("doctor", "--json", env={"OMP_NUM_THREADS": None})
    assert out.returncode == 0, out.stderr
    mxnet = json.loads(out.stdout)["mxnet"]
    cores = threads.available()
    assert mxnet["omp_threads"] == cores
    assert mxnet["omp_threads_line"].startswith(f"{cores} OpenMP thread{'s' if cores != 1 else ''} (the cores this "
                                                "process may use; OMP_NUM_THREADS overrides)"), mxnet
    # The user's OMP_NUM_THREADS is the count, and the reason given.
    out = run("doctor", env={"OMP_NUM_THREADS": "3"})
    assert out.returncode == 0, out.stderr
    assert "threads   3 OpenMP threads (OMP_NUM_THREADS)\n" in out.stdout, out.stdout
    bad = run("doctor", env={"OMP_NUM_THREADS": "many"})
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "OMP_NUM_THREADS=many is not a number of threads from 1 to 4096: fix or unset it" in bad.stdout


def test_doctor_says_which_system_image_julia_runs_on_and_why():
    out = run("doctor", "--json")
    assert out.returncode == 0, out.stderr
    image = json.loads(out.stdout)["sysimage"]
    assert image["setting"] == "auto" and image["path"].endswith(".so") and image["running"]
    # In use exactly when the image for these sources exists and Julia runs on it.
    assert image["in_use"] == (image["fresh"] and os.path.realpath(image["running"]) == os.path.realpath(image["path"]))
    if image["in_use"]:
        assert image["reason"] == "built for these sources", image
    else:   # stale or not built (embedded), or juliacall's own
        assert "`pyjlchar setup` builds it" in image["reason"] or "juliacall" in image["reason"], image
    off = run("doctor", "--json", env={"PYJLCHAR_SYSIMAGE": "off"})
    assert off.returncode == 0, off.stderr
    image = json.loads(off.stdout)["sysimage"]
    assert image["setting"] == "off" and image["in_use"] is False and image["reason"] == "PYJLCHAR_SYSIMAGE=off"
    text = run("doctor", env={"PYJLCHAR_SYSIMAGE": "off"}).stdout
    assert f"sysimage  {image['running']}: PYJLCHAR_SYSIMAGE=off\n" in text, text


def test_doctor_names_a_gpu_that_no_libmxnet_wheel_runs_on(tmp_path):
    # nvidia-smi as an H100 machine's printed it: the CPU installation stays usable, and the
    # report says in one sentence why the GPU is not, and what would make it so.
    from test_gpu_check import assert_hopper_sentence, fake_nvidia_smi

    env = fake_nvidia_smi(tmp_path)
    out = run("doctor", "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True
    assert_hopper_sentence(report["gpu_problem"])
    text = run("doctor", env=env).stdout
    assert f"gpu       {report['gpu_problem']}\n" in text and text.rstrip().endswith("status    ok"), text


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
