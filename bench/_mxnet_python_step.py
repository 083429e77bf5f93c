"""The Apache MXNet Python side of bench/mx_layer.py; runs INSIDE the separate mxnet venv.

`char_lstm` builds the char-lstm graph with `mx.sym`, node for node and name for name as
the unrolled graph (julia/src/CharLSTM/graph/unrolled.jl) builds it (tests/test_mxnet_interop.py checks
that the two JSON graphs agree). `python _mxnet_python_step.py worker` trains it, driven by
JSON lines on stdin (bench/mx_layer.py sends them):

    {"cmd": "init", ...config...}  -> {"ok": true, "params": [...]}
    {"cmd": "run", "steps": N}     -> {"seconds": s}     N steps, timed until libmxnet is idle
    {"cmd": "save", "path": p}     -> {"ok": true}       the parameters as an .npz
    {"cmd": "quit"}
"""
import json
import math
import sys
import time

import numpy as np
import mxnet as mx


def lstm_cell(data, prev_c, prev_h, param, num_hidden, name):
    i2h_w, h2h_w, i2h_b, h2h_b = param
    i2h = mx.sym.FullyConnected(data=data, weight=i2h_w, bias=i2h_b, num_hidden=4 * num_hidden,
                                name=name + "_i2h")
    h2h = mx.sym.FullyConnected(data=prev_h, weight=h2h_w, bias=h2h_b, num_hidden=4 * num_hidden,
                                name=name + "_h2h")
    gates = mx.sym.SliceChannel(mx.sym.elemwise_add(i2h, h2h, name=name + "_sum"), num_outputs=4,
                                name=name + "_gates")
    in_gate = mx.sym.Activation(gates[0], act_type="sigmoid", name=name + "_in_gate")
    in_transform = mx.sym.Activation(gates[1], act_type="tanh", name=name + "_in_transform")
    forget_gate = mx.sym.Activation(gates[2], act_type="sigmoid", name=name + "_forget_gate")
    out_gate = mx.sym.Activation(gates[3], act_type="sigmoid", name=name + "_out_gate")
    next_c = mx.sym.elemwise_add(mx.sym.elemwise_mul(forget_gate, prev_c, name=name + "_kept_c"),
                                 mx.sym.elemwise_mul(in_gate, in_transform, name=name + "_new_c"),
                                 name=name + "_next_c")
    next_h = mx.sym.elemwise_mul(out_gate, mx.sym.Activation(next_c, act_type="tanh", name=name + "_tanh_c"),
                                 name=name + "_next_h")
    return next_c, next_h


def char_lstm(layers, seq_len, hidden, embed, n_class, name="ptb", output_states=False):
    """The unrolled char-lstm (no dropout), as the unrolled graph names it (steps and layers from 1)."""
    def var(suffix):
        return mx.sym.Variable("%s_%s" % (name, suffix))

    embed_w, pred_w, pred_b = var("embed_weight"), var("pred_weight"), var("pred_bias")
    params = [(var("l%d_i2h_weight" % l), var("l%d_h2h_weight" % l), var("l%d_i2h_bias" % l),
               var("l%d_h2h_bias" % l)) for l in range(1, layers + 1)]
    states = [(var("l%d_init_c" % l), var("l%d_init_h" % l)) for l in range(1, layers + 1)]
    outputs = []
    for t in range(1, seq_len + 1):
        x = mx.sym.FullyConnected(data=var("data_%d" % t), weight=embed_w, num_hidden=embed,
                                       no_bias=True, name="%s_embed_%d" % (name, t))
        for l in range(layers):
            states[l] = lstm_cell(x, states[l][0], states[l][1], params[l], hidden,
                                  "%s_lstm_%d_l%d" % (name, t, l + 1))
            x = states[l][1]
        pred = mx.sym.FullyConnected(data=x, weight=pred_w, bias=pred_b, num_hidden=n_class,
                                     name="%s_pred_%d" % (name, t))
        outputs.append(mx.sym.SoftmaxOutput(data=pred, label=var("label_%d" % t),
                                            name="%s_softmax_%d" % (name, t)))
    if output_states:
        outputs += [mx.sym.BlockGrad(states[l][0], name="%s_l%d_last_c" % (name, l + 1)) for l in range(layers)]
        outputs += [mx.sym.BlockGrad(states[l][1], name="%s_l%d_last_h" % (name, l + 1)) for l in range(layers)]
    return mx.sym.Group(outputs)


def input_shapes(name, seq_len, layers, hidden, n_class, batch_size):
    """(data, label) inputs with libmxnet shapes, in the order of lstm_data_shapes/lstm_label_shapes."""
    data = [("%s_data_%d" % (name, t), (batch_size, n_class)) for t in range(1, seq_len + 1)]
    data += [("%s_l%d_init_c" % (name, l), (batch_size, hidden)) for l in range(1, layers + 1)]
    data += [("%s_l%d_init_h" % (name, l), (batch_size, hidden)) for l in range(1, layers + 1)]
    label = [("%s_label_%d" % (name, t), (batch_size,)) for t in range(1, seq_len + 1)]
    return data, label


class Trainer:
    """One executor bound once; a step is what the Julia side's mx.fit does per batch."""

    def __init__(self, cfg):
        ids = np.load(cfg["ids"])  # (pool, batch, seq_len + 1) class ids
        pool, batch_size, seq_len = ids.shape[0], ids.shape[1], ids.shape[2] - 1
        layers, n_class, hidden = cfg["layers"], cfg["n_class"], cfg["hidden"]
        sym = char_lstm(layers, seq_len, hidden, cfg["embed"], n_class)
        data, label = input_shapes("ptb", seq_len, layers, hidden, n_class, batch_size)
        init = mx.nd.load(cfg["init_params"])  # written by the Julia side: same start
        inputs = set(dict(data + label))
        self.param_names = [n for n in sym.list_arguments() if n not in inputs]
        assert set(self.param_names) == set(init), (sorted(self.param_names), sorted(init))
        grad_req = {n: ("write" if n in init else "null") for n in sym.list_arguments()}
        self.exe = sym.simple_bind(mx.cpu(), grad_req=grad_req, **dict(data + label))
        for n in self.param_names:
            init[n].copyto(self.exe.arg_dict[n])
        self.data_names, self.label_names = [n for n, _ in data], [n for n, _ in label]
        # Staging arrays, as a data provider's batch; the initial states stay zero.
        self.data = [mx.nd.zeros(s) for _, s in data]
        self.label = [mx.nd.zeros(s) for _, s in label]
        # Host batches, prepared once (the Julia side prepares the same ones).
        eye = np.eye(n_class, dtype=np.float32)
        self.onehot = [[np.ascontiguousarray(eye[ids[k, :, t]]) for t in range(seq_len)] for k in range(pool)]
        self.labels = [[ids[k, :, t + 1].astype(np.float32) for t in range(seq_len)] for k in range(pool)]
        self.next = 0
        self.seq_len = seq_len
        self.lr, self.beta1, self.beta2, self.eps = cfg["learning_rate"], 0.9, 0.999, 1e-8
        self.kw = dict(beta1=self.beta1, beta2=self.beta2, epsilon=self.eps, wd=cfg["weight_decay"],
                       rescale_grad=1.0 / batch_size,
                       clip_gradient=cfg["grad_clip"] if cfg["grad_clip"] > 0 else -1.0)
        self.states = {n: (mx.nd.zeros(self.exe.arg_dict[n].shape), mx.nd.zeros(self.exe.arg_dict[n].shape))
                       for n in self.param_names}
        self.t = 0
        mx.nd.waitall()

    def step(self):
        k = self.next
        self.next = (k + 1) % len(self.onehot)
        for t in range(self.seq_len):
            self.data[t]._sync_copyfrom(self.onehot[k][t])
            self.label[t]._sync_copyfrom(self.labels[k][t])
        args = self.exe.arg_dict
        for n, arr in zip(self.data_names, self.data):
            arr.copyto(args[n])
        for n, arr in zip(self.label_names, self.label):
            arr.copyto(args[n])
        self.exe.forward(is_train=True)
        self.exe.backward()
        # Every weight is updated once per step, so all share the update count t; the bias
        # correction is folded into the rate as mxnet.optimizer.Adam does.
        self.t += 1
        lr = self.lr * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        grads = self.exe.grad_dict
        for n in self.param_names:
            mean, var = self.states[n]
            w = args[n]
            mx.nd.adam_update(w, grads[n], mean, var, out=w, lr=lr, **self.kw)

    def run(self, steps):
        started = time.perf_counter()
        for _ in range(steps):
            self.step()
        mx.nd.waitall()
        return time.perf_counter() - started

    def save(self, path):
        np.savez(path, **{n: self.exe.arg_dict[n].asnumpy() for n in self.param_names})


def worker():
    out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not mix with the replies
    trainer = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "init":
            trainer = Trainer(msg)
            reply = {"ok": True, "params": trainer.param_names, "mxnet": mx.__version__,
                     "library": mx.libinfo.find_lib_path()[0]}
        elif cmd == "run":
            reply = {"seconds": trainer.run(msg["steps"])}
        elif cmd == "save":
            trainer.save(msg["path"])
            reply = {"ok": True}
        elif cmd == "quit":
            break
        else:
            reply = {"error": "unknown command %r" % cmd}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        worker()
    else:
        sys.exit("usage: python _mxnet_python_step.py worker  (run by bench/mx_layer.py)")
