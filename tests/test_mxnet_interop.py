"""Files written by the Julia `mx` layer against Apache MXNet's own Python API, both ways.

Apache MXNet's frontend (mxnet==1.9.1, numpy<1.24) cannot live in the project's `.venv`
(numpy 2 there), so a session fixture makes a separate venv once under
`<cache>/mxnet-python-venv` (bench/_mxnet_venv.py; about 20 s the first time) and these tests
run it in subprocesses. They skip only when that install fails (no PyPI, no cached wheel).

The size convention checked throughout: a Julia array of size (a, b) is the libmxnet array of
shape (b, a) with the same memory, so Julia's x[i, j] is libmxnet's [j-1, i-1].
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import _mxnet_venv  # noqa: E402

JULIA_HELPERS = r'''
module PyJLCharInterop
using PyJLChar
const mx = PyJLChar.mx

const TYPES = Dict("float32" => Float32, "float64" => Float64, "float16" => Float16, "uint8" => UInt8,
                   "int8" => Int8, "int32" => Int32, "int64" => Int64)
# The bridge carries float32/64, int32/64 and uint8 arrays: widen the others (exactly).
carried(a::Array{Float16}) = Float32.(a)
carried(a::Array{Int8}) = Int32.(a)
carried(a::Array) = a

"Saves the given arrays (converted to `types`) plus one built here; returns every Julia size."
function save_params(path, names, arrays, types)
    d = Dict{String,mx.NDArray}()
    for (name, a, t) in zip(names, arrays, types)
        d[name] = mx.NDArray(convert(Array{TYPES[t]}, a))
    end
    d["arg:fc_weight"] = mx.NDArray(reshape(Float32.(1:12), 3, 4))   # Julia size (3, 4)
    mx.save(path, d)
    return Dict(name => size(arr) for (name, arr) in d)
end

function load_params(path)
    loaded = mx.load(path, mx.NDArray)
    entries = loaded isa AbstractDict ? [string(k) => v for (k, v) in loaded] :
                                        [string(i - 1) => v for (i, v) in enumerate(loaded)]
    return Dict("named" => loaded isa AbstractDict,
                "arrays" => Dict(name => Dict("dtype" => mx.dtype_name(eltype(arr)),
                                              "size" => size(arr),
                                              "value" => carried(copy(arr))) for (name, arr) in entries))
end

const C = PyJLChar.CharLSTM
spec(layers, hidden, embed, n_class, graph) =
    C.ModelSpec(; name = "ptb", cell = :lstm, graph = Symbol(graph), layers, hidden, embed, n_class, dropout = 0.0)

function describe(sym, layers, seq_len, hidden, n_class, batch; graph = "unrolled")
    s = spec(layers, hidden, 1, n_class, graph)   # the embedding's size is not an input's
    inputs = Dict([C.lstm_data_shapes(s, seq_len, batch); C.lstm_label_shapes(s, seq_len, batch)])
    arg_sizes, out_sizes, aux_sizes = mx.infer_shape(sym, inputs)
    return Dict("arguments" => string.(mx.list_arguments(sym)), "outputs" => string.(mx.list_outputs(sym)),
                "aux" => string.(mx.list_auxiliary_states(sym)),
                "input_sizes" => Dict(string(k) => Tuple(v) for (k, v) in inputs),
                "arg_sizes" => Tuple.(arg_sizes), "out_sizes" => Tuple.(out_sizes),
                "aux_sizes" => Tuple.(aux_sizes), "json" => mx.to_json(sym))
end

function save_lstm(path, layers, seq_len, hidden, embed, n_class, batch; output_states = false, graph = "unrolled")
    sym = C.LSTM(spec(layers, hidden, embed, n_class, graph), seq_len; output_states = output_states)
    mx.save(path, sym)
    return describe(sym, layers, seq_len, hidden, n_class, batch; graph = graph)
end

load_lstm(path, layers, seq_len, hidden, n_class, batch) =
    describe(mx.load(path, mx.SymbolicNode), layers, seq_len, hidden, n_class, batch)
end
'''

# Run by Apache MXNet's Python: load a .params file, hand its arrays back as an .npz + JSON.
MXNET_LOAD_PARAMS = r'''
import json, sys
import numpy as np, mxnet as mx
loaded = mx.nd.load(sys.argv[1])
names = sorted(loaded) if isinstance(loaded, dict) else None
arrays = [loaded[n] for n in names] if names is not None else loaded
np.savez(sys.argv[2], *[a.asnumpy() for a in arrays])
json.dump({"names": names, "shapes": [list(a.shape) for a in arrays],
           "dtypes": [np.dtype(a.dtype).name for a in arrays]}, open(sys.argv[3], "w"))
'''

# Run by Apache MXNet's Python: write .params files (named and unnamed) and the values it wrote.
MXNET_SAVE_PARAMS = r'''
import json, sys
import numpy as np, mxnet as mx
rng = np.random.RandomState(1)
arrays = {
    "arg:fc_weight": rng.randn(4, 3).astype("float32"),
    "arg:fc_bias": rng.randn(4).astype("float32"),
    "arg:conv_weight": rng.randn(8, 3, 5, 5).astype("float64"),
    "aux:bn_moving_mean": rng.randn(8).astype("float16"),
    "arg:ids": rng.randint(-2**31, 2**31 - 1, size=(2, 5, 3)).astype("int32"),
    "arg:count": np.array([2**62 + 3, -7, 0], dtype="int64"),
    "arg:bytes": rng.randint(0, 256, size=(6, 2)).astype("uint8"),
    "arg:small": rng.randint(-128, 128, size=(3, 3)).astype("int8"),
}
mx.nd.save(sys.argv[1], {k: mx.nd.array(v, dtype=v.dtype) for k, v in arrays.items()})
mx.nd.save(sys.argv[2], [mx.nd.array(arrays["arg:fc_weight"], dtype="float32"),
                         mx.nd.array(arrays["arg:ids"], dtype="int32")])
names = sorted(arrays)
np.savez(sys.argv[3], *[arrays[n] for n in names])
json.dump(names, open(sys.argv[4], "w"))
'''

# Run by Apache MXNet's Python: describe a symbol file as libmxnet sees it through mx.sym.
MXNET_DESCRIBE = r'''
def describe(sym, input_shapes):
    arg, out, aux = sym.infer_shape(**{k: tuple(v) for k, v in input_shapes.items()})
    return {"arguments": sym.list_arguments(), "outputs": sym.list_outputs(),
            "aux": sym.list_auxiliary_states(), "arg_shapes": [list(s) for s in arg],
            "out_shapes": [list(s) for s in out], "aux_shapes": [list(s) for s in aux],
            "json": sym.tojson()}
'''

MXNET_LOAD_SYMBOL = MXNET_DESCRIBE + r'''
import json, sys
import mxnet as mx
print(json.dumps(describe(mx.sym.load(sys.argv[1]), json.loads(sys.argv[2]))))
'''

# Builds the char-lstm with mx.sym (bench/_mxnet_python_step.py, the benchmark's graph).
MXNET_SAVE_LSTM = MXNET_DESCRIBE + r'''
import json, sys
import mxnet as mx
sys.path.insert(0, sys.argv[1])
from _mxnet_python_step import char_lstm, input_shapes
layers, seq_len, hidden, embed, n_class, batch = json.loads(sys.argv[2])
described = []
for path, output_states in zip(sys.argv[3:], [False, True]):
    sym = char_lstm(layers, seq_len, hidden, embed, n_class, name="ptb", output_states=output_states)
    sym.save(path)
    data, label = input_shapes("ptb", seq_len, layers, hidden, n_class, batch)
    described.append(describe(sym, dict(data + label)))
print(json.dumps(described))
'''

LSTM_DIMS = dict(layers=2, seq_len=3, hidden=16, embed=8, n_class=11, batch=4)


@pytest.fixture(scope="session")
def mxnet_python():
    """The python of the venv with Apache MXNet's frontend (made once, reused)."""
    try:
        return _mxnet_venv.ensure()
    except _mxnet_venv.InstallFailed as e:
        pytest.skip(f"Apache MXNet's Python frontend (mxnet==1.9.1, numpy<1.24) could not be installed "
                    f"in {_mxnet_venv.venv_dir()}: needs PyPI or a cached wheel. {e}")


@pytest.fixture(scope="session")
def interop(jl):
    jl.eval(JULIA_HELPERS)
    return jl


def in_mxnet(code, *args):
    return _mxnet_venv.run_python(code, *map(str, args))


def reversed_list(size):
    return list(reversed(size))


# ----- .params ---------------------------------------------------------------------------------

def test_params_written_here_load_in_apache_mxnet(interop, mxnet_python, tmp_path):
    rng = np.random.RandomState(0)
    # Values in libmxnet shapes (numpy C order), as Python will read them back.
    expected = {
        "arg:fc_bias": rng.randn(3).astype(np.float32),
        "arg:embed_weight": rng.randn(65, 16).astype(np.float32),
        "arg:conv_weight": rng.randn(2, 3, 4, 5),
        "aux:bn_moving_var": (rng.randint(-4096, 4096, size=(7,)) / 16).astype(np.float16),
        "arg:ids": rng.randint(-2**31, 2**31 - 1, size=(2, 3, 4)).astype(np.int32),
        "arg:count": np.array([2**62 + 1, -5], dtype=np.int64),
        "arg:bytes": rng.randint(0, 256, size=(5, 2)).astype(np.uint8),
        "arg:small": rng.randint(-128, 128, size=(4, 1, 2)).astype(np.int8),
        "arg:one": np.array([0.25], dtype=np.float32),
    }
    # The bridge carries no float16/int8: send those widened (exact), Julia narrows them again.
    widen = {np.dtype(np.float16): np.float32, np.dtype(np.int8): np.int32}
    sent = [a.astype(widen.get(a.dtype, a.dtype)) for a in expected.values()]
    path = tmp_path / "julia.params"
    sizes = interop.call("PyJLCharInterop.save_params", str(path), list(expected), sent,
                         [a.dtype.name for a in expected.values()])
    for name, a in expected.items():
        assert sizes[name] == reversed_list(a.shape), name  # Julia size = reversed shape
    assert sizes["arg:fc_weight"] == [3, 4]

    in_mxnet(MXNET_LOAD_PARAMS, path, tmp_path / "back.npz", tmp_path / "back.json")
    meta = json.loads((tmp_path / "back.json").read_text())
    values = np.load(tmp_path / "back.npz")
    assert meta["names"] == sorted([*expected, "arg:fc_weight"])
    loaded = {n: values[f"arr_{i}"] for i, n in enumerate(meta["names"])}
    for i, name in enumerate(meta["names"]):
        assert meta["dtypes"][i] == loaded[name].dtype.name
    for name, a in expected.items():
        assert loaded[name].dtype == a.dtype, name
        assert loaded[name].shape == a.shape, name
        assert np.array_equal(loaded[name], a), name

    # Julia's reshape(1:12, 3, 4): size (3, 4) here, shape (4, 3) there, same memory order.
    w = loaded["arg:fc_weight"]
    assert w.dtype == np.float32 and w.shape == (4, 3)
    assert np.array_equal(w.ravel(), np.arange(1, 13, dtype=np.float32))
    julia_x = np.arange(1, 13, dtype=np.float32).reshape(3, 4, order="F")  # Julia's x, x[i, j]
    for i in range(3):
        for j in range(4):
            assert w[j, i] == julia_x[i, j]


def test_params_written_by_apache_mxnet_load_here(interop, mxnet_python, tmp_path):
    named, unnamed = tmp_path / "named.params", tmp_path / "list.params"
    in_mxnet(MXNET_SAVE_PARAMS, named, unnamed, tmp_path / "expected.npz", tmp_path / "names.json")
    names = json.loads((tmp_path / "names.json").read_text())
    saved = np.load(tmp_path / "expected.npz")
    expected = {n: saved[f"arr_{i}"] for i, n in enumerate(names)}

    got = interop.call("PyJLCharInterop.load_params", str(named))
    assert got["named"] is True
    assert sorted(got["arrays"]) == sorted(expected)
    for name, a in expected.items():
        entry = got["arrays"][name]
        assert entry["dtype"] == a.dtype.name, name
        assert entry["size"] == reversed_list(a.shape), name   # Julia size = reversed shape
        value = entry["value"]   # the Julia array seen from numpy: libmxnet's shape again
        assert value.shape == a.shape, name
        assert np.array_equal(value.astype(a.dtype), a), name
    # Julia's x[i, j] is libmxnet's [j-1, i-1]: check through the transposed view.
    julia_x = got["arrays"]["arg:fc_weight"]["value"].T   # numpy view indexed like Julia's x
    assert julia_x.shape == (3, 4)
    assert julia_x[2, 1] == expected["arg:fc_weight"][1, 2]

    got = interop.call("PyJLCharInterop.load_params", str(unnamed))
    assert got["named"] is False
    assert sorted(got["arrays"]) == ["0", "1"]
    assert got["arrays"]["0"]["dtype"] == "float32" and got["arrays"]["0"]["size"] == [3, 4]
    assert np.array_equal(got["arrays"]["0"]["value"], expected["arg:fc_weight"])
    assert got["arrays"]["1"]["dtype"] == "int32" and got["arrays"]["1"]["size"] == [3, 5, 2]
    assert np.array_equal(got["arrays"]["1"]["value"], expected["arg:ids"])


# ----- symbols ---------------------------------------------------------------------------------

def assert_same_description(ours, theirs):
    """`ours`: the Julia layer's view (Julia sizes); `theirs`: Apache MXNet's (libmxnet shapes)."""
    assert ours["arguments"] == theirs["arguments"]
    assert ours["outputs"] == theirs["outputs"]
    assert ours["aux"] == theirs["aux"] == []
    assert [reversed_list(s) for s in ours["arg_sizes"]] == theirs["arg_shapes"]
    assert [reversed_list(s) for s in ours["out_sizes"]] == theirs["out_shapes"]
    assert json.loads(ours["json"]) == json.loads(theirs["json"])


def normalized_nodes(graph_json):
    """Nodes with their attributes as values, not spellings (Python writes True, Julia true)."""
    graph = json.loads(graph_json)
    return [{**node, "attrs": {k: v.lower() for k, v in node.get("attrs", {}).items()}}
            for node in graph["nodes"]], graph["heads"], graph["arg_nodes"]


@pytest.mark.parametrize("graph", ["unrolled", "fused"])
def test_lstm_symbol_written_here_loads_in_apache_mxnet(interop, mxnet_python, tmp_path, graph):
    d = LSTM_DIMS
    path = tmp_path / "lstm-symbol.json"
    for output_states in (False, True):
        ours = interop.call("PyJLCharInterop.save_lstm", str(path), d["layers"], d["seq_len"], d["hidden"],
                            d["embed"], d["n_class"], d["batch"], output_states=output_states, graph=graph)
        input_shapes = {name: reversed_list(size) for name, size in ours["input_sizes"].items()}
        theirs = json.loads(in_mxnet(MXNET_LOAD_SYMBOL, path, json.dumps(input_shapes)).stdout)
        assert_same_description(ours, theirs)
        shapes = dict(zip(theirs["arguments"], theirs["arg_shapes"]))
        out_shapes = dict(zip(theirs["outputs"], theirs["out_shapes"]))
        if output_states:   # both graphs end with the same final states, each layer's c then h
            assert theirs["outputs"][-4:] == ["ptb_l1_last_c_output", "ptb_l2_last_c_output",
                                              "ptb_l1_last_h_output", "ptb_l2_last_h_output"]
            assert out_shapes["ptb_l2_last_h_output"] == [d["batch"], d["hidden"]]
        assert shapes["ptb_pred_weight"] == [d["n_class"], d["hidden"]]
        assert shapes["ptb_l1_init_c"] == shapes["ptb_l2_init_h"] == [d["batch"], d["hidden"]]
        if graph == "unrolled":
            assert "ptb_l2_h2h_weight" in ours["arguments"] and "ptb_data_3" in ours["arguments"]
            assert theirs["outputs"][:3] == ["ptb_softmax_1_output", "ptb_softmax_2_output", "ptb_softmax_3_output"]
            assert input_shapes["ptb_data_1"] == [d["batch"], d["n_class"]]
            assert shapes["ptb_embed_weight"] == [d["embed"], d["n_class"]]
            assert shapes["ptb_l1_i2h_weight"] == [4 * d["hidden"], d["embed"]]
            assert shapes["ptb_l2_h2h_weight"] == [4 * d["hidden"], d["hidden"]]
        else:   # libmxnet's RNN operator: every layer's weights and biases in one flat vector
            assert theirs["outputs"][0] == "ptb_softmax_output"
            assert input_shapes["ptb_data"] == [d["batch"], d["seq_len"], d["n_class"]]
            assert out_shapes["ptb_softmax_output"] == [d["batch"], d["seq_len"], d["n_class"]]
            assert not [a for a in theirs["arguments"] if "i2h" in a or "h2h" in a]
            h, e = d["hidden"], d["embed"]
            per_layer = [4 * h * (e if layer == 0 else h) + 4 * h * h + 8 * h for layer in range(d["layers"])]
            assert shapes["ptb_lstm_parameters"] == [sum(per_layer)]
            assert shapes["ptb_embed_weight"] == [d["embed"], d["n_class"]]
            assert any(node["op"] == "RNN" for node in json.loads(theirs["json"])["nodes"])


def test_lstm_symbol_written_by_apache_mxnet_loads_here(interop, mxnet_python, tmp_path):
    d = LSTM_DIMS
    dims = [d["layers"], d["seq_len"], d["hidden"], d["embed"], d["n_class"], d["batch"]]
    paths = [tmp_path / "mx-lstm-symbol.json", tmp_path / "mx-lstm-states-symbol.json"]
    described = json.loads(in_mxnet(MXNET_SAVE_LSTM, ROOT / "bench", json.dumps(dims), *paths).stdout)
    for path, theirs, output_states in zip(paths, described, [False, True]):
        ours = interop.call("PyJLCharInterop.load_lstm", str(path), d["layers"], d["seq_len"], d["hidden"],
                            d["n_class"], d["batch"])
        assert_same_description(ours, theirs)
        # The graph Apache MXNet's mx.sym built is the one the unrolled graph is: the benchmark
        # (bench/mx_layer.py) compares like with like.
        built_here = interop.call("PyJLCharInterop.save_lstm", str(tmp_path / "here.json"), d["layers"],
                                  d["seq_len"], d["hidden"], d["embed"], d["n_class"], d["batch"],
                                  output_states=output_states)
        assert normalized_nodes(built_here["json"]) == normalized_nodes(theirs["json"])
        assert built_here["arguments"] == theirs["arguments"]
        if output_states:
            assert theirs["outputs"][-4:] == ["ptb_l1_last_c_output", "ptb_l2_last_c_output",
                                              "ptb_l1_last_h_output", "ptb_l2_last_h_output"]
            assert any(node["op"] == "BlockGrad" for node in json.loads(theirs["json"])["nodes"])


# ----- a run's checkpoints ---------------------------------------------------------------------

MXNET_CHECK_CHECKPOINT = r'''
import json, sys
import mxnet as mx
params, sym = mx.nd.load(sys.argv[1]), mx.sym.load(sys.argv[2])
print(json.dumps({"params": sorted(params), "arguments": sym.list_arguments(),
                  "finite": all(bool(mx.nd.contrib.isfinite(p).min().asscalar()) for p in params.values())}))
'''


@pytest.mark.parametrize("graph", ["unrolled", "fused"])
def test_a_mid_epoch_checkpoint_loads_in_apache_mxnet(mxnet_python, tmp_path, graph):
    from test_cli import CORPUS_TEXT, pyjlchar, write_config

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT)
    config = write_config(tmp_path, corpus, checkpoint_every=5, graph=graph)
    out = pyjlchar("train", "--config", config)
    assert out.returncode == 0, out.stderr
    mid = tmp_path / "ck" / "tiny-0001-000005.params"
    assert mid.exists(), sorted(p.name for p in (tmp_path / "ck").iterdir())
    seen = json.loads(in_mxnet(MXNET_CHECK_CHECKPOINT, mid, tmp_path / "ck" / "tiny-symbol.json").stdout)
    # Every learned argument of the graph is there, as arg:<name>, and nothing else.
    inputs = re.compile(r"tiny_(data|label)(_\d+)?|.*_init_[ch]")   # either graph's inputs
    assert ("arg:tiny_lstm_parameters" in seen["params"]) == (graph == "fused"), seen["params"]
    assert seen["params"] == sorted(f"arg:{a}" for a in seen["arguments"] if not inputs.fullmatch(a))
    assert seen["finite"]
