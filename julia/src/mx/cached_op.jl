# CachedOp: a graph run as one imperative call (MXInvokeCachedOpEx) on arrays the caller
# passes each time, libmxnet's fastest path for a small graph run many times. With static
# memory and shapes it plans the graph's memory once, and writes into the output arrays the
# caller gives, so a caller can alternate two sets of arrays instead of copying.

"""
    CachedOp(sym; static=true)

`sym` ready to run through `invoke!`. Its inputs are `list_arguments(sym)` in that order
(a graph with auxiliary states is refused). `static` keeps the memory plan and the shapes
of the first call for all later ones, which must then pass arrays of the same sizes.
"""
mutable struct CachedOp
    handle::Ptr{Cvoid}
    symbol::SymbolicNode
    arguments::Vector{Symbol}
    function CachedOp(sym::SymbolicNode; static::Bool = true)
        isempty(list_auxiliary_states(sym)) ||
            throw(MXError("CachedOp: graphs with auxiliary states are not supported"))
        flag = static ? "true" : "false"
        keys, vals = ["static_alloc", "static_shape"], [flag, flag]
        handle = Ref{Ptr{Cvoid}}(C_NULL)
        @mxcall(:MXCreateCachedOpEx, (Ptr{Cvoid}, Cint, Ptr{Cstring}, Ptr{Cstring}, Ref{Ptr{Cvoid}}),
                sym, length(keys), keys, vals, handle)
        op = new(handle[], sym, list_arguments(sym))
        finalizer(o -> ccall((:MXFreeCachedOp, libmxnet), Cint, (Ptr{Cvoid},), o.handle), op)
        return op
    end
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, op::CachedOp) = op.handle

"""
    invoke!(op, inputs, outputs)

Runs `op` on `inputs` (NDArray handles, in `op.arguments`' order) into `outputs` (handles of
arrays of the outputs' sizes), which it writes in place. Handles rather than arrays, so that a
caller running it at every step can build them once; the caller keeps the arrays alive.
"""
function invoke!(op::CachedOp, inputs::Vector{Ptr{Cvoid}}, outputs::Vector{Ptr{Cvoid}})
    length(inputs) == length(op.arguments) ||
        throw(MXError("CachedOp takes $(length(op.arguments)) inputs ($(join(op.arguments, ", "))), got $(length(inputs))"))
    n_out = Ref{Cint}(length(outputs))
    out = Ref{Ptr{Ptr{Cvoid}}}(pointer(outputs))
    stypes = Ref{Ptr{Cint}}(C_NULL)
    GC.@preserve outputs @mxcall(:MXInvokeCachedOpEx,
                                 (Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}, Ref{Cint}, Ref{Ptr{Ptr{Cvoid}}}, Ref{Ptr{Cint}}),
                                 op, length(inputs), inputs, n_out, out, stypes)
    n_out[] == length(outputs) ||
        throw(MXError("CachedOp has $(n_out[]) outputs, $(length(outputs)) were given"))
    return nothing
end
