"""Apache MXNet Python's columns of bench/compare.py; runs INSIDE <cache>/mxnet-python-venv.

--cell lstm: the unrolled graph pyjlchar builds, node for node (`char_lstm` of
bench/_mxnet_python_step.py), fed one-hot characters per step as pyjlchar's data provider does.
--cell fused: Embedding -> the RNN operator (mode lstm, oneDNN's LSTM on this CPU build) ->
FullyConnected -> SoftmaxOutput over all steps at once; the RNN op orders its gates
(i, f, g, o), pyjlchar's unrolled cell (i, g, f, o): only weight copies would care, and there
are none. Both: one executor bound once, then per batch forward, backward and one
mx.nd.adam_update per parameter with weight decay on every parameter (MXNet.jl's ADAM; the
Module API would exempt biases and the RNN's flat parameters from it). libmxnet's engine is
its default (threaded) unless MXNET_ENGINE_TYPE says otherwise. Prints one JSON line.
"""
import json
import math
import os
import sys

import numpy as np
import mxnet as mx

import compare
from _mxnet_python_step import char_lstm, input_shapes


def fused_lstm(layers, hidden, embed, n_class, output_states=False):
    """The fused-cell model; ids are (T, B). With output_states (for sampling), the final h and c
    follow the probabilities, as char_lstm's final states do."""
    embed = mx.sym.Embedding(mx.sym.Variable("data"), input_dim=n_class, output_dim=embed, name="embed")
    rnn = mx.sym.RNN(embed, mx.sym.Variable("lstm_parameters"), mx.sym.Variable("init_h"),
                     mx.sym.Variable("init_c"), state_size=hidden, num_layers=layers, mode="lstm",
                     state_outputs=output_states, name="lstm")
    out = rnn[0] if output_states else rnn
    pred = mx.sym.FullyConnected(mx.sym.reshape(out, shape=(-1, hidden)), num_hidden=n_class, name="pred")
    probs = mx.sym.SoftmaxOutput(pred, mx.sym.reshape(mx.sym.Variable("label"), shape=(-1,)), name="softmax")
    if output_states:
        return mx.sym.Group([probs, mx.sym.BlockGrad(rnn[1], name="last_h"), mx.sym.BlockGrad(rnn[2], name="last_c")])
    return probs


class Model:
    """The executor and its optimizer; `load(ids, k)` puts batch k in, `nll()` scores the outputs."""

    def __init__(self, a, n_class):
        B, T, H, L = a.batch, a.seq_len, a.hidden, a.layers
        self.a, self.n_class, self.eye = a, n_class, np.eye(n_class, dtype=np.float32)
        if a.cell == "lstm":
            sym = char_lstm(L, T, H, a.embed, n_class)
            data, label = input_shapes("ptb", T, L, H, n_class, B)
            shapes = dict(data + label)
        else:
            sym = fused_lstm(L, H, a.embed, n_class)
            shapes = {"data": (T, B), "label": (T, B), "init_h": (L, B, H), "init_c": (L, B, H)}
        self.ops = sorted({node["op"] for node in json.loads(sym.tojson())["nodes"]} - {"null"})
        self.params = [n for n in sym.list_arguments() if n not in shapes]
        self.exe = sym.simple_bind(mx.cpu(), grad_req={n: "write" if n in self.params else "null"
                                                       for n in sym.list_arguments()}, **shapes)
        rng = np.random.RandomState(a.seed)
        for n in self.params:
            w = self.exe.arg_dict[n]
            values = np.zeros(w.shape, np.float32)
            if n == "lstm_parameters":
                # The flat vector holds every layer's i2h and h2h weights first, then the biases.
                n_weights = sum(4 * H * ((a.embed if l == 0 else H) + H) for l in range(L))
                values[:n_weights] = rng.uniform(-a.init_scale, a.init_scale, n_weights)
            elif not n.endswith("bias"):
                values[:] = rng.uniform(-a.init_scale, a.init_scale, w.shape)
            w[:] = values
        self.states = {n: (mx.nd.zeros(self.exe.arg_dict[n].shape), mx.nd.zeros(self.exe.arg_dict[n].shape))
                       for n in self.params}
        self.t = 0
        self.kw = dict(beta1=0.9, beta2=0.999, epsilon=1e-8, wd=a.weight_decay, rescale_grad=1.0 / B,
                       clip_gradient=a.grad_clip)

    def load(self, ids, k):
        """Batch k of `ids` into the executor; returns its labels, (B, T)."""
        B, T = self.a.batch, self.a.seq_len
        chunk = ids[compare.batch_slice(k, B, T)]
        x, y = chunk[:-1].reshape(B, T), chunk[1:].reshape(B, T)
        args = self.exe.arg_dict
        if self.a.cell == "lstm":
            for t in range(T):
                args["ptb_data_%d" % (t + 1)][:] = self.eye[x[:, t]]
                args["ptb_label_%d" % (t + 1)][:] = y[:, t]
        else:
            args["data"][:] = x.T
            args["label"][:] = y.T
        return y

    def nll(self, y):
        """Mean NLL per character of the outputs (synchronous: it reads them)."""
        B, T = y.shape
        if self.a.cell == "lstm":
            probs = np.stack([out.asnumpy() for out in self.exe.outputs[:T]], axis=1)  # (B, T, C)
        else:
            probs = self.exe.outputs[0].asnumpy().reshape(T, B, -1).transpose(1, 0, 2)
        picked = np.take_along_axis(probs, y[:, :, None], axis=2)
        return float(-np.log(np.maximum(picked, 1e-20)).mean())

    def step(self, ids, k):
        y = self.load(ids, k)
        self.exe.forward(is_train=True)
        self.exe.backward()
        # All weights share the update count; the bias correction goes into the rate as
        # mxnet.optimizer.Adam does.
        self.t += 1
        lr = self.a.lr * math.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t)
        for n in self.params:
            w = self.exe.arg_dict[n]
            mx.nd.adam_update(w, self.exe.grad_dict[n], *self.states[n], out=w, lr=lr, **self.kw)
        return self.nll(y)

    def score(self, ids, k):
        y = self.load(ids, k)
        self.exe.forward(is_train=False)
        return self.nll(y)


def version():
    engine = os.environ.get("MXNET_ENGINE_TYPE", "ThreadedEnginePerDevice")  # libmxnet's default
    return f"Apache MXNet {mx.__version__} Python ({engine})"


def main():
    a = compare.worker_arguments(cells=("lstm", "fused"))
    n_class, train_ids, val_ids = compare.load_data(a.corpus, a.train_ratio)
    train_ids, val_ids = np.array(train_ids, np.int64), np.array(val_ids, np.int64)
    model = Model(a, n_class)
    assert ("RNN" in model.ops) == (a.cell == "fused"), model.ops
    B, T = a.batch, a.seq_len
    result = compare.train_for(lambda k: model.step(train_ids, k), compare.n_batches(len(train_ids), B, T),
                               a.budget, a.warmup, B * T)
    result["val_nll"] = compare.mean_over_batches(lambda k: model.score(val_ids, k),
                                                  compare.n_batches(len(val_ids), B, T))
    result["version"] = version()
    result["operators"] = model.ops
    compare.report(result)


if __name__ == "__main__":
    sys.exit(main())
