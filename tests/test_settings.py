"""The settings table (pyjlchar/settings.py): defaults, the checks of files, --set, flags and
keyword arguments, and what derives from the table (the README's table, Julia's structs)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyjlchar import settings
from pyjlchar.errors import UserError
from pyjlchar.settings import (DEFAULTS, DRAWING, OPTIONS, SECTION_OF, SECTIONS, given, load, load_config,
                               markdown_table)

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "shakespeare.toml"


def write_toml(folder: Path, text: str) -> str:
    path = folder / "settings.toml"
    path.write_text(text)
    return str(path)


def setting_file(folder: Path, section: str, key: str, value) -> str:
    # JSON scalars (numbers, strings, true/false) are written the same way in TOML.
    return write_toml(folder, f"[{section}]\n{key} = {json.dumps(value)}\n")


def user_error(*args) -> str:
    with pytest.raises(UserError) as caught:
        load_config(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults_are_the_originals_settings():
    config = load_config(None)
    assert config == DEFAULTS
    assert list(config) == ["data", "model", "train", "run", "compute", "sample"]
    assert config["model"] == {"name": "ptb", "cell": "lstm", "graph": "fused", "layers": 2, "hidden": 256,
                               "embed": 256, "dropout": 0.0}
    assert config["run"]["epochs"] == 21 and config["run"]["checkpoint_dir"] == "checkpoints"
    assert config["train"]["learning_rate"] == 0.01 and config["train"]["seed"] == 42
    assert config["train"]["grad_clip"] == 1.0 and config["train"]["weight_decay"] == 1e-5
    assert config["data"] == {"corpus": "shakespeare", "train_ratio": 0.9}
    assert config["compute"] == {"context": "cpu", "kvstore": "local", "gradient_compression": "none",
                                 "compression_threshold": 0.5}
    assert config["sample"]["num_samples"] == 10 and config["sample"]["prime"] == "a"


def test_every_default_keeps_its_own_rule():
    for name, section in SECTIONS.items():
        for key, setting in {**section.keys, **section.extra}.items():
            assert settings.checked("the table", name, key, setting.default, setting) == setting.default, key
    for key, setting in OPTIONS.items():
        assert settings.checked("the table", "", key, setting.default, setting) == setting.default, key


def test_key_names_are_unique_across_the_sections():
    assert len(SECTION_OF) == sum(len(s.keys) for s in SECTIONS.values())
    assert SECTION_OF["epochs"] == "run" and SECTION_OF["graph"] == "model" and SECTION_OF["context"] == "compute"
    assert SECTION_OF["seed"] == "train" and SECTION_OF["corpus"] == "data" and SECTION_OF["top_p"] == "sample"


def test_the_drawing_is_the_originals_picture():
    # visualize draws one layer, two steps, one stream of the unrolled graph unless told otherwise
    assert DRAWING == {"layers": 1, "graph": "unrolled", "steps": 2, "vocab": 65, "batch": 1}
    assert DRAWING["vocab"] == SECTIONS["model"].extra["n_class"].default


def test_eval_streams_one_per_16_kib_at_most_64():
    assert settings.eval_streams(0) == 1 and settings.eval_streams(16 * 1024 - 1) == 1
    assert settings.eval_streams(16 * 1024) == 1 and settings.eval_streams(3 * 16 * 1024 + 5) == 3
    assert settings.eval_streams(10**9) == OPTIONS["streams"].default == 64


def test_returned_config_is_a_copy():
    load_config(None)["run"]["epochs"] = 1
    assert load_config(None)["run"]["epochs"] == 21
    assert DEFAULTS["run"]["epochs"] == 21


def test_shipped_file_mirrors_defaults():
    assert load_config(str(SHIPPED)) == DEFAULTS
    listed = settings.tomllib.loads(SHIPPED.read_text())
    assert {s: list(keys) for s, keys in listed.items()} == {s: list(keys) for s, keys in DEFAULTS.items()}


def test_file_then_overrides(tmp_path):
    path = write_toml(tmp_path, "[run]\nepochs = 3\n[train]\nlearning_rate = 1\n[model]\nhidden = 64\n")
    config = load_config(path, {"run.epochs": 5, "data.corpus": None, "compute.context": "gpu:0,1"})
    assert config["run"]["epochs"] == 5  # the flag wins over the file
    assert config["train"]["learning_rate"] == 1.0 and isinstance(config["train"]["learning_rate"], float)
    assert config["model"]["hidden"] == 64
    assert config["model"]["layers"] == 2  # missing keys keep their defaults
    assert config["data"]["corpus"] == "shakespeare"  # None means the flag was not given
    assert config["compute"]["context"] == "gpu:0,1"


@pytest.mark.parametrize("section, key, value", [
    ("train", "grad_clip", 0), ("train", "weight_decay", 0), ("model", "dropout", 0.5),
    ("sample", "temperature", 0), ("sample", "top_k", 5), ("train", "optimizer", "sgd"),
    ("model", "graph", "unrolled"), ("model", "graph", "fused"), ("model", "cell", "lstm"),
    ("model", "name", "my-model_2"), ("sample", "prime", "ROMEO: é"),
    ("compute", "context", "cpu:0,1"), ("compute", "context", "gpu:3,0,2"), ("compute", "context", "gpu:1"),
    ("data", "corpus", "texts/mine.txt"), ("train", "seed", 0), ("train", "seed", 2**31 - 1),
    ("model", "layers", 1024), ("model", "hidden", 2**20), ("train", "lr_schedule", "cosine"),
    ("train", "warmup", 0), ("train", "lr_factor", 1.0), ("run", "keep_last", 0), ("run", "log_every", 0),
    ("compute", "kvstore", "dist_async"), ("compute", "gradient_compression", "2bit"),
])
def test_edge_values_are_accepted(tmp_path, section, key, value):
    assert load_config(setting_file(tmp_path, section, key, value))[section][key] == value


BAD_VALUES = [
    *[(section, key, bad) for section, key in [
        ("model", "layers"), ("model", "hidden"), ("model", "embed"), ("train", "seq_len"),
        ("train", "batch_size"), ("run", "epochs"), ("sample", "length"), ("sample", "num_samples"),
        ("train", "lr_step"), ("run", "keep_best"),
    ] for bad in (0, -1)],
    ("model", "layers", 1025), ("model", "hidden", 2**20 + 1),
    ("data", "train_ratio", 0), ("data", "train_ratio", 1), ("data", "train_ratio", 1.5),
    ("model", "dropout", 1.0), ("model", "dropout", -0.1),
    ("train", "learning_rate", 0), ("train", "learning_rate", -0.01), ("train", "weight_decay", -1e-5),
    ("train", "grad_clip", -1), ("train", "init_scale", 0), ("sample", "temperature", -0.5),
    ("sample", "top_k", -1), ("train", "seed", -1), ("train", "seed", 2**31),
    ("train", "warmup", -1), ("train", "lr_factor", 0), ("train", "lr_factor", 1.5), ("run", "log_every", -1),
    ("run", "eval_every", -1), ("compute", "compression_threshold", 0),
    ("train", "optimizer", "rmsprop"), ("train", "lr_schedule", "linear"),
    ("model", "cell", "gru"), ("model", "cell", "fused"),      # the old cell = "fused" is now a graph
    ("model", "graph", "lstm"), ("model", "graph", "gru"),     # and the old cell = "lstm" is no graph
    ("model", "name", "a/b"), ("model", "name", ""), ("model", "name", "my model"),
    ("sample", "prime", ""), ("data", "corpus", ""), ("run", "checkpoint_dir", ""),
    ("compute", "context", "tpu"), ("compute", "context", "gpu:"), ("compute", "context", "gpu:0,0"),
    ("compute", "context", "cpu:a"), ("compute", "context", "GPU"), ("compute", "context", "gpu:0,"),
    ("compute", "context", "gpu 0"), ("compute", "context", "cpu:-1"), ("compute", "context", ""),
    ("compute", "kvstore", "nccl"), ("compute", "gradient_compression", "1bit"),
    # wrong types: a float for an int, strings for numbers, booleans for anything
    ("run", "epochs", 2.5), ("run", "epochs", "21"), ("run", "epochs", True),
    ("train", "learning_rate", True), ("train", "learning_rate", "0.01"), ("data", "corpus", 5),
    ("sample", "prime", False),
]


@pytest.mark.parametrize("section, key, value", BAD_VALUES)
def test_bad_value_in_file_names_file_section_and_key(tmp_path, section, key, value):
    path = setting_file(tmp_path, section, key, value)
    message = user_error(path)
    assert message.startswith(f"{path}: '{key}' in [{section}] must be ")
    assert f"for example {key} = " in message


@pytest.mark.parametrize("section, key, value", BAD_VALUES)
def test_bad_override_is_checked_like_a_file_value(section, key, value):
    assert user_error(None, {f"{section}.{key}": value}).startswith(f"command line: '{key}' in [{section}]")


def test_the_rules_are_said_as_the_table_gives_them():
    assert "'graph' in [model] must be one of \"fused\", \"unrolled\", not \"lstm\"" in user_error(
        None, {"model.graph": "lstm"})
    assert "'cell' in [model] must be one of \"lstm\", not \"fused\"" in user_error(None, {"model.cell": "fused"})
    assert "must be an integer from 1 to 1024, not 0" in user_error(None, {"model.layers": 0})
    assert "must be a number between 0 and 1, both excluded, not 1.0" in user_error(None, {"data.train_ratio": 1})
    assert "must be a number from 0 to 3.4e38 (0: no clipping), not -1.0" in user_error(None, {"train.grad_clip": -1})
    assert ("must be cpu, gpu, or a list of distinct device numbers such as gpu:0,1 or cpu:0,1, not \"gpu:0,0\""
            in user_error(None, {"compute.context": "gpu:0,0"}))


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(tmp_path, literal):
    assert "'learning_rate' in [train] must be a finite number" in user_error(
        write_toml(tmp_path, f"[train]\nlearning_rate = {literal}\n"))


def test_min_lr_must_stay_below_the_learning_rate():
    message = user_error(None, {"train.min_lr": 0.01})
    assert message.startswith("'min_lr' in [train] (0.01) must be below learning_rate (0.01)")
    assert load_config(None, {"train.min_lr": 0.001})["train"]["min_lr"] == 0.001


def test_unknown_key_suggests_the_known_one(tmp_path):
    path = write_toml(tmp_path, "[run]\nepoch = 3\n")
    message = user_error(path)
    assert message.startswith(f"{path}: unknown key 'epoch' in [run] (did you mean 'epochs'?); known keys: ")
    assert "checkpoint_dir" in message


def test_a_key_in_the_wrong_section_is_pointed_to_its_own(tmp_path):
    # A config written before the settings had sections of their own: [train] held epochs and context.
    path = write_toml(tmp_path, "[train]\nepochs = 3\n")
    assert user_error(path).startswith(f"{path}: unknown key 'epochs' in [train] ('epochs' is in [run]: "
                                       "move it there); known keys: ")
    assert "('context' is in [compute]: move it there)" in user_error(write_toml(tmp_path, '[train]\ncontext = "cpu"\n'))


def test_unknown_section_suggests_the_known_one(tmp_path):
    message = user_error(write_toml(tmp_path, "[trian]\nseed = 3\n"))
    assert "unknown section [trian] (did you mean [train]?)" in message


def test_key_outside_any_section_is_pointed_to_its_section(tmp_path):
    assert "setting 'epochs' is outside any [section]; move it under [run]" in user_error(
        write_toml(tmp_path, "epochs = 3\n"))
    assert "setting 'colour' is outside any [section]; remove it" in user_error(
        write_toml(tmp_path, "colour = 3\n"))


def test_section_must_be_a_table(tmp_path):
    assert "train must be a table of settings" in user_error(write_toml(tmp_path, "train = [1, 2]\n"))


def test_unknown_override_key():
    assert "unknown key 'epoch' in [run] (did you mean 'epochs'?)" in user_error(None, {"run.epoch": 3})


def test_missing_config_file(tmp_path):
    assert "does not exist" in user_error(str(tmp_path / "nope.toml"))


def test_config_path_is_a_directory(tmp_path):
    assert "is a directory" in user_error(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_config_file(tmp_path):
    path = write_toml(tmp_path, "[train]\n")
    os.chmod(path, 0)
    assert "cannot be read" in user_error(path)


def test_invalid_toml_reports_the_line(tmp_path):
    path = write_toml(tmp_path, "[run]\nepochs = = 3\n")
    message = user_error(path)
    assert message.startswith(f"{path} is not valid TOML (") and "line 2" in message


def test_non_utf8_config_reports_the_offset(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[sample]\nprime = "é"\n'.encode("latin-1"))
    assert "is not UTF-8 (bad byte at offset 18)" in user_error(str(path))


def test_a_shipped_config_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # anywhere: the shipped configs come with the package
    assert load_config("quick")["model"]["name"] == "quick"
    assert load_config("shakespeare") == load_config(str(SHIPPED))
    assert load_config("shakespeare-tuned")["model"]["name"] == "tuned"
    with pytest.raises(UserError, match="name a shipped config \\(quick, shakespeare-tuned, shakespeare\\)"):
        load_config("no-such-config")


def test_every_shipped_config_is_valid():
    for name, path in settings.shipped_configs().items():
        assert load_config(str(path)) == load_config(name), name


def set_error(*assignments) -> str:
    return user_error(None, {}, list(assignments))


@pytest.mark.parametrize("assignment, section, key, value", [
    ("train.learning_rate=0.002", "train", "learning_rate", 0.002),
    ("run.epochs=3", "run", "epochs", 3),
    ("model.graph=unrolled", "model", "graph", "unrolled"),    # a bare word is a string
    ('model.graph="unrolled"', "model", "graph", "unrolled"),  # and so is a TOML string
    ("data.corpus=texts/a.txt", "data", "corpus", "texts/a.txt"),
    ('data.corpus=["a.txt", "b/"]', "data", "corpus", ["a.txt", "b/"]),
    ("sample.prime=ROMEO: ", "sample", "prime", "ROMEO: "),   # kept as typed, spaces too
    ("sample.top_p=1", "sample", "top_p", 1.0),
    ("train.grad_clip = 5", "train", "grad_clip", 5.0),
    ("compute.context=cpu:0,1", "compute", "context", "cpu:0,1"),
])
def test_set_reaches_the_settings(assignment, section, key, value):
    config = load_config(None, {}, [assignment])
    assert config[section][key] == value and type(config[section][key]) is type(value)


def test_set_goes_over_the_file_and_flags_over_set(tmp_path):
    path = write_toml(tmp_path, "[run]\nepochs = 3\n[train]\nseed = 1\n")
    config = load_config(path, {"run.epochs": 5, "train.seed": None}, ["run.epochs=4", "train.seed=2"])
    assert config["run"]["epochs"] == 5 and config["train"]["seed"] == 2
    assert load_config(None, {}, ["train.seed=2", "train.seed=3"])["train"]["seed"] == 3  # the last one wins


def test_given_names_the_settings_not_left_at_their_defaults(tmp_path):
    path = write_toml(tmp_path, "[sample]\nlength = 100\n")  # the default's value, but given
    assert given(path, {"sample.top_k": 3, "sample.temperature": None}, ["run.epochs=2"]) == {
        "sample.length", "sample.top_k", "run.epochs"}
    assert given(None, {"sample.length": None}) == set()
    assert given({"model": {"graph": "unrolled"}}) == {"model.graph"}


@pytest.mark.parametrize("section, key, value", BAD_VALUES)
def test_bad_set_value_is_checked_like_a_file_value(section, key, value):
    written = json.dumps(value)   # as TOML would write it
    message = set_error(f"{section}.{key}={written}")
    assert message.startswith(f"--set {section}.{key}={written}: '{key}' in [{section}] must be ")
    assert f"for example --set {section}.{key}=" in message


def test_set_of_an_unknown_key_or_section_suggests_the_known_one():
    assert set_error("run.epoch=3").startswith(
        "--set run.epoch=3: unknown key 'epoch' in [run] (did you mean 'epochs'?); known keys: ")
    assert "unknown section [trian] (did you mean [train]?)" in set_error("trian.seed=3")
    assert "('epochs' is in [run]: move it there)" in set_error("train.epochs=3")


@pytest.mark.parametrize("assignment, fix", [
    ("epochs=3", "--set run.epochs=3"),
    ("graph=unrolled", "--set model.graph=unrolled"),
    ("run.epochs", "--set run.epochs=VALUE"),
    ("colour=red", "--set SECTION.KEY=VALUE, e.g. --set train.learning_rate=0.002"),
    ("=3", "--set SECTION.KEY=VALUE, e.g. "),
    ("run.=3", "--set SECTION.KEY=VALUE, e.g. "),
])
def test_malformed_set_shows_the_form(assignment, fix):
    assert set_error(assignment).startswith(f"--set {assignment} is not SECTION.KEY=VALUE: write it as {fix}")


def test_top_p_is_above_zero_and_at_most_one():
    assert load_config(None, {"sample.top_p": 0.9})["sample"]["top_p"] == 0.9
    for bad in (0, -0.5, 1.01):
        assert "'top_p' in [sample] must be a number above 0 and at most 1" in user_error(None, {"sample.top_p": bad})


# ----- settings.load: the Python API's keywords ------------------------------------------------

def test_load_takes_keys_by_name_or_by_section_and_key(tmp_path):
    path = write_toml(tmp_path, '[model]\nname = "fromfile"\nhidden = 8\n')
    config = load(path, hidden=None, epochs=3, graph="unrolled", **{"train.seed": 5})
    assert config["model"]["name"] == "fromfile" and config["model"]["hidden"] == 8   # None: left as it is
    assert config["run"]["epochs"] == 3 and config["model"]["graph"] == "unrolled" and config["train"]["seed"] == 5
    assert load(Path(path)) == load(path) == load_config(path)
    assert load("quick", epochs=2)["run"]["epochs"] == 2


def test_load_takes_a_dict_of_sections_and_checks_it():
    config = load({"model": {"hidden": 64}, "run": {"epochs": 2}}, layers=1)
    assert (config["model"]["hidden"], config["model"]["layers"], config["run"]["epochs"]) == (64, 1, 2)
    assert load(config) == config   # what it returns, it takes back
    with pytest.raises(UserError, match=r"^the settings given: 'hidden' in \[model\] must be an integer"):
        load({"model": {"hidden": "many"}})


@pytest.mark.parametrize("overrides, phrases", [
    ({"hidden": 1.5}, ["keyword arguments: 'hidden' in [model] must be an integer, not 1.5",
                       "for example hidden=256"]),
    ({"epoch": 2}, ["keyword arguments: unknown setting 'epoch' (did you mean 'epochs'?); known settings: "]),
    ({"cell": "fused"}, ["'cell' in [model] must be one of \"lstm\", not \"fused\""]),
    ({"graph": "lstm"}, ["'graph' in [model] must be one of \"fused\", \"unrolled\", not \"lstm\""]),
    ({"train.epochs": 2}, ["unknown key 'epochs' in [train] ('epochs' is in [run]: move it there)"]),
])
def test_load_refuses_as_the_command_line_does(overrides, phrases):
    with pytest.raises(UserError) as caught:
        load(None, **overrides)
    for phrase in phrases:
        assert phrase in str(caught.value)


# ----- what derives from the table --------------------------------------------------------------

def test_the_readme_table_and_the_julia_structs_are_up_to_date():
    # `python -m pyjlchar.settings` writes them from the table; edit the table, then run it.
    readme = (REPO / "README.md").read_text()
    start, end = (readme.index(mark) for mark in settings.README_MARKS)
    assert readme[start + len(settings.README_MARKS[0]):end].strip() == markdown_table()
    assert (REPO / settings.JULIA_FILE).read_text() == settings.julia_source()


def test_the_table_has_a_row_per_setting_with_its_default_and_rule():
    rows = markdown_table().splitlines()[2:]
    assert len(rows) == len(SECTION_OF)
    assert "| `model.graph` | `\"fused\"` |" in markdown_table()
    assert rows[0].startswith("| `data.corpus` | `\"shakespeare\"` |")
    assert "| an integer from 0 to 2147483647 (0: no warm-up) |" in markdown_table()


def test_the_julia_source_has_a_struct_and_check_per_section():
    source = settings.julia_source()
    for section in SECTIONS.values():
        assert f"Base.@kwdef struct {section.struct}\n" in source and f"function check(s::{section.struct})" in source
    assert "    n_class::Int   #" in source          # ModelSpec's field that no user sets
    assert "    graph::Symbol   #" in source and "s.graph in (:fused, :unrolled) ||" in source
    assert "s.cell in (:lstm,) ||" in source          # a one-choice tuple is still a tuple
    assert 'const SECTION_STRUCTS = (data = DataSettings, model = ModelSpec' in source


def stale_copy(tmp_path) -> Path:
    root = tmp_path / "root"
    (root / settings.JULIA_FILE).parent.mkdir(parents=True)
    shutil.copy(REPO / "README.md", root / "README.md")
    shutil.copy(REPO / settings.JULIA_FILE, root / settings.JULIA_FILE)
    return root


def test_write_derived_rewrites_only_what_is_stale(tmp_path):
    root = stale_copy(tmp_path)
    assert settings.write_derived(root) == []
    readme = (root / "README.md").read_text()
    (root / "README.md").write_text(readme.replace("| `model.graph` |", "| `model.graf` |"))
    (root / settings.JULIA_FILE).write_text("# stale\n")
    assert settings.write_derived(root) == [root / settings.JULIA_FILE, root / "README.md"]
    assert (root / "README.md").read_text() == readme
    assert (root / settings.JULIA_FILE).read_text() == settings.julia_source()
    assert settings.write_derived(root) == []


def test_python_m_pyjlchar_settings_writes_nothing_when_fresh():
    # (it writes into the checkout, so it is run only when the files are up to date already)
    readme = (REPO / "README.md").read_text()
    start, end = (readme.index(mark) for mark in settings.README_MARKS)
    if (readme[start + len(settings.README_MARKS[0]):end].strip() != markdown_table()
            or (REPO / settings.JULIA_FILE).read_text() != settings.julia_source()):
        pytest.skip("the checkout's derived files are stale: test_the_readme_table_and_the_julia_structs_are_"
                    "up_to_date says so")
    out = subprocess.run([sys.executable, "-m", "pyjlchar.settings"], capture_output=True, text=True, timeout=60,
                         cwd=REPO)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr


# ----- Julia's checks are the table's too --------------------------------------------------------

CHECK_SECTION = """
function pyjlchar_test_check_section(name, section)
    T = getfield(PyJLChar.CharLSTM.SECTION_STRUCTS, Symbol(name))
    extra = name == "model" ? (n_class = 65,) : NamedTuple()
    PyJLChar.CharLSTM.from_section(T, section; extra...)
    return true
end"""


@pytest.fixture(scope="module")
def julia_check(jl):
    jl.eval(CHECK_SECTION)
    return lambda section, values: jl.call("pyjlchar_test_check_section", section, values)


def test_julia_takes_the_defaults_of_every_section(julia_check):
    for name in SECTIONS:
        assert julia_check(name, DEFAULTS[name]) is True, name


# Values of the right type (a wrong type fails Julia's conversion first); a context that names a
# device twice passes settings.jl's pattern, and Julia's `devices` refuses it as it reads it.
@pytest.mark.parametrize("section, key, value", [
    bad for bad in BAD_VALUES
    if settings._has_type(bad[2], SECTIONS[bad[0]].keys[bad[1]].type) and bad[2] != "gpu:0,0"])
def test_julia_refuses_what_python_refuses_with_the_same_rule(julia_check, section, key, value):
    # A caller in Julia has no Python before it: settings.jl's checks, written from the table, say the same.
    setting = SECTIONS[section].keys[key]
    with pytest.raises(UserError) as caught:
        julia_check(section, {**DEFAULTS[section], key: value})
    assert str(caught.value).startswith(f"'{key}' in [{section}] must be {setting.rule}, not ")
