"""Any value, of any type, for any setting, through each of the four ways in (a flag, --set, a
TOML file, a keyword of the API), is either accepted or refused in one sentence naming the
setting; what is accepted, Julia's settings structs accept too, and the memory check answers in
a sentence, never with a Julia or libmxnet error (hypothesis draws the values)."""
import json
import math

import click
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from pyjlchar import cli, settings
from pyjlchar.errors import UserError

KEYS = sorted(settings.SECTION_OF)
EDGES = [2**31 - 1, 2**31, 2**53, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64, -1, 0, -(2**63), 10**30,
         1e30, -1e30, 1e-30, float("nan"), float("inf"), float("-inf"), True, False, "", "x", "3", "1e30",
         "../x", "gpu:0,0", [], ["a"], [1], {}, {"a": 1}, 0.5, 1.0, 1.5]
VALUES = st.one_of(st.sampled_from(EDGES), st.integers(), st.floats(), st.text(max_size=6),
                   st.lists(st.text(max_size=3), max_size=2))
FAST = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return settings.toml_text(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"


def assert_names_the_setting(error: Exception, key: str) -> None:
    message = str(error)
    assert f"'{key}'" in message or f"{key}" in message.split(":")[0] or f"--{key.replace('_', '-')}" in message, message
    assert "\n" not in message.strip() and "Traceback" not in message, message


# Julia's structs from the accepted sections, then the memory check: "ok" or "refused". Defined
# once: each example then is a call, not new code to compile.
JULIA_CHECK = """
function fuzz_accepts(text)
    s, C = PyJLChar.JSON.parse_json(text), PyJLChar.CharLSTM
    spec = C.from_section(C.ModelSpec, s["model"]; n_class = 65)
    train = C.from_section(C.TrainSettings, s["train"])
    for (T, k) in ((C.DataSettings, "data"), (C.RunPolicy, "run"), (C.ComputeSettings, "compute"),
                   (C.SampleSettings, "sample"))
        C.from_section(T, s[k])
    end
    try
        C.check_memory(spec, train, 1)
        "ok"
    catch e
        e isa PyJLChar.UserError || rethrow()
        "refused"
    end
end
"""


@pytest.fixture(scope="module")
def julia_accepts(jl):
    jl.eval(JULIA_CHECK)
    return lambda checked: jl.call("Main.fuzz_accepts", json.dumps(checked))


def through(way: str, key: str, value, tmp_path):
    section = settings.SECTION_OF[key]
    if way == "keyword":
        return settings.load(None, **{key: value})
    if way == "set":
        return settings.load_config(None, {}, [f"{section}.{key}={toml_value(value)}"])
    if way == "file":
        path = tmp_path / "fuzz.toml"
        path.write_text(f"[{section}]\n{key} = {toml_value(value)}\n")
        return settings.load_config(str(path))
    # On a command line every value is a word: a list is the flag given once per item where the
    # flag repeats, else its text.
    flag = "--" + key.replace("_", "-")
    command, args = (cli.sample, ["--checkpoint", "run/ptb"]) if section == "sample" else (cli.train, [])
    option = next(p for p in command.params if p.name == key)
    words = [str(v) for v in value] if option.multiple and isinstance(value, list) else [str(value)]
    context = command.make_context(command.name, args + [part for word in words for part in (flag, word)])
    return cli._settings(context.params)


@pytest.mark.parametrize("way", ["keyword", "set", "file", "flag"])
@FAST
@given(key=st.sampled_from(KEYS), value=VALUES)
def test_any_value_is_taken_or_refused_in_one_sentence_naming_it(julia_accepts, tmp_path, way, key, value):
    try:
        checked = through(way, key, value, tmp_path)
    except UserError as e:
        assert_names_the_setting(e, key)
        return
    except click.UsageError as e:   # click's own check of a flag's type or choices: names the flag
        assert f"--{key.replace('_', '-')}" in e.format_message(), e.format_message()
        return
    assert julia_accepts(checked) in ("ok", "refused")
