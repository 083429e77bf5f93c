# A sampling step: for the fused graph, the fewest operators (Embedding, RNN, decoder,
# softmax) run as libmxnet's cached op, the states carried from step to step without a copy;
# for the unrolled graph, its training graph bound for one step (predictor.jl). A sampling step is small enough that per-operator and per-call
# overheads, not arithmetic, decide its speed: the training graph's one-hot input, state
# stacking, axis swaps and four state copies per step cost about as much as the LSTM itself.

"""
    StepPredictor(spec, arg_params, streams; context=mx.cpu())

The fused graph of `spec` (any dropout is off) for one step of `streams` streams, with a copy
of `arg_params` (the fused graph's parameters) on `context`. Each `predict_step!` starts from
the states the previous one ended with (zeros at first). Its probabilities are those of
`StatefulPredictor(spec, arg_params, 1, streams)`, operator for operator.
"""
mutable struct StepPredictor
    op::mx.CachedOp
    ids::mx.NDArray                  # each stream's input class, as Float32
    probs::mx.NDArray                # n_class × streams × 1
    states::Vector{Vector{mx.NDArray}}    # two sets, each the RNN operator's states (h, and an LSTM's c)
    inputs::Vector{Vector{Ptr{Cvoid}}}    # per set: the op's inputs reading that set's states
    outputs::Vector{Vector{Ptr{Cvoid}}}   # per set: the outputs writing the other set
    params::Vector{mx.NDArray}       # kept alive: the inputs hold their handles
    current::Int                     # the set that holds the states now
    staging::Matrix{Float32}         # the ids, staged (streams × 1)
    out::Array{Float32,3}            # the probabilities copied out (classes × streams × 1)
    probs_out::Matrix{Float32}       # `out`'s memory as classes × streams
end

# The RNN operator's states, in the order it takes and returns them.
operator_states(spec::ModelSpec) = :c in state_names(cell_of(spec)) ? (:h, :c) : (:h,)

function StepPredictor(spec::ModelSpec, arg_params::AbstractDict, streams::Int; context::mx.Context = mx.cpu())
    spec.graph == :fused || throw(ArgumentError("StepPredictor runs the fused graph, not $(spec.graph)"))
    graph = step_graph(spec)
    param(suffix) = node_name(spec, suffix)
    # The one-hot FullyConnected's weight (classes -> embedding) is the Embedding's, transposed.
    weights = Dict{Symbol,Array{Float32}}(param("embed_weight") => permutedims(copy(arg_params[param("embed_weight")])))
    for name in (fused_parameters_name(spec), param("pred_weight"), param("pred_bias"))
        weights[name] = copy(arg_params[name])
    end
    params = Dict(name => mx.NDArray(w; ctx = context) for (name, w) in weights)
    kinds = operator_states(spec)
    states = [[mx.zeros((spec.hidden, streams, spec.layers); ctx = context) for _ in kinds] for _ in 1:2]
    ids = mx.zeros((streams, 1); ctx = context)
    labels = mx.zeros((streams, 1); ctx = context)
    probs = mx.zeros((spec.n_class, streams, 1); ctx = context)
    state_of = Dict(param(String(kind)) => k for (k, kind) in enumerate(kinds))
    array(name, set) = name == param("data") ? ids : name == param("label") ? labels :
                       haskey(state_of, name) ? states[set][state_of[name]] : params[name]
    op = mx.CachedOp(graph)
    inputs = [mx.handles([array(name, set) for name in op.arguments]) for set in 1:2]
    # The outputs: the probabilities, then the RNN's final states, into the other set.
    outputs = [mx.handles([probs; states[3 - set]]) for set in 1:2]
    out = zeros(Float32, spec.n_class, streams, 1)
    return StepPredictor(op, ids, probs, states, inputs, outputs, [collect(values(params)); labels], 1,
                         zeros(Float32, streams, 1), out, reshape(out, spec.n_class, streams))
end

"""
    step_graph(spec) -> SymbolicNode

One step of the fused graph, time-major as the RNN operator takes it. Inputs `<name>_data`
(each stream's class id, streams × 1), `<name>_h` (and an LSTM's `<name>_c`; hidden ×
streams × layers), `<name>_label` (unused by the forward pass) and the parameters. Outputs:
the probabilities (classes × streams × 1), then the final states (`operator_states` order).
"""
function step_graph(spec::ModelSpec)
    var(suffix) = mx.Variable(node_name(spec, suffix))
    node(suffix) = node_name(spec, "step_" * suffix)
    embed = mx.Embedding(data = var("data"), weight = var("embed_weight"), input_dim = spec.n_class,
                         output_dim = spec.embed, name = node("embed"))
    kinds = operator_states(spec)
    out = rnn(spec, embed, var("h"), length(kinds) == 2 ? var("c") : nothing;
              name = node(String(rnn_mode(cell_of(spec)))))
    pred = mx.FullyConnected(data = out[1], weight = var("pred_weight"), bias = var("pred_bias"),
                             num_hidden = spec.n_class, flatten = false, name = node("pred"))
    softmax = mx.SoftmaxOutput(pred, var("label"); preserve_shape = true, name = node("softmax"))
    return mx.Group(softmax, (out[1 + k] for k in 1:length(kinds))...)
end

batch_size(p::StepPredictor) = size(p.staging, 1)

"""
    predict_step!(predictor, ids) -> Matrix{Float32}

Feeds each stream's class `ids` (0-based, one per stream) and returns the probabilities of the
next (classes × streams; the same matrix, overwritten, at every call).
"""
function predict_step!(p::StepPredictor, ids::AbstractVecOrMat{<:Integer})
    length(ids) == batch_size(p) ||
        throw(DimensionMismatch("predict_step! takes $(batch_size(p)) ids, got $(length(ids))"))
    for i in 1:batch_size(p)
        p.staging[i] = ids[i]
    end
    copy!(p.ids, p.staging)
    mx.invoke!(p.op, p.inputs[p.current], p.outputs[p.current])
    p.current = 3 - p.current
    copy!(p.out, p.probs)
    return p.probs_out
end

"Zeroes the carried states: the next step starts afresh, as a new predictor would."
function reset_states!(p::StepPredictor)
    foreach(set -> foreach(s -> fill!(s, 0), set), p.states)
    return p
end

"One step through the training graph's predictor (the unrolled graph's way to sample)."
predict_step!(p::StatefulPredictor, ids::AbstractVecOrMat{<:Integer}) = predict!(p, reshape(ids, 1, :))[1]

"""
    step_predictor(spec, arg_params, streams; context=mx.cpu())

The predictor that draws text with `spec`'s graph, one step for `streams` streams: the fused
graph's own `StepPredictor`, else the unrolled graph bound for one step.
"""
step_predictor(spec::ModelSpec, arg_params::AbstractDict, streams::Int; context::mx.Context = mx.cpu()) =
    step_predictor(graph_of(spec), spec, arg_params, streams, context)
step_predictor(::Fused, spec, arg_params, streams, context) = StepPredictor(spec, arg_params, streams; context = context)
step_predictor(::Unrolled, spec, arg_params, streams, context) =
    StatefulPredictor(spec, arg_params, 1, streams; context = context)
