"""PyTorch's sampling column of bench/compare.py; runs INSIDE <cache>/torch-venv.

A sampler as PyTorch users write one: the training model (bench/_torch_train.py's CharLSTM,
random weights), one character per step for every stream, nn.LSTM's (h, c) carried from step
to step, softmax of the logits over the temperature, torch.multinomial, all under
torch.inference_mode() on the CPU. Prints one JSON line (compare.report) with chars/s per
stream count.

nn.LSTM on the CPU runs oneDNN's LSTM by default, which reorders the weights into its own
layout at every call (ONEDNN_VERBOSE=1 shows it), a fixed cost that one step cannot spread, so
the worker also measures it with oneDNN switched off (torch.backends.mkldnn.enabled = False:
ATen's own kernels), the variant "nn.LSTM, oneDNN off", a row of its own under the default.
"""
import sys

import torch

import compare
from _torch_train import CharLSTM, init_weights


class Sampler:
    def __init__(self, model, streams):
        self.model, self.streams = model, streams
        self.ids = torch.zeros(streams, 1, dtype=torch.long)  # every stream starts from class 0
        self.state = None  # nn.LSTM's zero state

    def generate(self, n):
        """n more characters per stream, (streams, n)."""
        m, drawn = self.model, []
        for _ in range(n):
            out, self.state = m.lstm(m.embed(self.ids), self.state)
            probs = torch.softmax(m.pred(out[:, -1]) / compare.SAMPLE_TEMPERATURE, dim=-1)
            self.ids = torch.multinomial(probs, 1)
            drawn.append(self.ids)
        return torch.cat(drawn, dim=1)


def main():
    a = compare.sample_worker_arguments()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = CharLSTM(a.n_class, a.embed, a.hidden, a.layers).eval()
    init_weights(model, 0.1)
    def rates():
        with torch.inference_mode():
            return {str(s): compare.sample_for(Sampler(model, s).generate, s, a.seconds) for s in a.streams}

    default = rates()
    torch.backends.mkldnn.enabled = False
    compare.report({"chars_per_s": default, "variants": {"nn.LSTM, oneDNN off": rates()},
                    "version": f"PyTorch {torch.__version__}"})


if __name__ == "__main__":
    sys.exit(main())
