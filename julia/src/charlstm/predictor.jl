# Running a trained LSTM forward over text a chunk at a time, its states carried along.

"""
    StatefulPredictor(spec, arg_params, seq_len, batch_size; context=mx.cpu())

The LSTM unrolled over `seq_len` steps for `batch_size` parallel streams, bound once (no
gradients) to a copy of `arg_params` on `context`. Each `predict!` starts from the states the
previous one ended with (zeros at first).
"""
struct StatefulPredictor
    seq_len::Int
    exec::mx.Executor
    data::Vector{mx.NDArray}          # the one-hot input of each step
    init_states::Vector{mx.NDArray}   # every layer's init c, then every layer's init h
    onehot::Matrix{Float32}           # one step's input, staged in Julia
end

function StatefulPredictor(spec::ModelSpec, arg_params::AbstractDict, seq_len::Int, batch_size::Int;
                           context::mx.Context = mx.cpu())
    lstm = LSTM(spec, seq_len; output_states = true)
    inputs = [lstm_data_shapes(spec, seq_len, batch_size); lstm_label_shapes(spec.name, seq_len, batch_size)]
    args = Dict{Symbol,mx.NDArray}(name => mx.zeros(shape; ctx = context) for (name, shape) in inputs)
    for (name, arr) in arg_params
        args[name] = copy(arr, context)
    end
    exec = mx.bind(lstm, context, args; grad_req = :null)
    data_names = first.(inputs[1:seq_len])
    state_names = first.(inputs[seq_len+1:seq_len+2spec.n_layer])
    return StatefulPredictor(seq_len, exec, [args[n] for n in data_names], [args[n] for n in state_names],
                             zeros(Float32, spec.n_class, batch_size))
end

"""
    predict!(predictor, ids) -> Vector{Matrix{Float32}}

Feeds `ids` (0-based class ids, seq_len × batch) and returns each step's probabilities
(classes × batch); keeps the final states for the next call.
"""
function predict!(p::StatefulPredictor, ids::AbstractMatrix{<:Integer})
    size(ids) == (p.seq_len, size(p.onehot, 2)) ||
        throw(DimensionMismatch("predict! takes $(p.seq_len) × $(size(p.onehot, 2)) ids, got $(size(ids))"))
    for t in 1:p.seq_len
        fill!(p.onehot, 0)
        for (i, id) in enumerate(view(ids, t, :))
            p.onehot[id + 1, i] = 1
        end
        copy!(p.data[t], p.onehot)
    end
    outputs = mx.forward(p.exec)
    # The outputs after the softmaxes are the final states, in init_states' order.
    for (state, final) in zip(p.init_states, outputs[p.seq_len+1:end])
        copy!(state, final)
    end
    return [copy(outputs[t]) for t in 1:p.seq_len]
end

"Makes `dst` go on from where `src` stopped: copies src's carried states into dst."
function copy_states!(dst::StatefulPredictor, src::StatefulPredictor)
    for (d, s) in zip(dst.init_states, src.init_states)
        copy!(d, s)
    end
    return dst
end
