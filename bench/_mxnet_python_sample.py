"""Apache MXNet Python's sampling columns of bench/compare.py; runs INSIDE the mxnet venv.

A sampler as MXNet users write one: the model bound once for one step of `streams` texts (no
gradients), its final states as outputs; per step the input ids go in, forward, the final
states are copied onto the initial ones, the probabilities come to numpy and each stream draws
its next id there (compare.draw_ids, temperature applied). --cell lstm: the unrolled graph
(char_lstm of bench/_mxnet_python_step.py, seq_len 1, one-hot input, as pyjlchar's sampler);
--cell fused: Embedding -> the RNN operator -> FullyConnected (bench/_mxnet_python_train.py).
Weights uniform in [-0.1, 0.1]. Prints one JSON line with chars/s per stream count.
"""
import sys

import numpy as np
import mxnet as mx

import compare
from _mxnet_python_step import char_lstm, input_shapes
from _mxnet_python_train import fused_lstm, version


class Sampler:
    def __init__(self, a, streams):
        L, H, C = a.layers, a.hidden, a.n_class
        if a.cell == "lstm":
            sym = char_lstm(L, 1, H, a.embed, C, output_states=True)
            data, label = input_shapes("ptb", 1, L, H, C, streams)
            shapes = dict(data + label)
            # The outputs after the probabilities: every layer's last c, then every layer's last h.
            self.carried = ["ptb_l%d_init_%s" % (l, s) for s in "ch" for l in range(1, L + 1)]
            self.input, eye = "ptb_data_1", np.eye(C, dtype=np.float32)
            self.encode = lambda ids: eye[ids]
        else:
            sym = fused_lstm(L, H, a.embed, C, output_states=True)
            shapes = {"data": (1, streams), "label": (1, streams), "init_h": (L, streams, H),
                      "init_c": (L, streams, H)}
            self.carried = ["init_h", "init_c"]
            self.input, self.encode = "data", lambda ids: ids[None, :]
        self.exe = sym.simple_bind(mx.cpu(), grad_req="null", **shapes)
        self.rng = np.random.RandomState(a.seed)
        for n in sym.list_arguments():
            if n not in shapes:
                self.exe.arg_dict[n][:] = self.rng.uniform(-0.1, 0.1, self.exe.arg_dict[n].shape)
        self.streams, self.ids = streams, np.zeros(streams, np.int64)  # every stream starts from class 0

    def generate(self, n):
        """n more characters per stream, (streams, n)."""
        exe, drawn = self.exe, np.empty((self.streams, n), np.int64)
        for k in range(n):
            exe.arg_dict[self.input][:] = self.encode(self.ids)
            exe.forward(is_train=False)
            for name, final in zip(self.carried, exe.outputs[1:]):
                final.copyto(exe.arg_dict[name])
            probs = exe.outputs[0].asnumpy()
            self.ids = compare.draw_ids(probs, self.rng.random_sample(self.streams), compare.SAMPLE_TEMPERATURE)
            drawn[:, k] = self.ids
        return drawn


def main():
    a = compare.sample_worker_arguments(cells=("lstm", "fused"))
    rates = {str(s): compare.sample_for(Sampler(a, s).generate, s, a.seconds) for s in a.streams}
    compare.report({"chars_per_s": rates, "version": version()})


if __name__ == "__main__":
    sys.exit(main())
