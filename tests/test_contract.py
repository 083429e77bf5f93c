"""The contract between the Python and Julia halves: every call sends the keywords its Julia
command takes, every setting's name, default, type and rule live in settings.py alone (the
Julia structs, the flags, the README table follow it), and every import points down."""
import ast
import inspect
import json
from pathlib import Path

import click
import pytest

from pyjlchar import api, cli, commands, settings
from pyjlchar.bridge import paths
from pyjlchar.settings import DEFAULTS, DRAWING, OPTIONS, SECTIONS

PACKAGE = Path(commands.__file__).parent
JULIA_SRC = paths.ROOT / "julia" / "src"
HERE = Path(__file__).parent


def julia_keywords(jl, fn: str) -> set:
    """The keyword arguments the Julia function `fn` declares (its only method)."""
    return set(jl.eval(f"string.(Base.kwarg_decl(only(methods({fn}))))"))


def all_calls(tmp_path, monkeypatch) -> list:
    monkeypatch.setenv("DMLC_ROLE", "server")   # ps_node's call is a server's
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text\n" * 100)
    checked = settings.load_config(None, {"data.corpus": str(corpus)})
    job = settings.load_config(None, {"compute.kvstore": "dist_sync"})
    handle = 1
    return [commands.train(checked, resume=False), commands.ps_node(job),
            commands.load_model("run/ptb", "cpu", graph="fused"),
            commands.sample(handle, checked, seed=1), commands.open_stream(handle, checked, seed=None),
            commands.stream_next(handle, 32), commands.free([handle]),
            commands.evaluate(handle, [str(corpus)], streams=None), commands.evaluate_text(handle, "some text", 1),
            commands.corpus_info(checked), commands.graph(checked, vocab=DRAWING["vocab"], steps=2, batch=1),
            commands.bench_train(checked, 1.0, warmup_batches=1, validate=False),
            commands.bench_sample(checked, 65, 1, 1.0), commands.system_info()]


def test_every_call_passes_exactly_the_keywords_its_julia_command_takes(jl, tmp_path, monkeypatch):
    calls = all_calls(tmp_path, monkeypatch)
    julia_commands = set(jl.eval("string.(filter(n -> getfield(PyJLChar.Commands, n) isa Function && "
                                 "n != :eval && n != :include, names(PyJLChar.Commands; all = false)))"))
    assert {c.fn.rsplit(".", 1)[1] for c in calls} >= julia_commands
    for call in calls:
        assert set(call.kwargs) == julia_keywords(jl, call.fn), call.fn


def test_julia_commands_have_no_defaults_of_their_own(jl, tmp_path, monkeypatch):
    # A keyword without a default is required: leaving one out is an error, not a second default.
    for call in all_calls(tmp_path, monkeypatch):
        if not call.kwargs:
            continue
        declared = jl.eval(f"""try
                {call.fn}()
                "no error"
            catch e
                e isa UndefKeywordError ? "required" : string(typeof(e))
            end""")
        assert declared == "required", call.fn


def test_each_section_is_one_julia_struct_with_the_same_keys(jl):
    for name, section in SECTIONS.items():
        fields = jl.eval(f"string.(fieldnames(PyJLChar.CharLSTM.{section.struct}))")
        assert fields == [*section.keys, *section.extra], name


def test_sections_cross_whole_and_a_missing_or_unknown_key_is_refused(jl, tmp_path):
    (tmp_path / "a.txt").write_text("some text\n" * 100)
    call = commands.train(settings.load_config(None, {"data.corpus": str(tmp_path)}), resume=False)
    assert set(call.kwargs["model"]) == set(SECTIONS["model"].keys)
    assert json.loads(json.dumps(call.kwargs["train"])) == DEFAULTS["train"]
    for broken, problem in (({**DEFAULTS["run"], "epoch": 2}, "unknown epoch"),
                            ({"epochs": 2}, "missing checkpoint_dir, eval_every")):
        message = jl.eval(f"""try
                PyJLChar.CharLSTM.from_section(PyJLChar.CharLSTM.RunPolicy, PyJLChar.JSON.parse_json({json.dumps(json.dumps(broken))}))
                ""
            catch e
                sprint(showerror, e)
            end""")
        assert message.startswith("ArgumentError: PyJLChar.CharLSTM.RunPolicy takes the keys epochs,"), message
        assert message.endswith(problem) or f"{problem}," in message, message


def test_the_generated_julia_structs_and_the_readme_table_are_fresh():
    # `python -m pyjlchar.settings` writes both from the table; edit settings.py, then run it.
    assert (paths.ROOT / settings.JULIA_FILE).read_text() == settings.julia_source()
    readme = (paths.ROOT / "README.md").read_text()
    start, end = (readme.index(mark) for mark in settings.README_MARKS)
    assert readme[start + len(settings.README_MARKS[0]):end].strip() == settings.markdown_table().strip()


def setting_options(command: click.Command) -> list:
    return [p for p in command.params if isinstance(p, click.Option) and p.name in settings.SECTION_OF]


def parsed_without_settings(command: click.Command) -> dict:
    """The parameters `command` gets when only its required ones are given."""
    args = []
    for p in command.params:
        if p.required:
            args += [p.opts[0], "x"] if isinstance(p, click.Option) else ["x"]
    return command.make_context(command.name, args).params


def test_flags_are_made_from_the_table_with_no_default_of_their_own():
    # A flag left out is None (or no values), so that the config, --set and the table decide.
    seen = 0
    for command in [*cli.cli.commands.values(), *cli.cli.commands["corpus"].commands.values()]:
        given = parsed_without_settings(command) if setting_options(command) else {}
        for option in setting_options(command):
            seen += 1
            setting = SECTIONS[settings.SECTION_OF[option.name]].keys[option.name]
            assert given[option.name] in (None, ()), (command.name, option.name)
            if setting.choices:
                assert tuple(option.type.choices) == setting.choices, option.name
            shown = DRAWING.get(option.name, setting.default) if command.name == "visualize" else setting.default
            assert f"Default: {settings.toml_text(shown)}." in option.help, (command.name, option.name)
            assert setting.help in option.help, option.name
    assert seen > len(settings.SECTION_OF)


def test_a_commands_own_options_come_from_the_options_table():
    for command, name in ((cli.visualize, "steps"), (cli.visualize, "vocab"), (cli.evaluate, "streams")):
        option = next(p for p in command.params if p.name == name)
        assert option.type.min == OPTIONS[name].low and option.type.max == OPTIONS[name].high, name
        assert OPTIONS[name].help in option.help


def keywords(fn) -> dict:
    """The keyword parameters of `fn` and their defaults."""
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and name != "self"}


def test_api_keywords_are_setting_keys_that_default_to_the_table():
    # The API types no default: a keyword left out is None, and the table fills it in.
    assert set(keywords(api.Model.sample)) - {"seed", "on_progress"} == set(DEFAULTS["sample"])
    assert set(keywords(api.Model.stream)) - {"seed"} == set(DEFAULTS["sample"]) - {"num_samples"}
    assert set(keywords(api.graph)) - {"show_params", "title"} == (set(DEFAULTS["model"]) - {"name"}) | set(OPTIONS) - {"streams"}
    assert set(keywords(api.load)) == {"checkpoint", "graph", "context"}
    for fn in (api.Model.sample, api.Model.stream, api.graph, api.load, api.corpus_info):
        for name, default in keywords(fn).items():
            if name in settings.SECTION_OF or name in OPTIONS:
                assert default is None, (fn.__name__, name)
    assert "settings" in inspect.signature(api.train).parameters


def test_the_package_exports_the_api():
    import pyjlchar

    for name in pyjlchar.__all__:
        assert getattr(pyjlchar, name) is not None, name
        assert name in pyjlchar.__doc__ or name in ("TextStream", "History", "ProgressHandler", "JuliaError"), name
    assert pyjlchar.settings.load is settings.load


# ----- layers ------------------------------------------------------------------------------------

# pyjlchar's layers, bottom up; a module may import its own layer's modules and lower layers'.
PYTHON_LAYERS = [{"errors"}, {"bridge"}, {"settings", "corpus"}, {"distributed"}, {"commands"}, {"show"},
                 {"api"}, {"ops"}, {"cli"}, {"__init__", "__main__"}]
LAYER_OF = {name: i for i, names in enumerate(PYTHON_LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


KNOWN = {module_name(p) for p in PACKAGE.rglob("*.py")}


def imported_modules(path: Path) -> set:
    return imports_in(path.read_text(), module_name(path), path.name == "__init__.py")


def imports_in(source: str, importer: str, is_package: bool = False) -> set:
    """The pyjlchar modules `source` (the module `importer`) imports, at the top or inside functions, resolved."""
    package = importer if is_package else importer.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = (package.rsplit(".", node.level - 1)[0] if node.level > 1 else package) if node.level else ""
            module = ".".join(filter(None, [base, node.module]))
            if module.startswith("pyjlchar"):
                found |= {f"{module}.{a.name}" for a in node.names} | {module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pyjlchar")}
    return found & KNOWN


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYER_OF[parts[1] if len(parts) > 1 else "__init__"]


def test_every_python_module_is_in_a_layer():
    for path in PACKAGE.rglob("*.py"):
        layer(module_name(path))


def test_python_modules_import_only_downward():
    # From the real import statements (ast), not a text search; pyjlchar itself (the package's
    # __init__, reached by `from pyjlchar import ...`) is the top.
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        importer = module_name(path)
        for imported in imported_modules(path) - {"pyjlchar"}:
            if layer(imported) > layer(importer):
                wrong.append(f"{importer} imports {imported}")
    assert not wrong, wrong


def test_the_layer_test_sees_an_upward_import():
    found = imports_in("def f():\n    from ..api import train\n    from . import paths\n", "pyjlchar.bridge.image")
    assert found == {"pyjlchar.api", "pyjlchar.bridge", "pyjlchar.bridge.paths"}
    assert layer("pyjlchar.api") > layer("pyjlchar.bridge.image")


# Julia: PyJLChar includes its parts in this order, and CharLSTM its folders in this order.
JULIA_PARTS = ["json.jl", "errors.jl", "mx/MXNet.jl", "CharLSTM/CharLSTM.jl", "info.jl", "Bridge.jl", "Commands.jl"]
CHARLSTM_FOLDERS = ["", "graph", "corpus", "files", "train", "use"]


@pytest.fixture(scope="module")
def layers_jl(jl):
    jl.eval(f'include({json.dumps(str(HERE / "layers.jl"))})')
    return jl


def test_pyjlchar_includes_its_parts_bottom_up(layers_jl):
    assert layers_jl.eval(f'module_includes({json.dumps(str(JULIA_SRC / "PyJLChar.jl"))})') == JULIA_PARTS


def test_charlstm_includes_its_folders_in_layer_order_and_nothing_uses_a_later_layer(layers_jl):
    files = layers_jl.eval(f'module_includes({json.dumps(str(JULIA_SRC / "CharLSTM" / "CharLSTM.jl"))})')
    folders = [f.rpartition("/")[0] for f in files]
    assert [CHARLSTM_FOLDERS.index(f) for f in folders] == sorted(CHARLSTM_FOLDERS.index(f) for f in folders)
    assert set(folders) == set(CHARLSTM_FOLDERS)
    # Files of one folder may use each other; a name first defined in a later folder may not be used.
    paths_ = [str(JULIA_SRC / "CharLSTM" / f) for f in files]
    upward = layers_jl.eval(f"upward_uses({json.dumps(paths_)}, {json.dumps([CHARLSTM_FOLDERS.index(f) for f in folders])})")
    assert upward == []


def test_the_julia_parts_use_only_the_parts_below_them(layers_jl):
    # CharLSTM never calls the bridge or the commands; the bridge never calls the commands.
    files, layers_ = [], []
    for i, part in enumerate(JULIA_PARTS):
        folder = (JULIA_SRC / part).parent
        inner = layers_jl.eval(f"module_includes({json.dumps(str(JULIA_SRC / part))})")
        for f in [part, *[str((folder / f).relative_to(JULIA_SRC)) for f in inner]]:
            files.append(str(JULIA_SRC / f))
            layers_.append(i)
    upward = layers_jl.eval(f"upward_uses({json.dumps(files)}, {json.dumps(layers_)}; modules_only = true)")
    assert upward == []


def test_the_julia_layer_check_sees_an_upward_use(layers_jl, tmp_path):
    high = tmp_path / "high.jl"
    low, bound = tmp_path / "low.jl", tmp_path / "bound.jl"
    low.write_text("f(x) = helper(x) + 1\nh(x) = Later.run(x)\n")
    bound.write_text("g(helper) = helper + 1\n")   # an argument of that name is not a use
    high.write_text("helper(x) = 2x\nmodule Later\nrun(x) = x\nend\n")
    both = f"[{json.dumps(str(low))}, {json.dumps(str(bound))}, {json.dumps(str(high))}], [0, 0, 1]"
    assert layers_jl.eval(f"upward_uses({both})") == [f"low.jl uses Later (from {high})", f"low.jl uses helper (from {high})"]
    assert layers_jl.eval(f"upward_uses({both}; modules_only = true)") == [f"low.jl uses Later (from {high})"]
