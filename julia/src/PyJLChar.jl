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
include("charlstm/vocab.jl")
include("bridge.jl")

end # module
