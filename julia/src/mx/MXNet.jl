# The `mx` layer: a Julia binding of libmxnet's C API (include/mxnet/c_api.h), named like
# MXNet.jl so that code written against MXNet.jl reads the same. One file per concept.
module MXNet

using Libdl
using Printf
import Random
using SHA: sha256
using ..JSON: json, parse_json

include("base.jl")
# The operator functions are generated from this library's registry: recompile when it changes.
include_dependency(library_path())

include("context.jl")
include("registry.jl")
include("params.jl")
include("ndarray.jl")
include("symbolic_node.jl")
include("ops.jl")
include("arithmetic.jl")
include("executor.jl")
include("cached_op.jl")
include("profiler.jl")
include("random.jl")
include("initializer.jl")
include("checkpoint.jl")
include("optimizer.jl")
include("kvstore.jl")
include("io.jl")
include("metric.jl")
include("callback.jl")
include("model.jl")

function __init__()
    load_library()
    register_legacy_ops()
    # Whatever ran at precompile time left handles of that process (saved as NULL) and names.
    empty!(OP_HANDLES)
    empty!(NAME_COUNTS)
end

end # module
