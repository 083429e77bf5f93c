import json
import os
from pathlib import Path

import pytest

from pyjlchar.config import DEFAULTS, given, load_config, parse_context
from pyjlchar.errors import UserError

SHIPPED = Path(__file__).resolve().parent.parent / "config" / "shakespeare.toml"


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
    assert config["model"] == {"name": "ptb", "layers": 2, "hidden": 256, "embed": 256, "dropout": 0.0,
                               "cell": "lstm"}
    assert config["train"]["epochs"] == 21 and config["train"]["learning_rate"] == 0.01
    assert config["train"]["grad_clip"] == 1.0 and config["train"]["weight_decay"] == 1e-5
    assert config["data"] == {"corpus": "shakespeare", "train_ratio": 0.9}
    assert config["sample"]["num_samples"] == 10 and config["sample"]["prime"] == "a"


def test_returned_config_is_a_copy():
    load_config(None)["train"]["epochs"] = 1
    assert load_config(None)["train"]["epochs"] == 21


def test_shipped_file_mirrors_defaults():
    assert load_config(str(SHIPPED)) == DEFAULTS
    from pyjlchar.config import tomllib

    listed = tomllib.loads(SHIPPED.read_text())
    assert {s: set(keys) for s, keys in listed.items()} == {s: set(keys) for s, keys in DEFAULTS.items()}


def test_file_then_overrides(tmp_path):
    path = write_toml(tmp_path, "[train]\nepochs = 3\nlearning_rate = 1\n[model]\nhidden = 64\n")
    config = load_config(path, {"train.epochs": 5, "data.corpus": None, "train.context": "gpu:0,1"})
    assert config["train"]["epochs"] == 5  # the flag wins over the file
    assert config["train"]["learning_rate"] == 1.0 and isinstance(config["train"]["learning_rate"], float)
    assert config["model"]["hidden"] == 64
    assert config["model"]["layers"] == 2  # missing keys keep their defaults
    assert config["data"]["corpus"] == "shakespeare"  # None means the flag was not given
    assert config["train"]["context"] == "gpu:0,1"


@pytest.mark.parametrize("section, key, value", [
    ("train", "grad_clip", 0), ("train", "weight_decay", 0), ("model", "dropout", 0.5),
    ("sample", "temperature", 0), ("sample", "top_k", 5), ("train", "optimizer", "sgd"),
    ("model", "cell", "fused"), ("model", "name", "my-model_2"), ("sample", "prime", "ROMEO: é"),
    ("train", "context", "cpu:0,1"), ("data", "corpus", "texts/mine.txt"), ("train", "seed", 0),
])
def test_edge_values_are_accepted(tmp_path, section, key, value):
    assert load_config(setting_file(tmp_path, section, key, value))[section][key] == value


BAD_VALUES = [
    *[(section, key, bad) for section, key in [
        ("model", "layers"), ("model", "hidden"), ("model", "embed"), ("train", "seq_len"),
        ("train", "batch_size"), ("train", "epochs"), ("sample", "length"), ("sample", "num_samples"),
    ] for bad in (0, -1)],
    ("data", "train_ratio", 0), ("data", "train_ratio", 1), ("data", "train_ratio", 1.5),
    ("model", "dropout", 1.0), ("model", "dropout", -0.1),
    ("train", "learning_rate", 0), ("train", "learning_rate", -0.01), ("train", "weight_decay", -1e-5),
    ("train", "grad_clip", -1), ("train", "init_scale", 0), ("sample", "temperature", -0.5),
    ("sample", "top_k", -1), ("train", "seed", -1), ("train", "seed", 2**31),
    ("train", "optimizer", "rmsprop"), ("model", "cell", "gru"),
    ("model", "name", "a/b"), ("model", "name", ""), ("model", "name", "my model"),
    ("sample", "prime", ""), ("data", "corpus", ""), ("train", "checkpoint_dir", ""),
    ("train", "context", "tpu"), ("train", "context", "gpu:"), ("train", "context", "gpu:0,0"),
    ("train", "context", "cpu:a"), ("train", "context", "GPU"),
    # wrong types: a float for an int, strings for numbers, booleans for anything
    ("train", "epochs", 2.5), ("train", "epochs", "21"), ("train", "epochs", True),
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


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(tmp_path, literal):
    assert "'learning_rate' in [train] must be a finite number" in user_error(
        write_toml(tmp_path, f"[train]\nlearning_rate = {literal}\n"))


def test_unknown_key_suggests_the_known_one(tmp_path):
    path = write_toml(tmp_path, "[train]\nepoch = 3\n")
    message = user_error(path)
    assert message.startswith(f"{path}: unknown key 'epoch' in [train] (did you mean 'epochs'?); known keys: ")
    assert "learning_rate" in message


def test_unknown_section_suggests_the_known_one(tmp_path):
    message = user_error(write_toml(tmp_path, "[trian]\nepochs = 3\n"))
    assert "unknown section [trian] (did you mean [train]?)" in message


def test_key_outside_any_section_is_pointed_to_its_section(tmp_path):
    assert "setting 'epochs' is outside any [section]; move it under [train]" in user_error(
        write_toml(tmp_path, "epochs = 3\n"))
    assert "setting 'colour' is outside any [section]; remove it" in user_error(
        write_toml(tmp_path, "colour = 3\n"))


def test_section_must_be_a_table(tmp_path):
    assert "train must be a table of settings" in user_error(write_toml(tmp_path, "train = [1, 2]\n"))


def test_unknown_override_key():
    assert "unknown key 'epoch' in [train] (did you mean 'epochs'?)" in user_error(None, {"train.epoch": 3})


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
    path = write_toml(tmp_path, "[train]\nepochs = = 3\n")
    message = user_error(path)
    assert message.startswith(f"{path} is not valid TOML (") and "line 2" in message


def test_non_utf8_config_reports_the_offset(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[sample]\nprime = "é"\n'.encode("latin-1"))
    assert "is not UTF-8 (bad byte at offset 18)" in user_error(str(path))


@pytest.mark.parametrize("text, devices", [
    ("cpu", [("cpu", 0)]), ("gpu", [("gpu", 0)]), ("gpu:1", [("gpu", 1)]),
    ("gpu:0,1", [("gpu", 0), ("gpu", 1)]), ("cpu:0,1", [("cpu", 0), ("cpu", 1)]),
    ("gpu:3,0,2", [("gpu", 3), ("gpu", 0), ("gpu", 2)]),
])
def test_parse_context(text, devices):
    assert parse_context(text) == devices


@pytest.mark.parametrize("text", ["", "tpu", "gpu:", "gpu:0,", "gpu:0,0", "gpu 0", "cpu:-1", "GPU"])
def test_parse_context_refuses(text):
    with pytest.raises(UserError, match="is not valid: use cpu, gpu"):
        parse_context(text)


def test_a_shipped_config_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # anywhere: the shipped configs come with the package
    assert load_config("quick")["model"]["name"] == "quick"
    assert load_config("shakespeare") == load_config(str(SHIPPED))
    assert load_config("shakespeare-tuned")["model"]["name"] == "tuned"
    with pytest.raises(UserError, match="name a shipped config \\(quick, shakespeare-tuned, shakespeare\\)"):
        load_config("no-such-config")


def set_error(*assignments) -> str:
    return user_error(None, {}, list(assignments))


@pytest.mark.parametrize("assignment, section, key, value", [
    ("train.learning_rate=0.002", "train", "learning_rate", 0.002),
    ("train.epochs=3", "train", "epochs", 3),
    ("model.cell=fused", "model", "cell", "fused"),        # a bare word is a string
    ('model.cell="fused"', "model", "cell", "fused"),      # and so is a TOML string
    ("data.corpus=texts/a.txt", "data", "corpus", "texts/a.txt"),
    ('data.corpus=["a.txt", "b/"]', "data", "corpus", ["a.txt", "b/"]),
    ("sample.prime=ROMEO: ", "sample", "prime", "ROMEO: "),   # kept as typed, spaces too
    ("sample.top_p=1", "sample", "top_p", 1.0),
    ("train.grad_clip = 5", "train", "grad_clip", 5.0),
])
def test_set_reaches_the_settings(assignment, section, key, value):
    config = load_config(None, {}, [assignment])
    assert config[section][key] == value and type(config[section][key]) is type(value)


def test_set_goes_over_the_file_and_flags_over_set(tmp_path):
    path = write_toml(tmp_path, "[train]\nepochs = 3\nseed = 1\n")
    config = load_config(path, {"train.epochs": 5, "train.seed": None}, ["train.epochs=4", "train.seed=2"])
    assert config["train"]["epochs"] == 5 and config["train"]["seed"] == 2
    assert load_config(None, {}, ["train.seed=2", "train.seed=3"])["train"]["seed"] == 3  # the last one wins


def test_given_names_the_settings_not_left_at_their_defaults(tmp_path):
    path = write_toml(tmp_path, "[sample]\nlength = 100\n")  # the default's value, but given
    assert given(path, {"sample.top_k": 3, "sample.temperature": None}, ["train.epochs=2"]) == {
        "sample.length", "sample.top_k", "train.epochs"}
    assert given(None, {"sample.length": None}) == set()


@pytest.mark.parametrize("section, key, value", BAD_VALUES)
def test_bad_set_value_is_checked_like_a_file_value(section, key, value):
    written = json.dumps(value)   # as TOML would write it
    message = set_error(f"{section}.{key}={written}")
    assert message.startswith(f"--set {section}.{key}={written}: '{key}' in [{section}] must be ")
    assert f"for example --set {section}.{key}=" in message


def test_set_of_an_unknown_key_or_section_suggests_the_known_one():
    assert set_error("train.epoch=3").startswith(
        "--set train.epoch=3: unknown key 'epoch' in [train] (did you mean 'epochs'?); known keys: ")
    assert "unknown section [trian] (did you mean [train]?)" in set_error("trian.epochs=3")


@pytest.mark.parametrize("assignment, fix", [
    ("epochs=3", "--set train.epochs=3"),
    ("train.epochs", "--set train.epochs=VALUE"),
    ("colour=red", "--set SECTION.KEY=VALUE, e.g. --set train.learning_rate=0.002"),
    ("=3", "--set SECTION.KEY=VALUE, e.g. "),
    ("train.=3", "--set SECTION.KEY=VALUE, e.g. "),
])
def test_malformed_set_shows_the_form(assignment, fix):
    assert set_error(assignment).startswith(f"--set {assignment} is not SECTION.KEY=VALUE: write it as {fix}")


def test_top_p_is_above_zero_and_at_most_one():
    assert load_config(None, {"sample.top_p": 0.9})["sample"]["top_p"] == 0.9
    for bad in (0, -0.5, 1.01):
        assert "'top_p' in [sample] must be a number above 0 and at most 1" in user_error(None, {"sample.top_p": bad})
