# A checkpoint loaded once, then sampled, streamed from and scored any number of times.

"""
    TrainedModel(params_path; graph=nothing, context=mx.cpu())

The checkpoint `params_path` (a `.params` file) with its meta file, run by `graph`
(`:unrolled`, `:fused`; `nothing`: the graph that wrote it) on `context`. Sampling keeps the
one-step predictor it bound (`sampler!`), so calls with the same number of streams bind no
new executor: a model used many times does not grow.
"""
mutable struct TrainedModel
    path::String
    meta::RunMeta
    spec::ModelSpec
    vocab::Vocabulary
    arg_params::AbstractDict
    context::mx.Context
    sampler::Union{StepPredictor,StatefulPredictor,Nothing}
end

function TrainedModel(params_path::AbstractString; graph::Union{Symbol,Nothing} = nothing,
                      context::mx.Context = mx.cpu())
    meta, spec, arg_params = load_trained(params_path; graph = graph)
    return TrainedModel(params_path, meta, spec, meta.vocab, arg_params, context, nothing)
end

"A one-step predictor of `m` for `streams` streams, starting from zero states."
function sampler!(m::TrainedModel, streams::Int)
    if m.sampler === nothing || batch_size(m.sampler) != streams
        m.sampler = step_predictor(m.spec, m.arg_params, streams; context = m.context)
        return m.sampler
    end
    return reset_states!(m.sampler)
end
