"""
PyJLChar: MXNet.jl's char-lstm example on libmxnet, driven from Python.

Layers, bottom up: `JSON` (no JSON in the standard library), `mx` (the libmxnet binding),
the char-lstm (model, data, training, sampling), and `Bridge` (the entry point for Python).
"""
module PyJLChar

include("json.jl")
include("errors.jl")
include("mx/MXNet.jl")
const mx = MXNet
include("info.jl")
include("charlstm/lstm.jl")
include("charlstm/fused.jl")
include("charlstm/vocab.jl")
include("charlstm/provider.jl")
include("charlstm/nll.jl")
include("charlstm/checkpoint_meta.jl")
include("charlstm/device.jl")
include("charlstm/predictor.jl")
include("charlstm/sampler.jl")
include("charlstm/evaluate.jl")
include("charlstm/graph_export.jl")
include("charlstm/train.jl")
include("charlstm/bench.jl")
include("bridge.jl")

end # module
