"""
PyJLChar: MXNet.jl's char-lstm example on libmxnet, driven from Python.

Layers, bottom up: `JSON` (no JSON in the standard library), `mx` (the libmxnet binding),
the char-lstm (model, data, training, sampling), `Bridge` (the C entry point for Python) and
`Commands` (what Python calls: its keywords made into the char-lstm's types).
"""
module PyJLChar

using Printf: @sprintf
import SHA

include("json.jl")
include("errors.jl")
include("mx/MXNet.jl")
const mx = MXNet
include("info.jl")
include("charlstm/hooks.jl")
include("charlstm/model_spec.jl")
include("charlstm/train_settings.jl")
include("charlstm/lstm.jl")
include("charlstm/fused.jl")
include("charlstm/vocab.jl")
include("charlstm/text_reader.jl")
include("charlstm/encoded_corpus.jl")
include("charlstm/corpus_identity.jl")
include("charlstm/provider.jl")
include("charlstm/nll.jl")
include("charlstm/checkpoint_meta.jl")
include("charlstm/predictor.jl")
include("charlstm/step_predictor.jl")
include("charlstm/trained_model.jl")
include("charlstm/sampler.jl")
include("charlstm/evaluate.jl")
include("charlstm/graph_export.jl")
include("charlstm/run_lock.jl")
include("charlstm/memory_estimate.jl")
include("charlstm/run_policy.jl")
include("charlstm/train.jl")
include("charlstm/bench.jl")
include("bridge.jl")
include("commands.jl")

end # module
