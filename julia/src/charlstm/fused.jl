# The same LSTM through libmxnet's fused `RNN` operator (oneDNN on CPU, cuDNN on GPU): one
# operator for all layers and steps instead of the unrolled graph's hundreds of nodes.
#
# Only the LSTM weights differ: the RNN operator holds every layer's in one flat vector,
# `<name>_lstm_parameters`, and orders the gates input, forget, transform, output, where the
# unrolled cells use input, transform, forget, output. The embedding and decoder weights and
# the per-layer initial/final states keep the unrolled graph's names and sizes.

"""
    fused_lstm(spec, seq_len; output_states=false) -> SymbolicNode

Inputs: `<name>_data` (one-hot, n_class × seq_len × batch), `<name>_label` (seq_len ×
batch) and each layer's `<name>_l<l>_init_c`/`_init_h`. Outputs: the softmax (n_class ×
seq_len × batch), then (output_states) every layer's last c, then every layer's last h.
Batch is the last Julia dimension of every input, so data-parallel training can split it.
"""
function fused_lstm(spec::ModelSpec, seq_len::Int; output_states::Bool = false)
    name, layers = spec.name, spec.layers
    var(suffix) = mx.Variable(Symbol(name, "_", suffix))
    node(suffix) = Symbol(name, "_", suffix)
    # Axis numbers below are libmxnet's (row-major): data is (batch, time, classes) there.
    embed = mx.FullyConnected(data = var("data"), weight = var("embed_weight"), num_hidden = spec.embed,
                              no_bias = true, flatten = false, name = node("embed"))
    stacked(kind) = mx.Concat([mx.expand_dims(var("l$(l)_init_$kind"); axis = 0, name = node("l$(l)_$(kind)_0"))
                               for l in 1:layers]...; dim = 0, num_args = layers, name = node("init_$kind"))
    rnn = mx.RNN(data = mx.SwapAxis(embed; dim1 = 0, dim2 = 1, name = node("time_major")),
                 parameters = var("lstm_parameters"), state = stacked("h"), state_cell = stacked("c"),
                 state_size = spec.hidden, num_layers = layers, mode = :lstm, p = spec.dropout,
                 state_outputs = true, name = node("lstm"))
    hidden = mx.SwapAxis(rnn[1]; dim1 = 0, dim2 = 1, name = node("batch_major"))
    if spec.dropout > 0
        hidden = mx.Dropout(hidden; p = spec.dropout, name = node("pred_dropout"))
    end
    pred = mx.FullyConnected(data = hidden, weight = var("pred_weight"), bias = var("pred_bias"),
                             num_hidden = spec.n_class, flatten = false, name = node("pred"))
    softmax = mx.SoftmaxOutput(pred, var("label"); preserve_shape = true, name = node("softmax"))
    output_states || return softmax
    per_layer(state, kind) = layers == 1 ? [mx.Reshape(state; shape = (spec.hidden, -1), name = node("l1_$kind"))] :
        (split = mx.SliceChannel(state; num_outputs = layers, axis = 0, squeeze_axis = true,
                                 name = node("$(kind)_layers"));
         [split[l] for l in 1:layers])
    final(state, kind) = [mx.BlockGrad(s; name = node("l$(l)_last_$kind")) for (l, s) in enumerate(per_layer(state, kind))]
    return mx.Group(softmax, final(rnn[3], "c")..., final(rnn[2], "h")...)
end

# Sizes of the fused graph's character inputs and labels (Julia order, batch last).
fused_data_shape(seq_len, n_class, batch_size) = (n_class, seq_len, batch_size)
fused_label_shape(seq_len, batch_size) = (seq_len, batch_size)

# ----- weights: unrolled <-> fused -------------------------------------------------------------

# Unrolled gate blocks (i, g, f, o) in the fused order (i, f, g, o); the swap is its own inverse.
const GATE_ORDER = (1, 3, 2, 4)

# The gates (blocks of `hidden` along the last dimension) of a weight or bias, reordered.
function swap_gates(a::AbstractArray, hidden::Int)
    blocks = [selectdim(a, ndims(a), (g - 1) * hidden + 1:g * hidden) for g in GATE_ORDER]
    return cat(blocks...; dims = ndims(a))
end

lstm_param_names(name::Symbol, l::Int) =
    [Symbol(name, "_l$(l)_", part) for part in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")]

"""
    to_fused(arg_params, spec) -> Dict

The unrolled graph's parameters as the fused graph's: every layer's i2h and h2h weights, then
every layer's i2h and h2h biases, gates reordered, in one vector (the RNN operator's layout;
a Julia weight of size (inputs, 4hidden) is libmxnet's (4hidden, inputs) row-major, the same memory).
Works on any per-parameter arrays with the weights' sizes, e.g. optimizer states.
"""
function to_fused(arg_params::AbstractDict, spec::ModelSpec)
    layer_names = Set(vcat([lstm_param_names(spec.name, l) for l in 1:spec.layers]...))
    out = Dict{Symbol,mx.NDArray}(k => v for (k, v) in arg_params if !(k in layer_names))
    weights, biases = Vector{Float32}[], Vector{Float32}[]
    for l in 1:spec.layers
        i2h_W, h2h_W, i2h_b, h2h_b = [copy(arg_params[n]) for n in lstm_param_names(spec.name, l)]
        append!(weights, [vec(swap_gates(i2h_W, spec.hidden)), vec(swap_gates(h2h_W, spec.hidden))])
        append!(biases, [swap_gates(i2h_b, spec.hidden), swap_gates(h2h_b, spec.hidden)])
    end
    out[Symbol(spec.name, "_lstm_parameters")] = mx.NDArray(vcat(weights..., biases...))
    return out
end

"""
    to_unrolled(arg_params, spec) -> Dict

The inverse of `to_fused`: the flat `<name>_lstm_parameters` cut into every layer's weights
and biases, gates back in the unrolled order.
"""
function to_unrolled(arg_params::AbstractDict, spec::ModelSpec)
    flat_name = Symbol(spec.name, "_lstm_parameters")
    out = Dict{Symbol,mx.NDArray}(k => v for (k, v) in arg_params if k != flat_name)
    flat, hidden = copy(arg_params[flat_name]), spec.hidden
    offset = 0
    take(dims...) = (block = reshape(flat[offset+1:offset+prod(dims)], dims...); offset += prod(dims); block)
    in_size(l) = l == 1 ? spec.embed : hidden
    names = [lstm_param_names(spec.name, l) for l in 1:spec.layers]
    for l in 1:spec.layers
        out[names[l][1]] = mx.NDArray(swap_gates(take(in_size(l), 4hidden), hidden))
        out[names[l][2]] = mx.NDArray(swap_gates(take(hidden, 4hidden), hidden))
    end
    for l in 1:spec.layers
        out[names[l][3]] = mx.NDArray(swap_gates(take(4hidden), hidden))
        out[names[l][4]] = mx.NDArray(swap_gates(take(4hidden), hidden))
    end
    offset == length(flat) ||
        throw(ArgumentError("$flat_name has $(length(flat)) values, the model needs $offset"))
    return out
end
