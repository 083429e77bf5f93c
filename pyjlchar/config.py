"""Settings: defaults, a TOML file on top of them, command-line flags (or the Python API's
keyword arguments) on top of that.

SETTINGS is the one place that defines every key, its default and its rule (DRAWING does the
same for what only `visualize` draws); config/shakespeare.toml mirrors it, and the commands,
`pyjlchar bench` and the benchmarks under bench/ take their defaults from here. Python owns the
checks of what a user typed: every mistake becomes a one-sentence UserError that names where
it was made (file or command line), the section and the key. Julia only asserts invariants.
"""
from __future__ import annotations

import copy
import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import UserError

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 has no tomllib; tomli is the same parser
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

COMMAND_LINE = "command line"
KEYWORDS = "keyword arguments"  # the Python API's: pyjlchar.train(epochs=2), config.load(path, hidden=512)
SET_OPTION = "--set"
SET_EXAMPLE = "--set train.learning_rate=0.002"
# libmxnet computes in 32-bit floats: a setting beyond this cannot reach it.
FLOAT32_MAX = 3.4028234e38
_CONTEXT = re.compile(r"(?P<kind>cpu|gpu)(?::(?P<ids>\d+(?:,\d+)*))?")
_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _toml(value) -> str:
    """`value` as it would be written in the TOML file."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


@dataclass(frozen=True)
class Setting:
    default: object
    type: type  # int, float, str, or list (a str or a list of str); an int is accepted where a float is expected
    rule: str  # what `check` demands, in words, completing "must be ..."
    check: Callable[[object], bool]
    choices: tuple = ()  # the values allowed, when they can be listed (a command-line flag offers them)


def positive_int(default: int) -> Setting:
    return Setting(default, int, "a positive integer", lambda v: v > 0)


def positive_number(default: float) -> Setting:
    return Setting(default, float, "a positive number", lambda v: v > 0)


def at_least_zero(default, zero_means: str) -> Setting:
    kind = "integer" if type(default) is int else "number"
    return Setting(default, type(default), f"zero ({zero_means}) or a positive {kind}", lambda v: v >= 0)


def one_of(*choices: str) -> Setting:
    """The first choice is the default."""
    return Setting(choices[0], str, "one of " + ", ".join(_toml(c) for c in choices), lambda v: v in choices, choices)


def non_empty(default: str, meaning: str) -> Setting:
    return Setting(default, str, f"a non-empty string ({meaning})", lambda v: v != "")


def one_or_more(default: str, meaning: str) -> Setting:
    """A non-empty string, or a non-empty list of them (the type `list` stands for both)."""
    return Setting(default, list, f"a non-empty string or list of them ({meaning})",
                   lambda v: v != "" if isinstance(v, str) else v != [] and all(isinstance(p, str) and p for p in v))


SETTINGS: dict[str, dict[str, Setting]] = {
    "data": {
        "corpus": one_or_more("shakespeare", "a built-in corpus name, the path of a text file or of a folder of "
                                             "*.txt files, or a list of them, read in that order"),
        "train_ratio": Setting(0.9, float, "a number between 0 and 1, both excluded", lambda v: 0 < v < 1),
    },
    "model": {
        "name": Setting("ptb", str, "made of letters, digits, '_' and '-' only (it names the checkpoint files)",
                        lambda v: _NAME.fullmatch(v) is not None),
        "layers": positive_int(2),
        "hidden": positive_int(256),
        "embed": positive_int(256),
        "dropout": Setting(0.0, float, "a number from 0 up to but excluding 1", lambda v: 0 <= v < 1),
        "cell": one_of("lstm", "fused"),
    },
    "train": {
        "seq_len": positive_int(32),
        "batch_size": positive_int(32),
        "epochs": positive_int(21),
        "optimizer": one_of("adam", "sgd"),
        "learning_rate": positive_number(0.01),
        "weight_decay": at_least_zero(1e-5, "no decay"),
        "grad_clip": at_least_zero(1.0, "no clipping"),
        "init_scale": positive_number(0.1),
        "seed": Setting(42, int, "an integer from 0 to 2147483647", lambda v: 0 <= v < 2**31),
        "checkpoint_dir": non_empty("checkpoints", "a folder"),
        "context": Setting("cpu", str, "cpu, gpu, or a list of distinct device numbers such as gpu:0,1 or cpu:0,1",
                           lambda v: _devices(v) is not None),
        # local/device: this process's devices; dist_*: a parameter-server job (pyjlchar launch).
        "kvstore": one_of("local", "device", "dist_sync", "dist_device_sync", "dist_async"),
        # What a job's workers send: "2bit" sends each gradient value as +threshold, -threshold or 0.
        "gradient_compression": one_of("none", "2bit"),
        "compression_threshold": positive_number(0.5),
        # The learning rate's course, in updates (batches; a job's round of batches counts once).
        "lr_schedule": one_of("constant", "step", "exponential", "cosine"),
        "warmup": at_least_zero(0, "no warm-up"),
        "min_lr": at_least_zero(0.0, "no floor"),
        "lr_step": positive_int(1000),
        "lr_factor": Setting(0.5, float, "a number above 0 and at most 1", lambda v: 0 < v <= 1),
        # Intervals in batches; 0: at the end of each epoch only (which always validates and saves).
        "eval_every": at_least_zero(0, "at the end of each epoch only"),
        "checkpoint_every": at_least_zero(0, "at the end of each epoch only"),
        "eval_batches": at_least_zero(0, "all of the validation text"),
        "patience": at_least_zero(0, "never stop early"),
        "keep_last": at_least_zero(0, "keep every checkpoint"),
        "keep_best": Setting(1, int, "a positive integer (the best checkpoint is always kept)", lambda v: v > 0),
        "log_every": at_least_zero(50, "no metrics log lines but the validations'"),
    },
    "sample": {
        "length": positive_int(100),
        "num_samples": positive_int(10),
        "prime": non_empty("a", "the text each sample starts from"),
        "temperature": at_least_zero(1.0, "always the likeliest character"),
        "top_k": at_least_zero(0, "no limit"),
        # Nucleus sampling: only the likeliest characters whose probabilities sum to at least top_p.
        "top_p": Setting(1.0, float, "a number above 0 and at most 1 (1: no limit)", lambda v: 0 < v <= 1),
    },
}

# Every key name is unique across the sections, so that a keyword argument can name a setting
# by its key alone (epochs=2 for [train] epochs).
SECTION_OF: dict[str, str] = {key: section for section, keys in SETTINGS.items() for key in keys}
assert len(SECTION_OF) == sum(len(keys) for keys in SETTINGS.values()), "a key name is in two sections"

DEFAULTS: dict[str, dict[str, object]] = {
    section: {key: setting.default for key, setting in keys.items()} for section, keys in SETTINGS.items()
}

# A model made without a corpus (for `visualize`, or to time sampling) predicts the original's
# classes: tiny-shakespeare's 64 characters and the unknown class.
N_CLASS_WITHOUT_CORPUS = 65

# `eval` scores a text as this many contiguous pieces side by side (the columns of one batch),
# many times faster than one stream. A piece's first characters are predicted from little
# context, so unless --streams says otherwise a text gets one stream per EVAL_BYTES_PER_STREAM.
EVAL_STREAMS = 64
EVAL_BYTES_PER_STREAM = 16 * 1024


def eval_streams(text_bytes: int) -> int:
    """The streams `eval` scores a text of `text_bytes` with when --streams is not given."""
    return max(1, min(EVAL_STREAMS, text_bytes // EVAL_BYTES_PER_STREAM))

# What `visualize` draws when not told otherwise: the original's picture (one layer, two steps,
# one stream); the model's other sizes are DEFAULTS["model"]'s.
DRAWING = {"layers": 1, "steps": 2, "vocab": N_CLASS_WITHOUT_CORPUS, "batch": 1}


def load(path: str | Path | dict | None = None, /, **overrides) -> dict:
    """Validated settings, {section: {key: value}}: the defaults, then the TOML file at `path`
    (or a shipped config by name: "quick", "shakespeare"; or a dict of sections, as a file's
    TOML reads, such as settings this function returned), then `overrides`, each a key by its
    name (``hidden=512``) or, through ``**{...}``, as "section.key". None leaves a setting as
    it is. Mistakes raise UserError with the sentence the command line gives.

    >>> settings = load("quick", epochs=2, cell="fused")
    >>> settings["train"]["epochs"], settings["model"]["cell"]
    (2, 'fused')
    """
    return load_config(path if path is None or isinstance(path, dict) else str(path), by_section(overrides),
                       source=KEYWORDS)


def by_section(overrides: dict) -> dict:
    """{"epochs": 2, "model.cell": "fused"} as {"train.epochs": 2, "model.cell": "fused"}; an
    unknown name is a UserError suggesting the closest one."""
    dotted = {}
    for name, value in overrides.items():
        if "." in name:
            dotted[name] = value
        elif name in SECTION_OF:
            dotted[f"{SECTION_OF[name]}.{name}"] = value
        else:
            hint = _suggestion(name, SECTION_OF, "'{}'")
            raise UserError(f"{KEYWORDS}: unknown setting '{name}'{hint}; known settings: {', '.join(SECTION_OF)}")
    return dotted


def load_config(path: str | dict | None, overrides: dict | None = None, assignments=(),
                source: str = COMMAND_LINE) -> dict:
    """The full settings: DEFAULTS, updated by the TOML file at `path` (if any; a dict stands
    for the file's content, checked as it would be), then by
    `assignments` (--set's "section.key=value" texts, in order), then by `overrides`, a flat
    dict like {"train.epochs": 5} where None means "flag not given", which errors say came
    from `source`."""
    config = copy.deepcopy(DEFAULTS)
    for source, values in _layers(path, overrides, assignments, source):
        for section, keys in _validated(source, values).items():
            config[section].update(keys)
    _check_together(config["train"])
    return config


def given(path: str | dict | None, overrides: dict | None = None, assignments=()) -> set[str]:
    """The settings ("section.key") that `load_config` takes from the file, `assignments` or
    `overrides` rather than from DEFAULTS (whatever their values); for settings `load_config`
    has accepted."""
    return {f"{section}.{key}" for _, values in _layers(path, overrides, assignments, COMMAND_LINE)
            for section, keys in values.items() for key in keys}


def _layers(path: str | dict | None, overrides: dict | None, assignments, source: str) -> list[tuple[str, dict]]:
    """What `load_config` lays over DEFAULTS, in order: (where it comes from, {section: {key: value}})."""
    layers = []
    if isinstance(path, dict):
        layers.append(("the settings given", path))
    elif path is not None:
        path = config_path(str(path))
        layers.append((str(path), _read_toml(str(path))))
    # Each --set is its own layer, so that an error quotes it.
    layers += [(f"{SET_OPTION} {text}", _nested(dict([_assignment(text)]))) for text in assignments]
    layers.append((source, _nested({k: v for k, v in (overrides or {}).items() if v is not None})))
    return layers


def _check_together(train: dict) -> None:
    """The rules that tie one setting to another."""
    if train["min_lr"] >= train["learning_rate"]:
        raise UserError(f"'min_lr' in [train] ({train['min_lr']}) must be below learning_rate "
                        f"({train['learning_rate']}): a schedule decays from learning_rate towards min_lr; "
                        "lower min_lr or raise learning_rate")


def _nested(flat: dict) -> dict:
    """{"train.epochs": 5} as {"train": {"epochs": 5}}."""
    nested: dict[str, dict] = {}
    for dotted, value in flat.items():
        section, _, key = dotted.partition(".")
        nested.setdefault(section, {})[key] = value
    return nested


def _assignment(text: str) -> tuple[str, object]:
    """--set's "section.key=value" as ("section.key", value): the value is read as a TOML value
    (3, 0.002, "fused", ["a.txt", "b/"], true), or else taken as it is, as a string, so that
    model.cell=fused needs no quotes."""
    dotted, equals, raw = text.partition("=")
    dotted = dotted.strip()
    section, dot, key = dotted.partition(".")
    if not (equals and section and dot and key):
        owner = next((name for name, known in SETTINGS.items() if dotted in known), None)
        form = (f"--set {dotted}=VALUE" if section and dot and key else
                f"--set {owner}.{dotted}={raw or 'VALUE'}" if owner else f"--set SECTION.KEY=VALUE, e.g. {SET_EXAMPLE}")
        raise UserError(f"--set {text} is not SECTION.KEY=VALUE: write it as {form}")
    parser = _toml_parser(SET_OPTION)
    try:
        parsed = parser.loads(f"value = {raw}")
    except parser.TOMLDecodeError:
        parsed = {}
    return dotted, parsed["value"] if set(parsed) == {"value"} else raw


def parse_context(text: str) -> list[tuple[str, int]]:
    """Devices named by a context string: "gpu" -> [("gpu", 0)], "cpu:0,1" -> [("cpu", 0), ("cpu", 1)]."""
    devices = _devices(text)
    if devices is None:
        raise UserError(f"device context {text!r} is not valid: use cpu, gpu, or a list of distinct "
                        "device numbers such as gpu:0,1 or cpu:0,1")
    return devices


def _devices(text: str) -> list[tuple[str, int]] | None:
    match = _CONTEXT.fullmatch(text)
    if match is None:
        return None
    ids = [int(i) for i in match["ids"].split(",")] if match["ids"] else [0]
    if len(set(ids)) != len(ids):
        return None
    return [(match["kind"], i) for i in ids]


def shipped_configs() -> dict[str, Path]:
    """The configs pyjlchar ships (config/*.toml), by name: "shakespeare", "quick"."""
    from .runtime import ROOT

    return {p.stem: p for p in sorted((ROOT / "config").glob("*.toml"))}


def config_path(given: str) -> Path:
    """The file `--config` names: a path, or the name of a shipped config (`--config quick`)."""
    path = Path(given).expanduser()
    if not path.exists() and path.parent == Path(".") and path.stem in shipped_configs():
        return shipped_configs()[path.stem]
    return path


def _toml_parser(user: str):
    if tomllib is None:
        raise UserError(f"{user} needs a TOML parser: use Python 3.11 or newer, or pip install tomli")
    return tomllib


def _read_toml(path: str) -> dict:
    parser = _toml_parser(f"reading {path}")
    text = read_utf8(path, "config file", f"check the path, name a shipped config ({', '.join(shipped_configs())}), "
                                          "or leave the config out to use the defaults")
    try:
        return parser.loads(text)
    except parser.TOMLDecodeError as e:
        raise UserError(f"{path} is not valid TOML ({e}): fix the syntax there") from None


def read_utf8(path: str, what: str, if_missing: str) -> str:
    """The text of the UTF-8 file at `path` (a `what`, as errors call it); `if_missing` is the
    fix an error names when there is no such file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{what} {path} does not exist: {if_missing}") from None
    except IsADirectoryError:
        raise UserError(f"{what} {path} is a directory: pass the path of a file") from None
    except OSError as e:
        raise UserError(f"{what} {path} cannot be read ({e.strerror}): check its permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{what} {path} is not UTF-8 (bad byte at offset {e.start}): save it as UTF-8") from None


def _validated(source: str, values: dict) -> dict:
    """`values` ({section: {key: value}}) checked against SETTINGS, floats made float."""
    result = {}
    for section, keys in values.items():
        if section not in SETTINGS and not isinstance(keys, dict):
            owner = next((name for name, known in SETTINGS.items() if section in known), None)
            place = f"move it under [{owner}]" if owner else f"remove it (the sections are {', '.join(SETTINGS)})"
            raise UserError(f"{source}: setting '{section}' is outside any [section]; {place}")
        if section not in SETTINGS:
            hint = _suggestion(section, SETTINGS, "[{}]")
            raise UserError(f"{source}: unknown section [{section}]{hint}; known sections: {', '.join(SETTINGS)}")
        if not isinstance(keys, dict):
            raise UserError(f"{source}: {section} must be a table of settings; write it as [{section}] "
                            "followed by key = value lines")
        known = SETTINGS[section]
        result[section] = {}
        for key, value in keys.items():
            if key not in known:
                hint = _suggestion(key, known, "'{}'")
                raise UserError(f"{source}: unknown key '{key}' in [{section}]{hint}; known keys: {', '.join(known)}")
            result[section][key] = _checked(source, section, key, value, known[key])
    return result


_TYPE_NAMES = {int: "an integer", float: "a finite number", str: "a string", list: "a string or a list of strings"}


def _checked(source: str, section: str, key: str, value, setting: Setting):
    where = f"{source}: '{key}' in [{section}]"
    example = (f"for example {SET_OPTION} {section}.{key}={_toml(setting.default)}" if source.startswith(SET_OPTION)
               else f"for example {key}={setting.default!r}" if source == KEYWORDS
               else f"for example {key} = {_toml(setting.default)}")
    if not _has_type(value, setting.type):
        raise UserError(f"{where} must be {_TYPE_NAMES[setting.type]}, not {_toml(value)}; {example}")
    if setting.type is float:
        value = float(value)
        if abs(value) > FLOAT32_MAX:
            raise UserError(f"{where} must be at most 3.4e38 (libmxnet computes in 32-bit floats), "
                            f"not {_toml(value)}; {example}")
    if not setting.check(value):
        raise UserError(f"{where} must be {setting.rule}, not {_toml(value)}; {example}")
    return value


def _has_type(value, expected: type) -> bool:
    if isinstance(value, bool):  # bool is an int subclass, but true is never a count
        return False
    if expected is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    if expected is list:
        return isinstance(value, (str, list))
    return isinstance(value, expected)


def _suggestion(name: str, known, template: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {template.format(close[0])}?)" if close else ""
