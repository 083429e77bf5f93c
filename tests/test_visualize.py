"""`pyjlchar visualize`: DOT of the unrolled LSTM (and of the fused graph), on the real Julia,
libmxnet and Graphviz."""
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyjlchar import bridge, commands
from pyjlchar.cli import cli
from pyjlchar.errors import JuliaError, UserError
from pyjlchar.settings import DEFAULTS, SECTIONS

REPO = Path(__file__).resolve().parents[1]


def visualize(*args: str) -> str:
    """The command's stdout, run in this process (Julia is started once for the session)."""
    result = CliRunner().invoke(cli, ["visualize", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "pyjlchar", "visualize", *args], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)


def laid_out(dot: str) -> dict:
    """The graph as Graphviz itself reads it (`dot -Tjson0`); fails if `dot` rejects it."""
    done = subprocess.run(["dot", "-Tjson0"], input=dot, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def op_counts(graph: dict) -> collections.Counter:
    """Drawn nodes per operator (the label's second line); variables count under their name."""
    lines = [node["label"].split("\\n") for node in graph["objects"]]
    return collections.Counter(label[1] if len(label) > 1 else "variable" for label in lines)


def expected_ops(layers: int, steps: int, dropout: float) -> dict:
    cells = steps * layers
    counts = {"FullyConnected": steps * (1 + 2 * layers + 1),  # embed, i2h and h2h per layer, pred
              "Activation": cells * 5,  # 4 gates and tanh(c)
              "SliceChannel": cells, "elemwise_add": cells * 2, "elemwise_mul": cells * 3,
              "SoftmaxOutput": steps, "BlockGrad": 2 * layers}  # last c and h of each layer
    if dropout > 0:  # on the input of layers >= 2 and of the decoder: one per cell
        counts["Dropout"] = cells
    return counts


def expected_edges(layers: int, steps: int, dropout: float) -> int:
    """Edges between ops: data, label, weight and initial-state variables are not drawn."""
    per_cell = 1 + 2 + 1 + 4 + 1 + 2 + 2 + 1 + 2  # i2h input, sum, gates, gates, kept_c, new_c, next_c, tanh, next_h
    from_previous_step = 2 * (steps - 1) * layers  # h2h and kept_c read the previous h and c
    dropouts = steps * layers if dropout > 0 else 0  # each reads one op
    return steps * layers * per_cell + from_previous_step + dropouts + 2 * steps + 2 * layers


@pytest.mark.parametrize("layers, steps, dropout", [(1, 2, 0), (2, 3, 0), (2, 2, 0.5), (3, 1, 0.2)])
def test_nodes_and_edges_follow_the_unrolled_structure(jl, layers, steps, dropout):
    graph = laid_out(visualize("--layers", str(layers), "--steps", str(steps), "--dropout", str(dropout)))
    assert op_counts(graph) == expected_ops(layers, steps, dropout)
    assert len(graph["edges"]) == expected_edges(layers, steps, dropout)


def test_show_params_draws_weights_and_initial_states(jl):
    layers, steps = 2, 3
    graph = laid_out(visualize("--layers", str(layers), "--steps", str(steps), "--show-params"))
    variables = {node["name"] for node in graph["objects"] if "\\n" not in node["label"]}
    weights = {"ptb_embed_weight", "ptb_pred_weight", "ptb_pred_bias"} | {
        f"ptb_l{l}_{fc}_{kind}" for l in (1, 2) for fc in ("i2h", "h2h") for kind in ("weight", "bias")}
    states = {f"ptb_l{l}_init_{s}" for l in (1, 2) for s in "ch"}
    assert variables == weights | states
    # Every step's embed, i2h, h2h and pred read their weights; the first step reads the states.
    weight_edges = steps * (1 + 4 * layers + 2) + 2 * layers
    assert len(graph["edges"]) == expected_edges(layers, steps, 0) + weight_edges


def test_ops_are_coloured_by_kind_and_labelled_with_parameters(jl):
    graph = laid_out(visualize("--dropout", "0.25"))
    nodes = {node["name"]: node for node in graph["objects"]}
    fill = {name: node["fillcolor"] for name, node in nodes.items()}
    assert fill["ptb_embed_1"] == "#fb8072" and fill["ptb_lstm_1_l1_in_gate"] == "#ffffb3"
    assert fill["ptb_softmax_2"] == fill["ptb_l1_last_h"] == "#b3de69"
    assert fill["ptb_lstm_1_l1_gates"] == fill["ptb_pred_dropout_1"] == "#fccde5"
    assert nodes["ptb_lstm_2_l1_i2h"]["label"] == "ptb_lstm_2_l1_i2h\\nFullyConnected\\nnum_hidden=1024"
    assert nodes["ptb_pred_dropout_1"]["label"] == "ptb_pred_dropout_1\\nDropout\\np=0.25"
    assert all(edge["dir"] == "back" for edge in graph["edges"])


def edge_labels(dot: str) -> dict:
    """(consumer, producer) -> shape label."""
    graph = laid_out(dot)
    names = [node["name"] for node in graph["objects"]]
    return {(names[edge["tail"]], names[edge["head"]]): edge["label"] for edge in graph["edges"]}


def test_edges_carry_the_inferred_shapes(jl):
    labels = edge_labels(visualize("--layers", "1", "--steps", "2"))
    assert labels[("ptb_lstm_1_l1_i2h", "ptb_embed_1")] == "1x256"
    assert labels[("ptb_lstm_1_l1_sum", "ptb_lstm_1_l1_i2h")] == "1x1024"
    # Each consumer of SliceChannel gets its own output, named by index.
    assert labels[("ptb_lstm_1_l1_in_gate", "ptb_lstm_1_l1_gates")] == "out0: 1x256"
    assert labels[("ptb_lstm_1_l1_out_gate", "ptb_lstm_1_l1_gates")] == "out3: 1x256"
    assert labels[("ptb_softmax_2", "ptb_pred_2")] == "1x65"

    labels = edge_labels(visualize("--hidden", "32", "--embed", "16", "--vocab", "10", "--batch", "3"))
    assert labels[("ptb_lstm_1_l1_i2h", "ptb_embed_1")] == "3x16"
    assert labels[("ptb_lstm_1_l1_sum", "ptb_lstm_1_l1_h2h")] == "3x128"
    assert labels[("ptb_lstm_2_l1_forget_gate", "ptb_lstm_2_l1_gates")] == "out2: 3x32"


def test_shapes_match_libmxnets_inference_of_the_network(jl):
    # The inputs of SoftmaxOutput and BlockGrad have the shapes of the network's outputs.
    labels = edge_labels(visualize("--layers", "2", "--steps", "2", "--hidden", "48", "--batch", "5"))
    output_shapes = jl.eval("""
        let C = PyJLChar.CharLSTM,
            spec = C.ModelSpec(; name = "ptb", cell = :lstm, graph = :unrolled, layers = 2, hidden = 48, embed = 256,
                               dropout = 0.0, n_class = 65),
            lstm = C.LSTM(spec, 2; output_states = true)
            inputs = [C.lstm_data_shapes(spec, 2, 5); C.lstm_label_shapes(spec, 2, 5)]
            _, shapes, _ = PyJLChar.mx.infer_shape(lstm, Dict(inputs))
            Dict(replace(string(name), "_output" => "") => join(reverse(shape), "x")
                 for (name, shape) in zip(PyJLChar.mx.list_outputs(lstm), shapes))
        end""")
    assert len(output_shapes) == 6 and output_shapes["ptb_l2_last_h"] == "5x48"
    into_outputs = {consumer: label for (consumer, _), label in labels.items() if consumer in output_shapes}
    assert into_outputs == output_shapes


def test_same_arguments_give_the_same_bytes_in_any_process(jl):
    args = ("--layers", "2", "--steps", "2", "--dropout", "0.2", "--show-params")
    first = visualize(*args)
    assert visualize(*args) == first  # again in this process, whose auto-name counters moved on
    fresh = run_cli(*args)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout == first


def test_format_svg_writes_a_drawing(jl, tmp_path):
    out = tmp_path / "lstm.svg"
    visualize("--format", "svg", "-o", str(out))
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    assert "ptb_lstm_1_l1_gates" in svg and "out3: 1x256" in svg
    visualize("-o", str(tmp_path / "by_suffix.svg"))  # the suffix chooses svg
    assert "<svg" in (tmp_path / "by_suffix.svg").read_text()


def test_missing_dot_is_one_clear_sentence(tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # python runs, dot is absent
    done = run_cli("--format", "svg", "-o", str(tmp_path / "lstm.svg"), env=env)
    assert done.returncode == 1
    assert "install Graphviz (e.g. apt-get install graphviz)" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "lstm.svg").exists()


def test_fused_graph_draws_the_rnn_operator_from_the_same_model(jl):
    layers, steps = 2, 3
    graph = laid_out(visualize("--graph", "fused", "--layers", str(layers), "--steps", str(steps)))
    ops = op_counts(graph)
    assert ops["RNN"] == 1 and "SliceChannel" in ops and "Activation" not in ops
    assert ops["FullyConnected"] == 2 and ops["SoftmaxOutput"] == 1 and ops["BlockGrad"] == 2 * layers
    labels = edge_labels(visualize("--graph", "fused", "--layers", "2", "--steps", "3", "--batch", "4"))
    assert labels[("ptb_time_major", "ptb_embed")] == "4x3x256"      # batch, time, embedding
    assert labels[("ptb_batch_major", "ptb_lstm")] == "out0: 3x4x256"  # time-major, as the RNN runs
    assert labels[("ptb_softmax", "ptb_pred")] == "4x3x65"


def test_the_default_drawing_is_the_originals_unrolled_picture(jl):
    assert visualize() == visualize("--graph", "unrolled", "--layers", "1", "--steps", "2", "--vocab", "65",
                                    "--batch", "1", "--cell", "lstm")
    assert visualize("--graph", "fused") != visualize()


def test_julia_refuses_an_invalid_model_for_callers_other_than_the_cli(jl):
    # settings.py and the CLI's options refuse these first; Julia's check of the [model] section,
    # written from the same table, keeps the invariant.
    for key, value in (("layers", 0), ("dropout", 1.0), ("cell", "gru"), ("graph", "lstm")):
        with pytest.raises(UserError) as caught:
            bridge.run(commands.graph({"model": {**DEFAULTS["model"], key: value}}, vocab=5, steps=2, batch=1))
        assert str(caught.value).startswith(f"'{key}' in [model] must be {SECTIONS['model'].keys[key].rule}, not ")
    with pytest.raises(JuliaError, match="missing hidden"):   # a section crosses whole
        bridge.run(commands.graph({"model": {k: v for k, v in DEFAULTS["model"].items() if k != "hidden"}},
                                  vocab=5, steps=2, batch=1))


@pytest.mark.parametrize("args, message", [
    (["--layers", "0"], "error: command line: 'layers' in [model] must be an integer from 1 to 1024, not 0"),
    (["--steps", "-1"], "Invalid value for '--steps'"),
    (["--vocab", "0"], "Invalid value for '--vocab'"),
    (["--hidden", "many"], "'many' is not a valid integer"),
    (["--dropout", "1"], "error: command line: 'dropout' in [model] must be a number from 0 up to but excluding 1"),
    (["--dropout", "-0.1"], "'dropout' in [model] must be a number from 0 up to but excluding 1, not -0.1"),
    (["--graph", "lstm"], "Invalid value for '--graph': 'lstm' is not one of 'fused', 'unrolled'."),
    (["--cell", "fused"], "Invalid value for '--cell': 'fused' is not 'lstm'."),   # the old --cell fused
    (["--format", "gif", "-o", "x.gif"], "Invalid value for '--format'"),
    (["--format", "png"], "--format png writes a file: add -o FILE"),
])
def test_bad_options_are_refused_clearly(args, message):
    done = run_cli(*args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
