"""PyTorch's column of bench/compare.py; runs INSIDE <cache>/torch-venv (bench/_torch_venv.py).

The char-lstm as PyTorch users write it: nn.Embedding -> nn.LSTM (2 layers, batch first) ->
nn.Linear, on the CPU, trained with torch.optim.Adam. The maths is the original's (see
compare.py's docstring); torch's LSTM orders its gates (i, f, g, o) where pyjlchar's unrolled
cell has (i, g, f, o), which matters only when copying weights, which this does not. One
convention differs in the optimizer: torch's Adam adds eps after the bias correction of the
second moment, MXNet's adam_update before it, which matters only for near-zero gradients.
Prints one JSON line (compare.report).
"""
import sys

import torch
from torch import nn
from torch.nn import functional as F

import compare


class CharLSTM(nn.Module):
    def __init__(self, n_class, embed, hidden, layers):
        super().__init__()
        self.embed = nn.Embedding(n_class, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.pred = nn.Linear(hidden, n_class)

    def forward(self, ids):  # (batch, seq_len) -> logits (batch, seq_len, n_class); state starts at zero
        return self.pred(self.lstm(self.embed(ids))[0])


def init_weights(model, scale):
    """Weights uniform in [-scale, scale], biases zero (both LSTM biases, b_ih and b_hh, exist in
    pyjlchar's cell too: i2h_bias, h2h_bias)."""
    for name, p in model.named_parameters():
        if "bias" in name:
            nn.init.zeros_(p)
        else:
            nn.init.uniform_(p, -scale, scale)


def nll_sum(model, ids, k, batch, seq_len):
    """The summed NLL (nats) of batch k of `ids` (a 1-D id tensor), from a zero state."""
    chunk = ids[compare.batch_slice(k, batch, seq_len)]
    logits = model(chunk[:-1].view(batch, seq_len))
    return F.cross_entropy(logits.reshape(batch * seq_len, -1), chunk[1:].reshape(batch * seq_len), reduction="sum")


def main():
    a = compare.worker_arguments()
    torch.set_num_threads(a.threads)
    torch.backends.mkldnn.enabled = a.onednn == "on"
    torch.manual_seed(a.seed)
    n_class, train_ids, val_ids = compare.load_data(a.corpus, a.train_ratio)
    train_ids, val_ids = torch.tensor(train_ids), torch.tensor(val_ids)
    model = CharLSTM(n_class, a.embed, a.hidden, a.layers)
    init_weights(model, a.init_scale)
    # torch's Adam adds weight_decay * w to the gradient it is given: after the clipping, as MXNet.
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=a.weight_decay)
    B, T = a.batch, a.seq_len

    def step(k):
        loss = nll_sum(model, train_ids, k, B, T)
        opt.zero_grad(set_to_none=True)
        (loss / B).backward()  # MXNet's rescale_grad = 1/batch on the summed NLL
        for p in model.parameters():
            p.grad.clamp_(-a.grad_clip, a.grad_clip)
        opt.step()
        return loss.item() / (B * T)

    model.train()
    result = compare.train_for(step, compare.n_batches(len(train_ids), B, T), a.budget, a.warmup, B * T)
    model.eval()
    with torch.no_grad():
        result["val_nll"] = compare.mean_over_batches(lambda k: nll_sum(model, val_ids, k, B, T).item() / (B * T),
                                                      compare.n_batches(len(val_ids), B, T))
    assert next(model.parameters()).device.type == "cpu" and isinstance(model.lstm, nn.LSTM)
    result["version"] = f"PyTorch {torch.__version__}" + ("" if a.onednn == "on" else ", oneDNN off")
    compare.report(result)


if __name__ == "__main__":
    sys.exit(main())
