# The `mx` layer: a Julia binding of libmxnet's C API (include/mxnet/c_api.h), named like
# MXNet.jl so that code written against MXNet.jl reads the same. One file per concept.
module MXNet

using Libdl

include("base.jl")

function __init__()
    load_library()
end

end # module
