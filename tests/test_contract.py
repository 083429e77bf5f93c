"""The contract between the Python and Julia halves: every command's keywords are the Julia
command's, every default lives in config.py, and dependencies point one way."""
import ast
import inspect
from pathlib import Path

import click
import pytest

from pyjlchar import api, charlstm, cli, config, runtime
from pyjlchar.config import DEFAULTS, DRAWING

PACKAGE = Path(charlstm.__file__).parent


def julia_keywords(jl, fn: str) -> set:
    """The keyword arguments the Julia function `fn` declares (its only method)."""
    return set(jl.eval(f"string.(Base.kwarg_decl(only(methods({fn}))))"))


def calls(tmp_path) -> list:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text\n" * 100)
    settings = config.load_config(None, {"data.corpus": str(corpus)})
    handle = 1
    return [charlstm.train(settings, resume=False), charlstm.load_model("run/ptb", settings, cell="fused"),
            charlstm.sample(handle, settings, seed=1), charlstm.open_stream(handle, settings, seed=None),
            charlstm.stream_next(handle, 32), charlstm.free([handle]),
            charlstm.evaluate(handle, [str(corpus)], streams=None), charlstm.evaluate_text(handle, "some text", 1),
            charlstm.corpus_info(str(corpus), 0.9),
            charlstm.graph(DEFAULTS["model"], vocab=DRAWING["vocab"], steps=2, batch=1),
            charlstm.bench_train(settings, 1.0, warmup_batches=1, validate=False),
            charlstm.bench_sample(settings, 65, 1, 1.0), charlstm.system_info()]


def test_every_call_passes_exactly_the_keywords_its_julia_command_takes(jl, tmp_path):
    for call in calls(tmp_path):
        assert set(call.kwargs) == julia_keywords(jl, call.fn), call.fn


def test_julia_commands_have_no_defaults_of_their_own(jl):
    # A keyword without a default is required: leaving one out is an error, not a second default.
    for fn in ("train", "load_model", "sample", "open_stream", "stream_next", "free", "evaluate", "evaluate_text",
               "corpus_info", "graph", "bench_train", "bench_sample"):
        declared = jl.eval(f"""try
                PyJLChar.Commands.{fn}()
                "no error"
            catch e
                e isa UndefKeywordError ? "required" : string(typeof(e))
            end""")
        assert declared == "required", fn


def option_default(command: click.Command, name: str):
    return next(p.default for p in command.params if p.name == name)


@pytest.mark.parametrize("command, option, expected", [
    (cli.visualize, "hidden", DEFAULTS["model"]["hidden"]), (cli.visualize, "embed", DEFAULTS["model"]["embed"]),
    (cli.visualize, "dropout", DEFAULTS["model"]["dropout"]), (cli.visualize, "cell", DEFAULTS["model"]["cell"]),
    (cli.visualize, "vocab", DRAWING["vocab"]), (cli.visualize, "layers", DRAWING["layers"]),
    (cli.bench, "layers", DEFAULTS["model"]["layers"]), (cli.bench, "hidden", DEFAULTS["model"]["hidden"]),
    (cli.bench, "seq_len", DEFAULTS["train"]["seq_len"]), (cli.bench, "batch_size", DEFAULTS["train"]["batch_size"]),
])
def test_command_options_take_their_defaults_from_config(command, option, expected):
    assert option_default(command, option) == expected


def test_train_and_sample_flags_name_settings_and_offer_their_choices():
    # A flag has no default of its own (None: not given), and offers the setting's choices.
    for command, required, section_of in (
            (cli.train, [], {"model": ("name", "layers", "hidden", "embed", "dropout", "cell"),
                             "train": ("optimizer", "learning_rate", "kvstore", "gradient_compression")}),
            (cli.sample, ["--checkpoint", "run/ptb"], {"sample": tuple(DEFAULTS["sample"])})):
        given = command.make_context(command.name, required).params
        for section, keys in section_of.items():
            for key in keys:
                option = next(p for p in command.params if p.name == key)
                assert given[key] is None, (command.name, key)
                if config.SETTINGS[section][key].choices:
                    assert tuple(option.type.choices) == config.SETTINGS[section][key].choices, key


def keywords(fn) -> dict:
    """The keyword parameters of `fn` and their defaults."""
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and name != "self"}


def test_api_keywords_are_the_config_keys():
    # Settings are config keys by name everywhere: train's **settings take each one (their
    # names are unique across sections), sampling takes the [sample] keys, graph the [model]
    # ones, with the commands' defaults.
    assert set(config.SECTION_OF) == {key for keys in DEFAULTS.values() for key in keys}
    assert set(keywords(api.Model.sample)) - {"seed", "on_progress"} == set(DEFAULTS["sample"])
    assert set(keywords(api.Model.stream)) - {"seed"} == set(DEFAULTS["sample"]) - {"num_samples"}
    drawing = keywords(api.graph)
    for key in DRAWING:
        assert drawing.pop(key) == DRAWING[key], key
    for key in set(DEFAULTS["model"]) - {"name"} - set(DRAWING):
        assert drawing.pop(key) == DEFAULTS["model"][key], key
    assert set(drawing) == {"show_params", "title"}
    assert set(keywords(api.load)) == {"checkpoint", "cell", "context"}
    assert option_default(cli.sample, "cell") == option_default(cli.evaluate, "cell") == keywords(api.load)["cell"]


def test_the_package_exports_the_api():
    import pyjlchar

    for name in pyjlchar.__all__:
        assert getattr(pyjlchar, name) is not None, name
        assert name in pyjlchar.__doc__ or name in ("TextStream", "History", "ProgressHandler", "JuliaError"), name
    assert pyjlchar.config.load is config.load


def imports_of(path: Path) -> set:
    """The pyjlchar modules `path` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pyjlchar."):
            found.add(node.module.split(".")[1])
    return found & {p.stem for p in PACKAGE.glob("*.py")}


def test_python_modules_import_one_way():
    graph = {p.stem: imports_of(p) for p in PACKAGE.glob("*.py")}
    done, path = set(), []

    def visit(module):
        assert module not in path, "import circle: " + " -> ".join(path[path.index(module):] + [module])
        if module in done:
            return
        path.append(module)
        for imported in graph[module]:
            visit(imported)
        path.pop()
        done.add(module)

    for module in graph:
        visit(module)


def test_charlstm_code_never_calls_the_bridge():
    for source in (Path(runtime.ROOT) / "julia" / "src" / "charlstm").glob("*.jl"):
        assert "Bridge." not in source.read_text(), source.name


def test_one_cpu_runs_on_the_naive_engine_and_several_devices_on_the_threaded_one(monkeypatch):
    monkeypatch.delenv("MXNET_ENGINE_TYPE", raising=False)
    assert runtime.engine_for(None) == runtime.engine_for([["cpu", 0]]) == "NaiveEngine"
    assert runtime.engine_for([["cpu", 0], ["cpu", 1]]) == runtime.engine_for([["gpu", 0]]) == "ThreadedEnginePerDevice"
    monkeypatch.setenv("MXNET_ENGINE_TYPE", "ThreadedEngine")
    assert runtime.engine_for(None) == "ThreadedEngine"
