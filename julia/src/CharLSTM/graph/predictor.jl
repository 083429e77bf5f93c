# Running a trained model forward over text a chunk at a time, its states carried along.

"""
    StatefulPredictor(spec, arg_params, seq_len, batch_size; context=mx.cpu())

The model (in its graph) over `seq_len` steps for `batch_size` parallel streams, bound once (no
gradients) to a copy of `arg_params` on `context`. Each `predict!` starts from the states the
previous one ended with (zeros at first).
"""
struct StatefulPredictor
    spec::ModelSpec
    seq_len::Int
    exec::mx.Executor
    data::Vector{mx.NDArray}          # the character inputs
    init_states::Vector{mx.NDArray}   # every layer's initial states, in `state_inputs` order
    staging::Array{Float32}           # the one-hot input, staged in Julia
end

function StatefulPredictor(spec::ModelSpec, arg_params::AbstractDict, seq_len::Int, batch_size::Int;
                           context::mx.Context = mx.cpu())
    lstm = LSTM(spec, seq_len; output_states = true)
    data_shapes = lstm_data_shapes(spec, seq_len, batch_size)
    inputs = [data_shapes; lstm_label_shapes(spec, seq_len, batch_size)]
    args = Dict{Symbol,mx.NDArray}(name => mx.zeros(shape; ctx = context) for (name, shape) in inputs)
    for (name, arr) in arg_params
        args[name] = copy(arr, context)
    end
    exec = mx.bind(lstm, context, args; grad_req = :null)
    n_states = n_state_outputs(spec)
    names = first.(data_shapes)
    return StatefulPredictor(spec, seq_len, exec, [args[n] for n in names[1:end-n_states]],
                             [args[n] for n in names[end-n_states+1:end]],
                             chars_staging(graph_of(spec), spec, seq_len, batch_size))
end

batch_size(p::StatefulPredictor) = size(p.staging)[end]

"""
    predict!(predictor, ids) -> Vector{Matrix{Float32}}

Feeds `ids` (0-based class ids, seq_len × batch) and returns each step's probabilities
(classes × batch); keeps the final states for the next call.
"""
function predict!(p::StatefulPredictor, ids::AbstractMatrix{<:Integer})
    size(ids) == (p.seq_len, batch_size(p)) ||
        throw(DimensionMismatch("predict! takes $(p.seq_len) × $(batch_size(p)) ids, got $(size(ids))"))
    load_chars!(graph_of(p.spec), p.data, p.staging, ids)
    outputs = mx.forward(p.exec)
    # The outputs after the probabilities are the final states, in init_states' order.
    for (state, final) in zip(p.init_states, outputs[n_prob_outputs(graph_of(p.spec), p.seq_len)+1:end])
        copy!(state, final)
    end
    return step_probs(graph_of(p.spec), outputs, p.seq_len)
end

"Zeroes the carried states: the next `predict!` starts afresh, as a new predictor would."
function reset_states!(p::StatefulPredictor)
    for state in p.init_states
        fill!(state, 0)
    end
    return p
end

"Makes `dst` go on from where `src` stopped: copies src's carried states into dst."
function copy_states!(dst::StatefulPredictor, src::StatefulPredictor)
    for (d, s) in zip(dst.init_states, src.init_states)
        copy!(d, s)
    end
    return dst
end
