"""Settings: every key a TOML file, a flag, --set or the Python API can set, in one table.

SECTIONS is the one place that defines each setting: its section, name, type, default, bounds
(or choices, or pattern) and what it means. Everything else derives from it: the checks below,
the command line's flags and their help (cli.py), the Python API's keywords (api.py), the table
in the README, the TOML comments of config/shakespeare.toml and the Julia structs the sections
become on the other side of the bridge (julia/src/CharLSTM/settings.jl, written by
`python -m pyjlchar.settings`; a test fails when it, or the README's table, is stale).

A value is checked where it is read, the same way whether it comes from a file, --set, a flag or
a keyword argument: a mistake is a one-sentence UserError naming where it was made, the section,
the key and the rule. Julia checks each struct again (a call from Julia code has no Python
before it); both checks are generated from the same bounds.
"""
from __future__ import annotations

import copy
import difflib
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 has no tomllib; tomli is the same parser
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

COMMAND_LINE = "command line"
KEYWORDS = "keyword arguments"  # the Python API's: pyjlchar.train(epochs=2), settings.load(path, hidden=512)
SET_OPTION = "--set"
SET_EXAMPLE = "--set train.learning_rate=0.002"
# libmxnet computes in 32-bit floats, and counts and sizes are 32-bit integers there.
FLOAT32_MAX = 3.4028234e38
INT32_MAX = 2**31 - 1
# The largest layer, embedding or batch: 4 gates of 2^20 units are still a 32-bit count in
# libmxnet, and the memory check refuses what this machine cannot hold long before.
SIZE_MAX = 2**20


@dataclass(frozen=True)
class Setting:
    """One setting: `type` is int, float, bool, str, or list (a string or a list of strings);
    numbers lie between `low` and `high` (excluded where `above`/`below`); a string is one of
    `choices`, or matches `pattern`, whose meaning `rule_text` says; `zero` says what 0 means
    when it means something of its own."""
    type: type
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    above: bool = False
    below: bool = False
    choices: tuple = ()
    pattern: str | None = None
    rule_text: str | None = None
    zero: str | None = None

    @property
    def rule(self) -> str:
        """What a value must be, completing "must be ..."."""
        if self.choices:
            return "one of " + ", ".join(toml_text(c) for c in self.choices)
        if self.rule_text:
            return self.rule_text
        if self.type is bool:
            return "true or false"
        if self.type not in (int, float):
            return "a non-empty string"
        low, high = _number(self.low), _number(self.high)
        zero = f" (0: {self.zero})" if self.zero else ""
        if self.type is int:
            return f"an integer from {low} to {high}{zero}"
        bounds = {(True, False): f"above {low} and at most {high}", (False, True): f"from {low} up to but excluding {high}",
                  (True, True): f"between {low} and {high}, both excluded", (False, False): f"from {low} to {high}"}
        return f"a number {bounds[self.above, self.below]}{zero}"


def _number(x) -> str:
    if x == FLOAT32_MAX:
        return "3.4e38"
    return str(int(x)) if float(x).is_integer() else repr(x)


def count(default: int, help: str, low: int = 1, high: int = INT32_MAX, zero: str | None = None) -> Setting:
    return Setting(int, default, help, low=low, high=high, zero=zero)


def number(default: float, help: str, low: float = 0.0, above: bool = True, high: float = FLOAT32_MAX,
           below: bool = False, zero: str | None = None) -> Setting:
    return Setting(float, default, help, low=low, high=high, above=above, below=below, zero=zero)


def one_of(*choices: str, help: str) -> Setting:
    """The first choice is the default."""
    return Setting(str, choices[0], help, choices=choices)


@dataclass(frozen=True)
class Section:
    """A [section] of the TOML file, and the Julia struct it becomes (`extra`: fields the struct
    has that no user sets, given by the command that builds it)."""
    struct: str
    help: str
    keys: dict[str, Setting]
    extra: dict[str, Setting] = field(default_factory=dict)


NAME_PATTERN = r"[A-Za-z0-9_-]+"
CONTEXT_PATTERN = r"(cpu|gpu)(:[0-9]+(,[0-9]+)*)?"

SECTIONS: dict[str, Section] = {
    "data": Section("DataSettings", "the text a run trains and validates on", {
        "corpus": Setting(list, "shakespeare", "A built-in corpus (shakespeare, shakespeare-full), a UTF-8 text file, "
                          "a folder (every *.txt under it, sorted), or a list of them, read in that order.",
                          rule_text="a non-empty string or list of them (a corpus name, file or folder)"),
        "train_ratio": number(0.9, "The share of the text that trains, from its start; the rest validates.",
                              high=1.0, below=True),
    }),
    "model": Section("ModelSpec", "the network", {
        "name": Setting(str, "ptb", "The model's name: it names the checkpoint files and the graph's variables.",
                        pattern=NAME_PATTERN,
                        rule_text="made of letters, digits, '_' and '-' only (it names the checkpoint files)"),
        "cell": one_of("lstm", help="The recurrence of each layer."),
        "graph": one_of("fused", "unrolled", help="How libmxnet runs it: fused, its RNN operator (faster); "
                                                  "unrolled, the original's graph of one node per gate and step. "
                                                  "Both compute the same function, and a checkpoint runs in "
                                                  "either."),
        "layers": count(2, "Stacked recurrent layers.", high=1024),
        "hidden": count(256, "Units per layer.", high=SIZE_MAX),
        "embed": count(256, "Size of the character embedding.", high=SIZE_MAX),
        "dropout": number(0.0, "Dropout between layers and before the decoder, never on the recurrences.",
                          above=False, high=1.0, below=True),
    }, extra={"n_class": count(65, "Classes predicted: the vocabulary plus the unknown class.")}),
    "train": Section("TrainSettings", "the course of a run, which --resume keeps", {
        "seq_len": count(32, "Characters per unrolled sequence.", high=SIZE_MAX),
        "batch_size": count(32, "Sequences per batch.", high=SIZE_MAX),
        "optimizer": one_of("adam", "sgd", help="The optimizer (sgd with momentum 0.9)."),
        "learning_rate": number(0.01, "The optimizer's step size."),
        "weight_decay": number(1e-5, "L2 penalty added to every gradient.", above=False, zero="no decay"),
        "grad_clip": number(1.0, "Each gradient value is clipped to [-grad_clip, grad_clip].", above=False,
                            zero="no clipping"),
        "init_scale": number(0.1, "Weights start uniform in [-init_scale, init_scale], biases at 0."),
        "seed": count(42, "The seed of every random draw: the same seed repeats a run exactly.", low=0),
        "lr_schedule": one_of("constant", "step", "exponential", "cosine",
                              help="The learning rate's course: step and exponential multiply it by lr_factor "
                                   "every lr_step updates (at once or smoothly), cosine follows half a cosine "
                                   "down to min_lr at the last update."),
        "warmup": count(0, "Updates over which the learning rate first rises linearly.", low=0, zero="no warm-up"),
        "min_lr": number(0.0, "The floor a schedule decays towards; below learning_rate.", above=False,
                         zero="no floor"),
        "lr_step": count(1000, "Updates per step of the step and exponential schedules."),
        "lr_factor": number(0.5, "What the step and exponential schedules multiply the rate by.", high=1.0),
    }),
    "run": Section("RunPolicy", "how this invocation steers the run: --resume may change any of it", {
        "epochs": count(21, "Passes over the training text (a resumed run goes on to this many)."),
        "checkpoint_dir": Setting(str, "checkpoints", "The folder the run's files go to."),
        "eval_every": count(0, "Validate every this many batches too.", low=0,
                            zero="at the end of each epoch only"),
        "eval_batches": count(0, "Batches such a validation scores, spread evenly.", low=0,
                              zero="all of the validation text"),
        "checkpoint_every": count(0, "Save a checkpoint every this many batches too.", low=0,
                                  zero="at the end of each epoch only"),
        "patience": count(0, "Stop after this many validations in a row without a better NLL.", low=0,
                          zero="never stop early"),
        "keep_last": count(0, "Keep only this many latest checkpoints (and keep_best best).", low=0,
                           zero="keep every checkpoint"),
        "keep_best": count(1, "Best checkpoints always kept."),
        "log_every": count(50, "A line in <name>-log.jsonl every this many batches.", low=0,
                           zero="only the validations' lines"),
    }),
    "compute": Section("ComputeSettings", "where the arithmetic runs and how gradients are summed", {
        "context": Setting(str, "cpu", "cpu, gpu, or devices such as gpu:0,1 or cpu:0,1 (several train "
                                       "data-parallel; sampling runs on the first).", pattern=CONTEXT_PATTERN,
                           rule_text="cpu, gpu, or a list of distinct device numbers such as gpu:0,1 or cpu:0,1"),
        "kvstore": one_of("local", "device", "dist_sync", "dist_device_sync", "dist_async",
                          help="local or device: this process's devices; dist_sync, dist_device_sync: the workers "
                               "of a parameter-server job (pyjlchar launch), each taking every step together; "
                               "dist_async: the servers apply each worker's step as it arrives."),
        "gradient_compression": one_of("none", "2bit", help="2bit: a job's workers send each gradient value as +t, "
                                                            "-t or 0 (t = compression_threshold), carrying the "
                                                            "rest over."),
        "compression_threshold": number(0.5, "The t of 2bit compression."),
    }),
    "sample": Section("SampleSettings", "how text is drawn from a model", {
        "length": count(100, "Characters drawn per sample."),
        "num_samples": count(10, "Samples drawn side by side, as one batch.", high=SIZE_MAX),
        "prime": Setting(str, "a", "The text each sample starts from."),
        "temperature": number(1.0, "Below 1 sharpens the model's distribution, above 1 flattens it.",
                              above=False, zero="always the likeliest character"),
        "top_k": count(0, "Draw only among the k likeliest characters.", low=0, zero="no limit"),
        "top_p": number(1.0, "Then only among the likeliest whose probabilities sum to top_p (nucleus "
                             "sampling); 1: no limit.", high=1.0),
    }),
}

# Every key name is unique across the sections, so that a keyword argument or a flag names a
# setting by its key alone (epochs=2, --epochs 2 for [run] epochs).
SECTION_OF: dict[str, str] = {key: name for name, section in SECTIONS.items() for key in section.keys}
assert len(SECTION_OF) == sum(len(s.keys) for s in SECTIONS.values()), "a key name is in two sections"

DEFAULTS: dict[str, dict[str, object]] = {
    name: {key: setting.default for key, setting in section.keys.items()} for name, section in SECTIONS.items()
}

# The options commands take besides the settings (they steer one call, not a run), each a
# Setting too, so that their flags and checks come from the same place.
OPTIONS: dict[str, Setting] = {
    # `visualize` draws the original's picture unless told otherwise: one layer, two steps, one
    # stream, unrolled; its model's other sizes are DEFAULTS["model"]'s.
    "steps": count(2, "Time steps unrolled (characters per sequence).", high=10_000),
    "vocab": count(65, "Classes: characters in the vocabulary plus the unknown class (a model made "
                       "without a corpus predicts the original's 64 characters and the unknown one).",
                   high=SIZE_MAX),
    "batch": count(1, "Streams the shapes are given for.", high=SIZE_MAX),
    # `eval` scores a text as this many contiguous pieces side by side (the columns of one batch).
    "streams": count(64, "Score the text as N contiguous pieces side by side (much faster); by default one "
                         "per 16 KiB of text, at most 64. 1 gives the single-stream figure.", high=SIZE_MAX),
}
DRAWING = {"layers": 1, "graph": "unrolled", "steps": OPTIONS["steps"].default, "vocab": OPTIONS["vocab"].default,
           "batch": OPTIONS["batch"].default}
EVAL_BYTES_PER_STREAM = 16 * 1024


def eval_streams(text_bytes: int) -> int:
    """The streams `eval` scores a text of `text_bytes` with when --streams is not given."""
    return max(1, min(OPTIONS["streams"].default, text_bytes // EVAL_BYTES_PER_STREAM))


# ----- reading settings ------------------------------------------------------------------------

def load(path: str | Path | dict | None = None, /, **overrides) -> dict:
    """Validated settings, {section: {key: value}}: the defaults, then the TOML file at `path`
    (or a shipped config by name: "quick", "shakespeare"; or a dict of sections, as a file's
    TOML reads, such as settings this function returned), then `overrides`, each a key by its
    name (``hidden=512``) or, through ``**{...}``, as "section.key". None leaves a setting as
    it is. Mistakes raise UserError with the sentence the command line gives.

    >>> settings = load("quick", epochs=2, graph="unrolled")
    >>> settings["run"]["epochs"], settings["model"]["graph"]
    (2, 'unrolled')
    """
    return load_config(path if path is None or isinstance(path, dict) else str(path), by_section(overrides),
                       source=KEYWORDS)


def by_section(overrides: dict) -> dict:
    """{"epochs": 2, "model.graph": "unrolled"} as {"run.epochs": 2, "model.graph": "unrolled"}; an
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
    for the file's content, checked as it would be), then by `assignments` (--set's
    "section.key=value" texts, in order), then by `overrides`, a flat dict like
    {"run.epochs": 5} where None means "flag not given", which errors say came from `source`."""
    config = copy.deepcopy(DEFAULTS)
    for where, values in _layers(path, overrides, assignments, source):
        for section, keys in _validated(where, values).items():
            config[section].update(keys)
    _check_together(config)
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


def _check_together(config: dict) -> None:
    """The rules that tie one setting to another."""
    train = config["train"]
    if train["min_lr"] >= train["learning_rate"]:
        raise UserError(f"'min_lr' in [train] ({train['min_lr']}) must be below learning_rate "
                        f"({train['learning_rate']}): a schedule decays from learning_rate towards min_lr; "
                        "lower min_lr or raise learning_rate")


def _nested(flat: dict) -> dict:
    """{"run.epochs": 5} as {"run": {"epochs": 5}}."""
    nested: dict[str, dict] = {}
    for dotted, value in flat.items():
        section, _, key = dotted.partition(".")
        nested.setdefault(section, {})[key] = value
    return nested


def _assignment(text: str) -> tuple[str, object]:
    """--set's "section.key=value" as ("section.key", value): the value is read as a TOML value
    (3, 0.002, "fused", ["a.txt", "b/"], true), or else taken as it is, as a string, so that
    model.graph=unrolled needs no quotes."""
    dotted, equals, raw = text.partition("=")
    dotted = dotted.strip()
    section, dot, key = dotted.partition(".")
    if not (equals and section and dot and key):
        owner = SECTION_OF.get(dotted)
        form = (f"--set {dotted}=VALUE" if section and dot and key else
                f"--set {owner}.{dotted}={raw or 'VALUE'}" if owner else f"--set SECTION.KEY=VALUE, e.g. {SET_EXAMPLE}")
        raise UserError(f"--set {text} is not SECTION.KEY=VALUE: write it as {form}")
    parser = _toml_parser(SET_OPTION)
    try:
        parsed = parser.loads(f"value = {raw}")
    except parser.TOMLDecodeError:
        parsed = {}
    return dotted, parsed["value"] if set(parsed) == {"value"} else raw


def is_single_cpu(context: str) -> bool:
    """Whether a (valid) context names this machine's one CPU device, which libmxnet runs best on
    its naive engine (bridge/paths.py); Julia parses the devices themselves."""
    return context in ("cpu", "cpu:0")


def shipped_configs() -> dict[str, Path]:
    """The configs pyjlchar ships (config/*.toml), by name: "shakespeare", "quick"."""
    from .bridge.paths import ROOT

    return {p.stem: p for p in sorted((ROOT / "config").glob("*.toml"))}


def config_path(given_path: str) -> Path:
    """The file `--config` names: a path, or the name of a shipped config (`--config quick`)."""
    path = Path(given_path).expanduser()
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
    """`values` ({section: {key: value}}) checked against SECTIONS, floats made float."""
    result = {}
    for section, keys in values.items():
        if section not in SECTIONS and not isinstance(keys, dict):
            owner = SECTION_OF.get(section)
            place = f"move it under [{owner}]" if owner else f"remove it (the sections are {', '.join(SECTIONS)})"
            raise UserError(f"{source}: setting '{section}' is outside any [section]; {place}")
        if section not in SECTIONS:
            hint = _suggestion(section, SECTIONS, "[{}]")
            raise UserError(f"{source}: unknown section [{section}]{hint}; known sections: {', '.join(SECTIONS)}")
        if not isinstance(keys, dict):
            raise UserError(f"{source}: {section} must be a table of settings; write it as [{section}] "
                            "followed by key = value lines")
        known = SECTIONS[section].keys
        result[section] = {}
        for key, value in keys.items():
            if key not in known:
                elsewhere = SECTION_OF.get(key)
                hint = (f" ('{key}' is in [{elsewhere}]: move it there)" if elsewhere else
                        _suggestion(key, known, "'{}'"))
                raise UserError(f"{source}: unknown key '{key}' in [{section}]{hint}; known keys: {', '.join(known)}")
            result[section][key] = checked(source, section, key, value, known[key])
    return result


_TYPE_NAMES = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false",
               list: "a string or a list of strings"}


def checked(source: str, section: str, key: str, value, setting: Setting):
    """`value` for `setting` (floats made float), or a UserError naming `source`, section and key."""
    where = f"{source}: '{key}' in [{section}]" if section else f"{source}: {key}"
    example = (f"for example {SET_OPTION} {section}.{key}={toml_text(setting.default)}"
               if source.startswith(SET_OPTION) else f"for example {key}={setting.default!r}" if source == KEYWORDS
               else f"for example {key} = {toml_text(setting.default)}")
    if not _has_type(value, setting.type):
        raise UserError(f"{where} must be {_TYPE_NAMES[setting.type]}, not {_shown(value)}; {example}")
    if setting.type is float:
        value = float(value)
    if not satisfies(value, setting):
        raise UserError(f"{where} must be {setting.rule}, not {_shown(value)}; {example}")
    return value


def satisfies(value, s: Setting) -> bool:
    """Whether a value of the right type keeps the setting's rule."""
    if s.choices:
        return value in s.choices
    if s.type is list:
        return value != "" if isinstance(value, str) else value != [] and all(isinstance(p, str) and p for p in value)
    if s.type is str:
        if s.pattern is not None and re.fullmatch(s.pattern, value) is None:
            return False
        return value != "" and (s.pattern != CONTEXT_PATTERN or _distinct_devices(value))
    if s.type in (int, float):
        return ((value > s.low if s.above else value >= s.low) and
                (value < s.high if s.below else value <= s.high))
    return True


def _distinct_devices(context: str) -> bool:
    ids = context.partition(":")[2].split(",") if ":" in context else []
    return len(set(ids)) == len(ids)


def _has_type(value, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):  # bool is an int subclass, but true is never a count
        return False
    if expected is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    if expected is list:
        return isinstance(value, (str, list))
    return isinstance(value, expected)


def _shown(value) -> str:
    """A value as an error quotes it: as TOML would write it, cut short when long."""
    text = toml_text(value) if isinstance(value, (bool, int, float, str)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def toml_text(value) -> str:
    """`value` as it would be written in a TOML file."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):  # a basic string: its control characters escaped, so it stays one line
        return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7f else "\\" + c if c in '"\\' else c
                             for c in value) + '"'
    return repr(value)


def _suggestion(name: str, known, template: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {template.format(close[0])}?)" if close else ""


# ----- what derives from the table -------------------------------------------------------------

JULIA_FILE = Path("julia") / "src" / "CharLSTM" / "settings.jl"
README_MARKS = ("<!-- settings table: python -m pyjlchar.settings writes it -->", "<!-- end of the settings table -->")


def markdown_table() -> str:
    """The README's table of every setting, section by section."""
    rows = ["| setting | default | what it is | allowed |", "|---|---|---|---|"]
    for name, section in SECTIONS.items():
        for key, s in section.keys.items():
            rows.append(f"| `{name}.{key}` | `{toml_text(s.default)}` | {s.help} | {s.rule} |")
    return "\n".join(rows)


_JULIA_TYPES = {int: "Int", float: "Float64", bool: "Bool", str: "String", list: "Union{String,Vector{String}}"}


def _julia_condition(key: str, s: Setting) -> str:
    v = f"s.{key}"
    if s.choices:
        return f"{v} in ({', '.join(_julia_symbol(c) for c in s.choices)}{',' if len(s.choices) == 1 else ''})"
    if s.type is list:
        return f"({v} isa String ? !isempty({v}) : !isempty({v}) && all(!isempty, {v}))"
    if s.type is str:
        checks = [f"!isempty({v})"]
        if s.pattern is not None:
            checks.append(f'occursin(r"^(?:{s.pattern})$", {v})')
        return " && ".join(checks)
    if s.type in (int, float):
        low = f"{_julia_number(s.low, s.type)} {'<' if s.above else '<='} {v}"
        high = f"{v} {'<' if s.below else '<='} {_julia_number(s.high, s.type)}"
        return f"{low} && {high}"
    return "true"


def _julia_symbol(name: str) -> str:
    return f":{name}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f'Symbol("{name}")'


def _julia_number(x, kind: type) -> str:
    if kind is int:
        return str(int(x))
    return "3.4028234e38" if x == FLOAT32_MAX else repr(float(x))


def julia_source() -> str:
    """julia/src/CharLSTM/settings.jl: each section as a struct with a keyword constructor
    (Base.@kwdef, no defaults: Python's are the only ones) and its `check`."""
    out = ["# Written by `python -m pyjlchar.settings` from the table in pyjlchar/settings.py: edit the",
           "# table there, not this file (a test fails when this file is stale). Each section of the",
           "# settings is a struct built by keyword (`settings(T, section)` in sections.jl) and checked",
           "# by its `check`, whose error names the key and its rule.", ""]
    for name, section in SECTIONS.items():
        fields = {**section.keys, **section.extra}
        out.append(f'"""[{name}]: {section.help}."""')
        out.append(f"Base.@kwdef struct {section.struct}")
        for key, s in fields.items():
            jtype = "Symbol" if s.choices else _JULIA_TYPES[s.type]
            out.append(f"    {key}::{jtype}   # {s.help}")
        out.append("end")
        out.append("")
        out.append(f"function check(s::{section.struct})")
        for key, s in fields.items():
            out.append(f"    {_julia_condition(key, s)} ||")
            out.append(f'        throw(SettingError("{name}", "{key}", {julia_string(s.rule)}, s.{key}))')
        out.append("    return s")
        out.append("end")
        out.append("")
    out.append("const SECTION_STRUCTS = (" + ", ".join(f"{name} = {s.struct}" for name, s in SECTIONS.items()) + ")")
    return "\n".join(out) + "\n"


def julia_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def write_derived(root: Path) -> list[Path]:
    """Writes what derives from the table: the Julia structs and the README's table; returns
    the files that changed."""
    changed = []
    julia = root / JULIA_FILE
    if not julia.exists() or julia.read_text() != julia_source():
        julia.write_text(julia_source())
        changed.append(julia)
    readme = root / "README.md"
    text = readme.read_text()
    start, end = (text.index(mark) for mark in README_MARKS)
    updated = text[:start + len(README_MARKS[0])] + "\n" + markdown_table() + "\n" + text[end:]
    if updated != text:
        readme.write_text(updated)
        changed.append(readme)
    return changed


if __name__ == "__main__":
    from .bridge.paths import ROOT

    for path in write_derived(ROOT):
        print(f"wrote {path}", file=sys.stderr)
