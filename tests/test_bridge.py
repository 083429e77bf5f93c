"""The Python-Julia bridge (pyjlchar/bridge/), on the real embedded Julia."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pyjlchar import bridge, commands
from pyjlchar.bridge import host, paths, start, wire
from pyjlchar.errors import JuliaError, MXError, UserError


def test_starter_and_reason_are_reported(jl):
    assert jl.started.starter in ("embedded", "juliacall")
    assert jl.started.reason and jl.started.image_reason
    assert jl.call("string", jl.eval("VERSION")) == jl.started.info.version
    assert bridge.started() and not bridge.starting() and bridge.get() is jl   # started once


def test_scalars_strings_lists_and_dicts_round_trip(jl):
    value = {"int": 3, "float": 2.5, "str": "héllo ✓\n", "none": None, "yes": True,
             "list": [1, "two", [3.0]], "nested": {"k": [None, False]}}
    assert jl.call("identity", value) == value
    assert jl.call("+", 2, 3) == 5
    assert jl.call("*", "ab", "cd") == "abcd"
    assert jl.call("length", [1, 2, 3]) == 3
    assert jl.call("Base.uppercase", "abc") == "ABC"


def test_keyword_arguments(jl):
    assert jl.call("round", 3.14159, digits=2) == 3.14


def test_numpy_arrays_are_shared_without_copies(jl):
    jl.eval("twice!(x) = (x .*= 2; x)")
    a = np.arange(1_000_000, dtype=np.float32).reshape(1000, 1000)
    back = jl.call("twice!", a)
    assert a[999, 999] == 2 * 999_999  # Julia wrote into numpy's memory
    assert back.ctypes.data == a.ctypes.data  # and handed the same memory back
    # C-order (a, b) is Julia's (b, a): MXNet.jl's (features, batch) convention
    assert jl.call("size", np.zeros((4, 3), np.float64)) == [3, 4]
    for dtype in ("float32", "float64", "int32", "int64", "uint8"):
        x = np.arange(6, dtype=dtype).reshape(2, 3)
        assert jl.call("eltype", x) == {"float32": "Float32", "float64": "Float64", "int32": "Int32",
                                        "int64": "Int64", "uint8": "UInt8"}[dtype]
        assert jl.call("sum", x) == 15


def test_julia_owned_arrays_come_back_zero_copy_and_are_released(jl):
    jl.eval("const KEEP_ME = reshape(collect(Float64, 1:6), 3, 2); keep_me() = KEEP_ME")
    arr = jl.call("keep_me")
    assert arr.shape == (2, 3) and arr[1, 0] == 4.0
    assert arr.ctypes.data == jl.eval("UInt(pointer(KEEP_ME))")
    kept = jl.eval("length(PyJLChar.Bridge.KEPT)")
    del arr
    jl.call("identity", 0)  # the release travels with the next call
    assert jl.eval("length(PyJLChar.Bridge.KEPT)") == kept - 1


def test_non_contiguous_and_unsupported_arrays(jl):
    a = np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2]
    assert jl.call("sum", a) == a.sum()
    with pytest.raises(TypeError, match="complex128"):
        jl.call("sum", np.zeros(3, np.complex128))


def test_julia_exceptions_become_python_exceptions(jl):
    with pytest.raises(JuliaError, match="boom") as info:
        jl.call("error", "boom")
    assert info.value.kind == "ErrorException"
    # exceptions that crash Julia 1.5 on bookworm's libunwind must not take the process down
    with pytest.raises(JuliaError, match="BoundsError"):
        jl.eval("[1, 2, 3][5]")
    with pytest.raises(JuliaError, match="DomainError"):
        jl.eval("sqrt(-1.0)")
    with pytest.raises(JuliaError, match="InexactError"):
        jl.eval("Int(2.5)")
    with pytest.raises(UserError) as user_error:
        jl.eval('throw(PyJLChar.UserError("fix this"))')
    assert str(user_error.value) == "fix this"
    with pytest.raises(JuliaError, match="UndefVarError"):
        jl.call("Base.no_such_function")
    assert jl.call("+", 1, 1) == 2  # still alive


def test_backtrace_only_when_debugging(jl):
    with pytest.raises(JuliaError) as plain:
        jl.call("error", "quiet")
    assert plain.value.backtrace == ""
    bridge.set_debug(True)   # what the command line's --debug does
    try:
        assert jl.debug is True
        with pytest.raises(JuliaError) as loud:
            jl.eval("inner_fails() = error(\"loud\"); inner_fails()")
    finally:
        bridge.set_debug(False)
    assert "inner_fails" in loud.value.backtrace
    assert jl.debug is False


def test_mx_errors_carry_libmxnet_text(jl):
    with pytest.raises(MXError, match="libmxnet"):
        jl.eval('throw(PyJLChar.mx.MXError("libmxnet said no"))')


def test_progress_events_reach_python(jl):
    jl.eval("""
        function count_up(n)
            for i in 1:n
                PyJLChar.Bridge.emit("progress"; step = i, of = n)
            end
            @info "done"
            @warn "careful"
            return n
        end""")
    events = []
    assert jl.call("count_up", 5, on_event=events.append) == 5
    assert [e["step"] for e in events if e["event"] == "progress"] == [1, 2, 3, 4, 5]
    assert events[-2:] == [{"event": "log", "level": "info", "message": "done"},
                           {"event": "log", "level": "warn", "message": "careful"}]


def test_exception_in_python_callback_stops_julia_and_is_raised(jl):
    jl.eval("""
        const CLEANED = Ref(false)
        function until_stopped()
            try
                for i in 1:10^6
                    PyJLChar.Bridge.emit("tick"; i = i)
                end
            finally
                CLEANED[] = true
            end
        end""")

    def handler(event):
        if event["i"] == 3:
            raise ValueError("handler broke")

    with pytest.raises(ValueError, match="handler broke"):
        jl.call("until_stopped", on_event=handler)
    assert jl.eval("CLEANED[]") is True


def test_ctrl_c_stops_a_long_call_within_a_second_after_cleanup(jl, tmp_path):
    marker = tmp_path / "saved"
    jl.eval("""
        function long_work(marker)
            try
                while true
                    Libc.systemsleep(0.01)   # busy work, then a chance to stop
                    PyJLChar.Bridge.poll()
                end
            finally
                write(marker, "checkpoint")   # what training does: save before leaving
                @info "saved"                 # and say so: this must not be stopped again
            end
        end""")
    sent = {}

    def interrupt():
        time.sleep(0.5)
        sent["at"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt).start()
    events = []
    with pytest.raises(KeyboardInterrupt):
        jl.call("long_work", str(marker), on_event=events.append)
    assert time.monotonic() - sent["at"] < 1.0
    assert marker.read_text() == "checkpoint"
    assert events == [{"event": "log", "level": "info", "message": "saved"}]
    assert jl.call("+", 2, 2) == 4  # Julia still usable afterwards


def test_calls_from_other_threads_run_one_after_another(jl):
    # Julia runs on a thread of its own; callers on any thread take turns.
    results, errors = {}, []

    def caller(i):
        try:
            results[i] = [jl.call("+", i, k) for k in range(50)]
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == {i: [i + k for k in range(50)] for i in range(4)}


def test_an_event_handler_cannot_call_julia(jl):
    jl.eval("""
        function one_event()
            PyJLChar.Bridge.emit("tick")
            return 1
        end""")

    def handler(event):
        jl.call("identity", 1)

    with pytest.raises(RuntimeError, match="event handler"):
        jl.call("one_event", on_event=handler)
    assert jl.call("one_event") == 1


def test_output_is_flushed_and_julia_shuts_down_cleanly(tmp_path):
    code = ("from pyjlchar import bridge\n"
            "jl = bridge.get()\n"
            "jl.eval('atexit(() -> println(stderr, \"julia exit hooks ran\")); print(stdout, \"from julia\")')\n"
            "print('from python', flush=True)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "from julia" in out.stdout and "from python" in out.stdout
    assert "julia exit hooks ran" in out.stderr


def test_precompile_cache_lives_in_the_project_cache(jl):
    depot = jl.eval("DEPOT_PATH[1]")
    assert depot == str(paths.cache_dir() / "julia-depot")
    # On pyjlchar's system image PyJLChar is built in, and nothing needs precompiling.
    if not Path(jl.eval("unsafe_string(Base.JLOptions().image_file)")).name.startswith("pyjlchar-"):
        assert (paths.cache_dir() / "julia-depot" / "compiled").is_dir()


def test_starter_choice_explains_itself(monkeypatch, jl):
    info = jl.started.info
    monkeypatch.setenv("PYJLCHAR_JULIA", "embedded")
    assert start.choose_starter(info) == ("embedded", "PYJLCHAR_JULIA=embedded")
    monkeypatch.setenv("PYJLCHAR_JULIA", "bogus")
    with pytest.raises(UserError, match="PYJLCHAR_JULIA"):
        start.choose_starter(info)
    monkeypatch.setenv("PYJLCHAR_JULIA", "auto")
    starter, reason = start.choose_starter(info)
    if info.version.startswith("1.5."):
        assert starter == "embedded" and "juliacall" in reason
        monkeypatch.setenv("PYJLCHAR_JULIA", "juliacall")
        with pytest.raises(UserError, match="PYJLCHAR_JULIA=juliacall cannot work here"):
            start.choose_starter(info)


def test_run_runs_a_commands_call(jl):
    side = bridge.run(commands.system_info())
    assert side["mxnet_version"] == paths.MXNET_VERSION
    assert os.path.realpath(side["mxnet_library"]) == os.path.realpath(paths.libmxnet_path())
    assert jl.started.threads.threads >= 1   # said in train's first line and in doctor


def test_the_wire_keeps_values_and_lends_arrays_by_pointer():
    arrays = []
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    request = json.loads(wire.encode_request("f", (a, Path("x/y"), np.float32(1.5)), {"k": [a, None]}, arrays,
                                             free=[7], backtrace=True))
    assert request == {"fn": "f", "args": [{"$array": 0}, "x/y", 1.5], "kwargs": {"k": [{"$array": 1}, None]},
                       "free": [7], "backtrace": True}
    assert [x.ctypes.data for x in arrays] == [a.ctypes.data] * 2   # C-contiguous: shared, not copied
    assert wire.decode({"v": [{"$array": 1}, {"$array": 0, "other": 1}]}, ["zero", "one"]) == {
        "v": ["one", {"$array": 0, "other": 1}]}
    for bad, phrase in ((np.zeros(2, np.float16), "float16"), ({1: 2}, "str keys"), (object(), "object"),
                        (np.zeros((1,) * 9, np.float32), "8 dimensions")):
        with pytest.raises(TypeError, match=phrase):
            wire.encode_request("f", (bad,), {}, [])


def run_python(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, **kwargs)


def test_quiet_stderr_silences_fd_2_meanwhile_only():
    out = run_python("import os\nfrom pyjlchar.bridge import host\nwith host.quiet_stderr():\n"
                     "    os.write(2, b'engine notice\\n')\nos.write(2, b'shown\\n')\n")
    assert out.returncode == 0 and out.stderr == "shown\n"


def test_make_blocking_undoes_what_julias_libuv_does_to_a_pipe():
    read_end, write_end = os.pipe()
    try:
        os.set_blocking(write_end, False)
        with os.fdopen(write_end, "w", closefd=False) as stream:
            host.make_blocking(stream)
        assert os.get_blocking(write_end)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_stop_requests_turn_signals_into_requests_while_a_call_runs():
    asked = []
    before = signal.getsignal(signal.SIGTERM)
    with host.stop_requests(asked.append):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.1)   # the handlers run in this, the main thread
    assert asked == [signal.SIGTERM, signal.SIGHUP]
    assert signal.getsignal(signal.SIGTERM) is before


def test_leave_ends_the_process_with_its_output_but_without_exit_handlers():
    out = run_python("import atexit, sys\nfrom pyjlchar.bridge import host\n"
                     "atexit.register(lambda: print('destructors ran', file=sys.stderr))\n"
                     "print('said', end='')\nhost.leave(3)\n")
    assert (out.returncode, out.stdout, out.stderr) == (3, "said", "")


def test_paths_refuse_a_missing_libmxnet_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_LIBRARY_PATH", str(tmp_path / "libmxnet.so"))
    with pytest.raises(UserError) as caught:
        paths.libmxnet_path()
    assert str(caught.value) == (f"MXNET_LIBRARY_PATH={tmp_path / 'libmxnet.so'} is not a file: point it at "
                                 "libmxnet.so or unset it")


def test_julias_environment_names_the_project_depot_library_and_engine(jl, monkeypatch):
    monkeypatch.delenv("MXNET_ENGINE_TYPE", raising=False)
    env = paths.julia_environment(jl.started.info, "cpu")
    assert env["JULIA_PROJECT"] == str(paths.ROOT) and env["JULIA_DEPOT_PATH"] == str(paths.cache_dir() / "julia-depot")
    assert env["MXNET_LIBRARY_PATH"] == str(paths.libmxnet_path()) and env["MXNET_ENGINE_TYPE"] == "NaiveEngine"
    assert paths.julia_environment(jl.started.info, "cpu:0,1")["MXNET_ENGINE_TYPE"] == "ThreadedEnginePerDevice"
    assert paths.julia_environment(jl.started.info, "gpu")["MXNET_ENGINE_TYPE"] == "ThreadedEnginePerDevice"
    assert jl.eval('ENV["JULIA_PROJECT"]') == str(paths.ROOT)   # what the running Julia was given
