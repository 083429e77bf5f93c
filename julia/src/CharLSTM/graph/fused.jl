# The same network through libmxnet's fused `RNN` operator (oneDNN on CPU, cuDNN on GPU): one
# operator for all layers and steps instead of the unrolled graph's hundreds of nodes.
#
# Only the recurrent weights differ: the RNN operator holds every layer's in one flat vector,
# `<name>_<mode>_parameters`, its gate blocks in its own order (the cell's `fused_gate_order`).
# The embedding and decoder weights and the per-layer initial and final states keep the
# unrolled graph's names and sizes.

struct Fused <: Graph end
graph_named(::Val{:fused}) = Fused()

"The flat vector of the RNN operator's weights: `<name>_lstm_parameters` for an LSTM."
fused_parameters_name(spec::ModelSpec) = node_name(spec, "$(rnn_mode(cell_of(spec)))_parameters")

# The cell's states stacked as the RNN operator takes them (one array per state, layers first).
stacked_states(spec::ModelSpec, state::Symbol) =
    mx.Concat([mx.expand_dims(mx.Variable(node_name(spec, "l$(l)_init_$state")); axis = 0,
                              name = node_name(spec, "l$(l)_$(state)_0")) for l in 1:spec.layers]...;
              dim = 0, num_args = spec.layers, name = node_name(spec, "init_$state"))

"""
    rnn(spec, data, h, c) -> SymbolicNode

libmxnet's RNN operator in the mode of `spec`'s cell, with its states as outputs: [1] the
sequence's outputs, [2] the final h, [3] the final c (an LSTM's).
"""
function rnn(spec::ModelSpec, data, h, c; p::Real = 0, name::Symbol)
    cell = cell_of(spec)
    states = :c in state_names(cell) ? (state = h, state_cell = c) : (state = h,)
    return mx.RNN(; data = data, parameters = mx.Variable(fused_parameters_name(spec)), states...,
                  state_size = spec.hidden, num_layers = spec.layers, mode = rnn_mode(cell), p = p,
                  state_outputs = true, name = name)
end

"""
    build(Fused(), spec, seq_len; output_states=false) -> SymbolicNode

Inputs: `<name>_data` (one-hot, n_class × seq_len × batch), `<name>_label` (seq_len × batch)
and each layer's initial states. Outputs: the softmax (n_class × seq_len × batch), then
(output_states) the final states in `state_names` order, each layer's in turn. Batch is the
last Julia dimension of every input, so data-parallel training can split it.
"""
function build(::Fused, spec::ModelSpec, seq_len::Int; output_states::Bool = false)
    cell = cell_of(spec)
    node(suffix) = node_name(spec, suffix)
    var(suffix) = mx.Variable(node(suffix))
    # Axis numbers below are libmxnet's (row-major): data is (batch, time, classes) there.
    embed = mx.FullyConnected(data = var("data"), weight = var("embed_weight"), num_hidden = spec.embed,
                              no_bias = true, flatten = false, name = node("embed"))
    has_c = :c in state_names(cell)
    out = rnn(spec, mx.SwapAxis(embed; dim1 = 0, dim2 = 1, name = node("time_major")), stacked_states(spec, :h),
              has_c ? stacked_states(spec, :c) : nothing; p = spec.dropout, name = node(String(rnn_mode(cell))))
    hidden = mx.SwapAxis(out[1]; dim1 = 0, dim2 = 1, name = node("batch_major"))
    if spec.dropout > 0
        hidden = mx.Dropout(hidden; p = spec.dropout, name = node("pred_dropout"))
    end
    pred = mx.FullyConnected(data = hidden, weight = var("pred_weight"), bias = var("pred_bias"),
                             num_hidden = spec.n_class, flatten = false, name = node("pred"))
    softmax = mx.SoftmaxOutput(pred, var("label"); preserve_shape = true, name = node("softmax"))
    output_states || return softmax
    per_layer(state, kind) = spec.layers == 1 ? [mx.Reshape(state; shape = (spec.hidden, -1), name = node("l1_$kind"))] :
        (split = mx.SliceChannel(state; num_outputs = spec.layers, axis = 0, squeeze_axis = true,
                                 name = node("$(kind)_layers"));
         [split[l] for l in 1:spec.layers])
    final(kind) = [mx.BlockGrad(s; name = node("l$(l)_last_$kind"))
                   for (l, s) in enumerate(per_layer(kind == :c ? out[3] : out[2], kind))]
    return mx.Group(softmax, vcat((final(s) for s in state_names(cell))...)...)
end

char_inputs(::Fused, spec::ModelSpec, seq_len::Int, batch_size::Int) =
    Pair{Symbol,Tuple}[node_name(spec, "data") => (spec.n_class, seq_len, batch_size)]
label_inputs(::Fused, spec::ModelSpec, seq_len::Int, batch_size::Int) =
    Pair{Symbol,Tuple}[node_name(spec, "label") => (seq_len, batch_size)]

chars_staging(::Fused, spec::ModelSpec, seq_len::Int, batch_size::Int) = zeros(Float32, spec.n_class, seq_len, batch_size)

function load_chars!(::Fused, data::AbstractVector{mx.NDArray}, staging::Array{Float32}, ids::AbstractMatrix{<:Integer})
    fill!(staging, 0)
    for i in axes(ids, 2), t in axes(ids, 1)
        staging[ids[t, i] + 1, t, i] = 1
    end
    return copy!(data[1], staging)
end

load_labels!(::Fused, labels::AbstractVector{mx.NDArray}, ids::AbstractMatrix{<:Integer}) =
    copy!(labels[1], Float32.(ids))

function step_probs(::Fused, outputs::AbstractVector{mx.NDArray}, seq_len::Int)
    probs = copy(outputs[1])
    return [probs[:, t, :] for t in 1:seq_len]
end

n_prob_outputs(::Fused, seq_len::Int) = 1

# ----- weights: unrolled <-> fused -------------------------------------------------------------

# The gate blocks (of `hidden` along the last dimension) of a weight or bias, taken in `order`.
function reorder_gates(a::AbstractArray, hidden::Int, order)
    blocks = [selectdim(a, ndims(a), (g - 1) * hidden + 1:g * hidden) for g in order]
    return cat(blocks...; dims = ndims(a))
end

# The inverse permutation of a gate order: reordering by one and then the other is the identity.
inverse_order(order) = Tuple(sortperm(collect(order)))

"""
    from_unrolled(Fused(), arg_params, spec) -> Dict

The unrolled graph's parameters as the fused graph's: every layer's i2h and h2h weights, then
every layer's i2h and h2h biases, gates in the operator's order, in one vector (the RNN
operator's layout; a Julia weight of size (inputs, gates × hidden) is libmxnet's
(gates × hidden, inputs) row-major, the same memory). Works on any per-parameter arrays with
the weights' sizes, e.g. optimizer states.
"""
function from_unrolled(::Fused, arg_params::AbstractDict, spec::ModelSpec)
    layer_names = Set(vcat([layer_param_names(spec, l) for l in 1:spec.layers]...))
    out = Dict{Symbol,mx.NDArray}(k => v for (k, v) in arg_params if !(k in layer_names))
    order = fused_gate_order(cell_of(spec))
    weights, biases = Vector{Float32}[], Vector{Float32}[]
    for l in 1:spec.layers
        i2h_W, h2h_W, i2h_b, h2h_b = [copy(arg_params[n]) for n in layer_param_names(spec, l)]
        append!(weights, [vec(reorder_gates(i2h_W, spec.hidden, order)), vec(reorder_gates(h2h_W, spec.hidden, order))])
        append!(biases, [reorder_gates(i2h_b, spec.hidden, order), reorder_gates(h2h_b, spec.hidden, order)])
    end
    out[fused_parameters_name(spec)] = mx.NDArray(vcat(weights..., biases...))
    return out
end

"""
    to_unrolled(Fused(), arg_params, spec) -> Dict

The inverse of `from_unrolled`: the flat vector cut into every layer's weights and biases,
gates back in the unrolled order.
"""
function to_unrolled(::Fused, arg_params::AbstractDict, spec::ModelSpec)
    flat_name = fused_parameters_name(spec)
    out = Dict{Symbol,mx.NDArray}(k => v for (k, v) in arg_params if k != flat_name)
    flat, hidden = copy(arg_params[flat_name]), spec.hidden
    rows = n_gates(cell_of(spec)) * hidden
    order = inverse_order(fused_gate_order(cell_of(spec)))
    offset = 0
    take(dims...) = (block = reshape(flat[offset+1:offset+prod(dims)], dims...); offset += prod(dims); block)
    in_size(l) = l == 1 ? spec.embed : hidden
    names = [layer_param_names(spec, l) for l in 1:spec.layers]
    for l in 1:spec.layers
        out[names[l][1]] = mx.NDArray(reorder_gates(take(in_size(l), rows), hidden, order))
        out[names[l][2]] = mx.NDArray(reorder_gates(take(hidden, rows), hidden, order))
    end
    for l in 1:spec.layers
        out[names[l][3]] = mx.NDArray(reorder_gates(take(rows), hidden, order))
        out[names[l][4]] = mx.NDArray(reorder_gates(take(rows), hidden, order))
    end
    offset == length(flat) ||
        throw(ArgumentError("$flat_name has $(length(flat)) values, the model needs $offset"))
    return out
end
