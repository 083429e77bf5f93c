# The LSTM cell: what it carries (c and h), its four gates, and one unrolled step, named as in
# MXNet.jl's example.

struct LSTMCell <: Cell end
cell_named(::Val{:lstm}) = LSTMCell()

label(::LSTMCell) = "LSTM"
"The states a cell carries from one step to the next, in the order inputs and outputs list them."
state_names(::LSTMCell) = (:c, :h)
"Gates per unit: the i2h and h2h weights are this many blocks of `hidden` rows."
n_gates(::LSTMCell) = 4
"libmxnet's RNN operator mode that computes this cell."
rnn_mode(::LSTMCell) = :lstm
"""
Where each of the RNN operator's gate blocks is in the unrolled layout: the unrolled cell
orders them input, transform, forget, output; the operator input, forget, transform, output.
"""
fused_gate_order(::LSTMCell) = (1, 3, 2, 4)

"""
    unrolled_step(cell, data, states, weights; hidden, dropout=0, name) -> states

One LSTM step of one layer: `states` and the result are (c, h); `weights` is the layer's
(i2h_W, h2h_W, i2h_b, h2h_b) variables. The four gates come from one SliceChannel of
i2h + h2h, in the original's order: input (sigmoid), input transform (tanh), forget (sigmoid),
output (sigmoid). Dropout, when > 0, applies to `data` only. Every node is named after `name`,
so graphs built twice have the same JSON.
"""
function unrolled_step(::LSTMCell, data::mx.SymbolicNode, (prev_c, prev_h), (i2h_W, h2h_W, i2h_b, h2h_b);
                       hidden::Int, dropout::Real = 0, name::Symbol)
    node(suffix) = Symbol(name, "_", suffix)
    if dropout > 0
        data = mx.Dropout(data; p = dropout, name = node("dropout"))
    end
    i2h = mx.FullyConnected(data = data, weight = i2h_W, bias = i2h_b, num_hidden = 4hidden, name = node("i2h"))
    h2h = mx.FullyConnected(data = prev_h, weight = h2h_W, bias = h2h_b, num_hidden = 4hidden, name = node("h2h"))
    gates = mx.SliceChannel(mx.elemwise_add(i2h, h2h; name = node("sum")); num_outputs = 4, name = node("gates"))
    in_gate = mx.Activation(gates[1]; act_type = :sigmoid, name = node("in_gate"))
    in_transform = mx.Activation(gates[2]; act_type = :tanh, name = node("in_transform"))
    forget_gate = mx.Activation(gates[3]; act_type = :sigmoid, name = node("forget_gate"))
    out_gate = mx.Activation(gates[4]; act_type = :sigmoid, name = node("out_gate"))
    next_c = mx.elemwise_add(mx.elemwise_mul(forget_gate, prev_c; name = node("kept_c")),
                             mx.elemwise_mul(in_gate, in_transform; name = node("new_c"));
                             name = node("next_c"))
    next_h = mx.elemwise_mul(out_gate, mx.Activation(next_c; act_type = :tanh, name = node("tanh_c"));
                             name = node("next_h"))
    return (next_c, next_h)
end
