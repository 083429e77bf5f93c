# Executor: a graph bound to arrays on a device, ready to run forward and backward.

# How a gradient is stored (libmxnet's OpReqType): not at all, overwritten, or accumulated.
const GRAD_REQ_CODES = Dict(:null => UInt32(0), :write => UInt32(1), :add => UInt32(3))

"""
A bound graph. `outputs` are its output arrays (refreshed by each `forward`); `arg_dict`,
`grad_dict` and `aux_dict` give the argument, gradient and auxiliary arrays by name. It holds
every array it uses, so none is freed while it runs.
"""
mutable struct Executor
    handle::Ptr{Cvoid}
    symbol::SymbolicNode
    arg_arrays::Vector{NDArray}
    grad_arrays::Vector{Union{Nothing,NDArray}}
    aux_arrays::Vector{NDArray}
    outputs::Vector{NDArray}
    arg_dict::Dict{Symbol,NDArray}
    grad_dict::Dict{Symbol,NDArray}
    aux_dict::Dict{Symbol,NDArray}
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, exec::Executor) = exec.handle

# Arrays given in `names` order (a vector) or by name (a dict, where some may be missing).
function arrays_in_order(names::Vector{Symbol}, given::AbstractVector, what::String)
    length(given) == length(names) ||
        throw(MXError("expected $(length(names)) $what ($(join(names, ", "))), " *
                      "got $(length(given))"))
    return Vector{Union{Nothing,NDArray}}(given)
end
arrays_in_order(names::Vector{Symbol}, given::AbstractDict, what::String) =
    Union{Nothing,NDArray}[get(given, name, get(given, string(name), nothing)) for name in names]
arrays_in_order(names::Vector{Symbol}, ::Nothing, what::String) =
    Union{Nothing,NDArray}[nothing for _ in names]

function required_arrays(names::Vector{Symbol}, given, what::String)
    arrays = arrays_in_order(names, given, what)
    missing_names = [name for (name, arr) in zip(names, arrays) if arr === nothing]
    isempty(missing_names) ||
        throw(MXError("no array given for $what $(join(missing_names, ", "))"))
    return Vector{NDArray}(arrays)
end

grad_req_of(req::Symbol, name::Symbol) = req
grad_req_of(reqs::AbstractDict, name::Symbol) = get(reqs, name, get(reqs, string(name), :null))

function grad_req_code(req::Symbol)
    haskey(GRAD_REQ_CODES, req) ||
        throw(MXError("grad_req must be :write, :add or :null, not :$req"))
    return GRAD_REQ_CODES[req]
end

"""
    bind(sym, ctx, args; args_grad=nothing, aux_states=nothing, grad_req=:write) -> Executor

Binds `sym` to arrays on `ctx`. `args` (and `args_grad`, `aux_states`) are vectors in
`list_arguments` (`list_auxiliary_states`) order or dicts by name. `grad_req` is `:write`,
`:add` or `:null` for all arguments, or a dict name => req (missing names get `:null`); an
argument without a gradient array gets `:null`.
"""
function bind(sym::SymbolicNode, ctx::Context, args; args_grad = nothing, aux_states = nothing,
              grad_req::Union{Symbol,AbstractDict} = :write)
    check_available(ctx)
    arg_names = list_arguments(sym)
    aux_names = list_auxiliary_states(sym)
    arg_arrays = required_arrays(arg_names, args, "argument")
    grad_arrays = arrays_in_order(arg_names, args_grad, "gradient")
    aux_arrays = required_arrays(aux_names, aux_states, "auxiliary state")
    reqs = UInt32[grad === nothing ? 0 : grad_req_code(grad_req_of(grad_req, name))
                  for (name, grad) in zip(arg_names, grad_arrays)]
    grad_handles = Ptr{Cvoid}[grad === nothing ? C_NULL : grad.handle for grad in grad_arrays]
    handle = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve arg_arrays grad_arrays aux_arrays begin
        @mxcall(:MXExecutorBindEX,
                (Ptr{Cvoid}, Cint, Cint, UInt32, Ptr{Cstring}, Ptr{Cint}, Ptr{Cint}, UInt32,
                 Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}, Ptr{UInt32}, UInt32, Ptr{Ptr{Cvoid}},
                 Ptr{Cvoid}, Ref{Ptr{Cvoid}}),
                sym, Int(ctx.device_type), ctx.device_id, 0, C_NULL, C_NULL, C_NULL,
                length(arg_arrays), handles(arg_arrays), grad_handles, reqs,
                length(aux_arrays), handles(aux_arrays), C_NULL, handle)
    end
    exec = Executor(handle[], sym, arg_arrays, grad_arrays, aux_arrays, output_arrays(handle[]),
                    Dict(zip(arg_names, arg_arrays)),
                    Dict(name => grad for (name, grad, req) in zip(arg_names, grad_arrays, reqs)
                         if req != 0),
                    Dict(zip(aux_names, aux_arrays)))
    finalizer(e -> ccall((:MXExecutorFree, libmxnet), Cint, (Ptr{Cvoid},), e.handle), exec)
    return exec
end

# The output arrays are allocated once by bind; forward writes into them.
function output_arrays(handle::Ptr{Cvoid})
    n = Ref{UInt32}(0)
    outputs = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
    @mxcall(:MXExecutorOutputs, (Ptr{Cvoid}, Ref{UInt32}, Ref{Ptr{Ptr{Cvoid}}}), handle, n, outputs)
    return [NDArray(unsafe_load(outputs[], i)) for i in 1:n[]]
end

"""
    simple_bind(sym, ctx; grad_req=:write, name => julia_size...) -> Executor

Binds `sym` to new zero-filled Float32 arrays whose sizes are inferred from the given ones,
with gradient arrays for every argument whose `grad_req` is not `:null`.
"""
function simple_bind(sym::SymbolicNode, ctx::Context; grad_req::Union{Symbol,AbstractDict} = :write,
                     shapes...)
    inferred = infer_shape(sym; shapes...)
    inferred === nothing &&
        throw(MXError("simple_bind: the sizes of $(join(keys(shapes), ", ")) do not determine " *
                      "all sizes of $(join(list_arguments(sym), ", ")); give more of them"))
    arg_shapes, _, aux_shapes = inferred
    arg_names = list_arguments(sym)
    args = [zeros(shape; ctx = ctx) for shape in arg_shapes]
    grads = Dict(name => zeros(shape; ctx = ctx) for (name, shape) in zip(arg_names, arg_shapes)
                 if grad_req_of(grad_req, name) != :null)
    aux = [zeros(shape; ctx = ctx) for shape in aux_shapes]
    return bind(sym, ctx, args; args_grad = grads, aux_states = aux, grad_req = grad_req)
end

"""
    forward(exec; is_train=false, name => array...) -> exec.outputs

Copies the given arrays (Julia arrays or NDArrays) into the named arguments, then runs the
graph. `is_train=true` computes what `backward` needs (and turns on Dropout).
"""
function forward(exec::Executor; is_train::Bool = false, inputs...)
    for (name, value) in inputs
        haskey(exec.arg_dict, name) || throw(MXError("forward: the graph has no argument $name"))
        copy!(exec.arg_dict[name], value)
    end
    @mxcall(:MXExecutorForward, (Ptr{Cvoid}, Cint), exec, is_train)
    return exec.outputs
end

"""
    backward(exec[, out_grads])

Computes gradients into the gradient arrays, after a `forward(exec; is_train=true)`.
`out_grads` (an NDArray or a vector, one per output) are the gradients flowing into the
outputs; loss outputs such as SoftmaxOutput need none.
"""
backward(exec::Executor, out_grad::NDArray) = backward(exec, [out_grad])
function backward(exec::Executor, out_grads::AbstractVector{NDArray} = NDArray[])
    GC.@preserve out_grads @mxcall(:MXExecutorBackward, (Ptr{Cvoid}, UInt32, Ptr{Ptr{Cvoid}}),
                                   exec, length(out_grads), handles(out_grads))
end

Base.show(io::IO, exec::Executor) =
    print(io, "Executor(", join(list_outputs(exec.symbol), ", "), ")")
