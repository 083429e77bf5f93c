"""The contract between the Python and Julia halves: every command's keywords are the Julia
command's, every default lives in config.py, and dependencies point one way."""
import ast
from pathlib import Path

import click
import pytest

from pyjlchar import charlstm, cli, config, runtime
from pyjlchar.config import DEFAULTS, DRAWING

PACKAGE = Path(charlstm.__file__).parent


def julia_keywords(jl, fn: str) -> set:
    """The keyword arguments the Julia function `fn` declares (its only method)."""
    return set(jl.eval(f"string.(Base.kwarg_decl(only(methods({fn}))))"))


def calls(tmp_path) -> list:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text\n" * 100)
    settings = config.load_config(None, {"data.corpus": str(corpus)})
    return [charlstm.train(settings, resume=False), charlstm.sample("run/ptb", settings, seed=1, cell=None),
            charlstm.evaluate("run/ptb", [str(corpus)], settings, cell="fused", streams=None),
            charlstm.corpus_info(str(corpus), 0.9),
            charlstm.graph(DEFAULTS["model"], vocab=DRAWING["vocab"], steps=2, batch=1),
            charlstm.bench_train(settings, 1.0, warmup_batches=1, validate=False),
            charlstm.bench_sample(settings, 65, 1, 1.0), charlstm.system_info()]


def test_every_call_passes_exactly_the_keywords_its_julia_command_takes(jl, tmp_path):
    for call in calls(tmp_path):
        assert set(call.kwargs) == julia_keywords(jl, call.fn), call.fn


def test_julia_commands_have_no_defaults_of_their_own(jl):
    # A keyword without a default is required: leaving one out is an error, not a second default.
    for fn in ("train", "sample", "evaluate", "corpus_info", "graph", "bench_train", "bench_sample"):
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
