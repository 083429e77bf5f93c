# The char-lstm graph: an LSTM explicitly unrolled over time, named as in MXNet.jl's example.

"The two states an LSTM cell carries from one step to the next."
struct LSTMState
    c::mx.SymbolicNode
    h::mx.SymbolicNode
end

"The weights of one LSTM layer, shared by all its unrolled steps."
struct LSTMParam
    i2h_W::mx.SymbolicNode
    h2h_W::mx.SymbolicNode
    i2h_b::mx.SymbolicNode
    h2h_b::mx.SymbolicNode
end

"""
    lstm_cell(data, prev_state, param; hidden, dropout=0, name) -> LSTMState

One LSTM step. The four gates come from one SliceChannel of i2h + h2h, in the original's
order: input (sigmoid), input transform (tanh), forget (sigmoid), output (sigmoid). Dropout,
when > 0, applies to `data` only. Every node is named after `name`, so graphs built twice
have the same JSON.
"""
function lstm_cell(data::mx.SymbolicNode, prev_state::LSTMState, param::LSTMParam;
                   hidden::Int, dropout::Real = 0, name::Symbol)
    node_name(suffix) = Symbol(name, "_", suffix)
    if dropout > 0
        data = mx.Dropout(data; p = dropout, name = node_name("dropout"))
    end
    i2h = mx.FullyConnected(data = data, weight = param.i2h_W, bias = param.i2h_b,
                            num_hidden = 4hidden, name = node_name("i2h"))
    h2h = mx.FullyConnected(data = prev_state.h, weight = param.h2h_W, bias = param.h2h_b,
                            num_hidden = 4hidden, name = node_name("h2h"))
    gates = mx.SliceChannel(mx.elemwise_add(i2h, h2h; name = node_name("sum"));
                            num_outputs = 4, name = node_name("gates"))
    in_gate = mx.Activation(gates[1]; act_type = :sigmoid, name = node_name("in_gate"))
    in_transform = mx.Activation(gates[2]; act_type = :tanh, name = node_name("in_transform"))
    forget_gate = mx.Activation(gates[3]; act_type = :sigmoid, name = node_name("forget_gate"))
    out_gate = mx.Activation(gates[4]; act_type = :sigmoid, name = node_name("out_gate"))
    next_c = mx.elemwise_add(mx.elemwise_mul(forget_gate, prev_state.c; name = node_name("kept_c")),
                             mx.elemwise_mul(in_gate, in_transform; name = node_name("new_c"));
                             name = node_name("next_c"))
    next_h = mx.elemwise_mul(out_gate, mx.Activation(next_c; act_type = :tanh, name = node_name("tanh_c"));
                             name = node_name("next_h"))
    return LSTMState(next_c, next_h)
end

"""
    LSTM(spec, seq_len; output_states=false) -> SymbolicNode

The char-lstm `spec` over `seq_len` steps, built with its cell (`unrolled_lstm` or
`fused_lstm`). With `output_states` the final states follow the probabilities as outputs,
every layer's c, then every layer's h, for carrying them into the next call.
"""
LSTM(spec::ModelSpec, seq_len::Int; output_states::Bool = false) =
    (spec.cell == :fused ? fused_lstm : unrolled_lstm)(spec, seq_len; output_states = output_states)

"""
    unrolled_lstm(spec, seq_len; output_states=false) -> SymbolicNode

The original's graph. Inputs per step t: `<name>_data_t` (one-hot, n_class × batch) and
`<name>_label_t`; per layer l: `<name>_l<l>_init_c`/`_init_h`. Outputs: the softmax of every
step, then (output_states) the final states. Dropout applies to the inputs of layers >= 2
and of the decoder.
"""
function unrolled_lstm(spec::ModelSpec, seq_len::Int; output_states::Bool = false)
    name, dropout = spec.name, spec.dropout
    var(suffix) = mx.Variable(Symbol(name, "_", suffix))
    embed_W, pred_W, pred_b = var("embed_weight"), var("pred_weight"), var("pred_bias")
    params = [LSTMParam(var("l$(l)_i2h_weight"), var("l$(l)_h2h_weight"),
                        var("l$(l)_i2h_bias"), var("l$(l)_h2h_bias")) for l in 1:spec.layers]
    states = [LSTMState(var("l$(l)_init_c"), var("l$(l)_init_h")) for l in 1:spec.layers]

    outputs = mx.SymbolicNode[]
    for t in 1:seq_len
        hidden = mx.FullyConnected(data = var("data_$t"), weight = embed_W, num_hidden = spec.embed,
                                   no_bias = true, name = Symbol(name, "_embed_$t"))
        for l in 1:spec.layers
            # Layer 1 reads the embedding: dropping characters of the input would lose data.
            states[l] = lstm_cell(hidden, states[l], params[l]; hidden = spec.hidden,
                                  dropout = l == 1 ? 0 : dropout, name = Symbol(name, "_lstm_$(t)_l$l"))
            hidden = states[l].h
        end
        if dropout > 0
            hidden = mx.Dropout(hidden; p = dropout, name = Symbol(name, "_pred_dropout_$t"))
        end
        pred = mx.FullyConnected(data = hidden, weight = pred_W, bias = pred_b, num_hidden = spec.n_class,
                                 name = Symbol(name, "_pred_$t"))
        push!(outputs, mx.SoftmaxOutput(pred, var("label_$t"); name = Symbol(name, "_softmax_$t")))
    end

    # BlockGrad closes the dangling final states: they pass on no gradient.
    last_c = [mx.BlockGrad(states[l].c; name = Symbol(name, "_l$(l)_last_c")) for l in 1:spec.layers]
    last_h = [mx.BlockGrad(states[l].h; name = Symbol(name, "_l$(l)_last_h")) for l in 1:spec.layers]
    output_states && append!(outputs, vcat(last_c, last_h))
    return mx.Group(outputs...)
end

"""
    lstm_data_shapes(spec, seq_len, batch_size)

The data inputs of `LSTM(spec, seq_len)` and their sizes, in the order data providers list
them: the characters (one one-hot input per step for the unrolled cell, one for all steps for
the fused), then each layer's initial c, then each layer's initial h.
"""
function lstm_data_shapes(spec::ModelSpec, seq_len::Int, batch_size::Int)
    chars = spec.cell == :lstm ?
        [Symbol(spec.name, "_data_$t") => (spec.n_class, batch_size) for t in 1:seq_len] :
        [Symbol(spec.name, "_data") => fused_data_shape(seq_len, spec.n_class, batch_size)]
    return Pair{Symbol,Tuple}[
        chars;
        [Symbol(spec.name, "_l$(l)_init_c") => (spec.hidden, batch_size) for l in 1:spec.layers];
        [Symbol(spec.name, "_l$(l)_init_h") => (spec.hidden, batch_size) for l in 1:spec.layers]]
end

"The label inputs of `LSTM(spec, seq_len)` and their sizes: the next character's class ids."
lstm_label_shapes(spec::ModelSpec, seq_len::Int, batch_size::Int) =
    spec.cell == :lstm ? Pair{Symbol,Tuple}[Symbol(spec.name, "_label_$t") => (batch_size,) for t in 1:seq_len] :
    Pair{Symbol,Tuple}[Symbol(spec.name, "_label") => fused_label_shape(seq_len, batch_size)]

"""
    parameter_shapes(spec) -> Vector{Pair{Symbol,Tuple}}

The learned arguments (every argument but data, labels and initial states) and their sizes,
in `list_arguments` order.
"""
function parameter_shapes(spec::ModelSpec)
    lstm = LSTM(spec, 1)
    inputs = Dict([lstm_data_shapes(spec, 1, 1); lstm_label_shapes(spec, 1, 1)])
    arg_shapes, _, _ = mx.infer_shape(lstm, inputs)
    return Pair{Symbol,Tuple}[name => shape for (name, shape) in zip(mx.list_arguments(lstm), arg_shapes)
                              if !haskey(inputs, name)]
end
"""
    convert_cell(arg_params, spec, cell) -> Dict

`spec`'s parameters (or any per-parameter arrays of their sizes) as the `cell` model's.
"""
convert_cell(arg_params::AbstractDict, spec::ModelSpec, cell::Symbol) =
    cell == spec.cell ? arg_params : cell == :fused ? to_fused(arg_params, spec) : to_unrolled(arg_params, spec)

"""
    load_chars!(spec, data, staging, ids)

Puts `ids` (0-based class ids, seq_len × batch) into the character inputs `data` (the first
`lstm_data_shapes` arrays) as one-hot columns, staging them in `staging`, a Julia array of
size (n_class, batch) for the unrolled cell and (n_class, seq_len, batch) for the fused.
"""
function load_chars!(spec::ModelSpec, data::AbstractVector{mx.NDArray}, staging::Array{Float32},
                     ids::AbstractMatrix{<:Integer})
    if spec.cell == :fused
        fill!(staging, 0)
        for i in axes(ids, 2), t in axes(ids, 1)
            staging[ids[t, i] + 1, t, i] = 1
        end
        return copy!(data[1], staging)
    end
    for t in axes(ids, 1)
        fill!(staging, 0)
        for i in axes(ids, 2)
            staging[ids[t, i] + 1, i] = 1
        end
        copy!(data[t], staging)
    end
end

"Puts `ids` (seq_len × batch) into the label inputs `labels`."
function load_labels!(spec::ModelSpec, labels::AbstractVector{mx.NDArray}, ids::AbstractMatrix{<:Integer})
    spec.cell == :fused && return copy!(labels[1], Float32.(ids))
    for t in axes(ids, 1)
        copy!(labels[t], Float32.(ids[t, :]))
    end
end

"The staging array `load_chars!` needs."
chars_staging(spec::ModelSpec, seq_len::Int, batch_size::Int) =
    spec.cell == :fused ? zeros(Float32, spec.n_class, seq_len, batch_size) :
    zeros(Float32, spec.n_class, batch_size)

"""
    step_probs(spec, outputs, seq_len) -> Vector{Matrix{Float32}}

Each step's probabilities (classes × batch), from a forward pass's outputs.
"""
function step_probs(spec::ModelSpec, outputs::AbstractVector{mx.NDArray}, seq_len::Int)
    spec.cell == :lstm && return [copy(outputs[t]) for t in 1:seq_len]
    probs = copy(outputs[1])
    return [probs[:, t, :] for t in 1:seq_len]
end

"How many outputs come before the final states."
n_prob_outputs(spec::ModelSpec, seq_len::Int) = spec.cell == :lstm ? seq_len : 1
