"""
PyJLChar: MXNet.jl's char-lstm example on libmxnet, driven from Python.

Its modules, bottom up, each using only those before it: `JSON` (the standard library has no
JSON), `UserError`, `MXNet` (`mx`, the binding of libmxnet's C API), `CharLSTM` (the model,
its data, training and use), `Bridge` (the C entry point Python calls, pyjlchar/bridge/) and
`Commands` (what Python calls: its settings sections made into CharLSTM's types).
"""
module PyJLChar

include("json.jl")
include("errors.jl")
include("mx/MXNet.jl")
const mx = MXNet
include("CharLSTM/CharLSTM.jl")
include("info.jl")
include("Bridge.jl")
include("Commands.jl")

end # module
