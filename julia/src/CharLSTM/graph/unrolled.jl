# The original's graph: every step of every layer unrolled into libmxnet nodes (the cell's
# `unrolled_step`), one one-hot input and one softmax per step.

struct Unrolled <: Graph end
graph_named(::Val{:unrolled}) = Unrolled()

"""
    build(Unrolled(), spec, seq_len; output_states=false) -> SymbolicNode

Inputs per step t: `<name>_data_t` (one-hot, n_class × batch) and `<name>_label_t`; per layer
l and state s: `<name>_l<l>_init_<s>`. Outputs: the softmax of every step, then
(output_states) the final states, each wrapped in BlockGrad as `<name>_l<l>_last_<s>`. A
layer's output is its cell's last state (h). Dropout applies to the inputs of layers >= 2 and
of the decoder.
"""
function build(::Unrolled, spec::ModelSpec, seq_len::Int; output_states::Bool = false)
    cell, dropout = cell_of(spec), spec.dropout
    var(suffix) = mx.Variable(node_name(spec, suffix))
    embed_W, pred_W, pred_b = var("embed_weight"), var("pred_weight"), var("pred_bias")
    weights = [Tuple(mx.Variable.(layer_param_names(spec, l))) for l in 1:spec.layers]
    states = [Tuple(var("l$(l)_init_$s") for s in state_names(cell)) for l in 1:spec.layers]
    step_kind = String(rnn_mode(cell))

    outputs = mx.SymbolicNode[]
    for t in 1:seq_len
        hidden = mx.FullyConnected(data = var("data_$t"), weight = embed_W, num_hidden = spec.embed,
                                   no_bias = true, name = node_name(spec, "embed_$t"))
        for l in 1:spec.layers
            # Layer 1 reads the embedding: dropping characters of the input would lose data.
            states[l] = unrolled_step(cell, hidden, states[l], weights[l]; hidden = spec.hidden,
                                      dropout = l == 1 ? 0 : dropout, name = node_name(spec, "$(step_kind)_$(t)_l$l"))
            hidden = last(states[l])
        end
        if dropout > 0
            hidden = mx.Dropout(hidden; p = dropout, name = node_name(spec, "pred_dropout_$t"))
        end
        pred = mx.FullyConnected(data = hidden, weight = pred_W, bias = pred_b, num_hidden = spec.n_class,
                                 name = node_name(spec, "pred_$t"))
        push!(outputs, mx.SoftmaxOutput(pred, var("label_$t"); name = node_name(spec, "softmax_$t")))
    end

    # BlockGrad closes the dangling final states: they pass on no gradient.
    finals = [mx.BlockGrad(states[l][k]; name = node_name(spec, "l$(l)_last_$s"))
              for (k, s) in enumerate(state_names(cell)) for l in 1:spec.layers]
    output_states && append!(outputs, finals)
    return mx.Group(outputs...)
end

char_inputs(::Unrolled, spec::ModelSpec, seq_len::Int, batch_size::Int) =
    Pair{Symbol,Tuple}[node_name(spec, "data_$t") => (spec.n_class, batch_size) for t in 1:seq_len]
label_inputs(::Unrolled, spec::ModelSpec, seq_len::Int, batch_size::Int) =
    Pair{Symbol,Tuple}[node_name(spec, "label_$t") => (batch_size,) for t in 1:seq_len]

"The Julia array `load_chars!` stages one-hot characters in."
chars_staging(::Unrolled, spec::ModelSpec, seq_len::Int, batch_size::Int) = zeros(Float32, spec.n_class, batch_size)

"""
    load_chars!(graph, data, staging, ids)

Puts `ids` (0-based class ids, seq_len × batch) into the character inputs `data` (the first
`lstm_data_shapes` arrays) as one-hot columns, staged in `staging` (`chars_staging`).
"""
function load_chars!(::Unrolled, data::AbstractVector{mx.NDArray}, staging::Array{Float32},
                     ids::AbstractMatrix{<:Integer})
    for t in axes(ids, 1)
        fill!(staging, 0)
        for i in axes(ids, 2)
            staging[ids[t, i] + 1, i] = 1
        end
        copy!(data[t], staging)
    end
end

"Puts `ids` (seq_len × batch) into the label inputs `labels`."
function load_labels!(::Unrolled, labels::AbstractVector{mx.NDArray}, ids::AbstractMatrix{<:Integer})
    for t in axes(ids, 1)
        copy!(labels[t], Float32.(ids[t, :]))
    end
end

"""
    step_probs(graph, outputs, seq_len) -> Vector{Matrix{Float32}}

Each step's probabilities (classes × batch), from a forward pass's outputs.
"""
step_probs(::Unrolled, outputs::AbstractVector{mx.NDArray}, seq_len::Int) = [copy(outputs[t]) for t in 1:seq_len]

"How many outputs come before the final states."
n_prob_outputs(::Unrolled, seq_len::Int) = seq_len

# The unrolled layout is the one every graph converts through.
to_unrolled(::Unrolled, arg_params::AbstractDict, spec::ModelSpec) = arg_params
from_unrolled(::Unrolled, arg_params::AbstractDict, spec::ModelSpec) = arg_params
