# KVStore: libmxnet's key-value store, which sums the gradients of several devices.

"""
    KVStore(type=:local)

A libmxnet key-value store. `push!` of several arrays under one key stores their sum; `pull!`
copies the stored value into arrays (on any devices). Keys are parameter names.
"""
mutable struct KVStore
    handle::Ptr{Cvoid}
    function KVStore(type::Union{Symbol,AbstractString} = :local)
        # libmxnet takes any other name for a local store (and any name with "dist" for a server).
        string(type) in kvstore_types() ||
            throw(MXError("unknown KVStore type $type: this libmxnet offers $(join(kvstore_types(), ", "))"))
        handle = Ref{Ptr{Cvoid}}(C_NULL)
        @mxcall(:MXKVStoreCreate, (Cstring, Ref{Ptr{Cvoid}}), string(type), handle)
        kv = new(handle[])
        # Freeing a distributed store waits at a barrier for every node of the job: it must be
        # closed in order (`close!`), never by the GC at some moment or at exit.
        is_distributed(type) || finalizer(close!, kv)
        return kv
    end
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, kv::KVStore) = kv.handle

"Whether a store of this type belongs to a parameter-server job (`dist_sync`, ...)."
is_distributed(type) = startswith(string(type), "dist")

"Frees the store now (for a distributed one: after every worker has reached this point)."
function close!(kv::KVStore)
    kv.handle == C_NULL && return nothing
    handle, kv.handle = kv.handle, C_NULL
    ccall((:MXKVStoreFree, libmxnet), Cint, (Ptr{Cvoid},), handle)
    return nothing
end

"The store's type as libmxnet names it, e.g. `local`."
function get_type(kv::KVStore)
    type = Ref{Cstring}()
    @mxcall(:MXKVStoreGetType, (Ptr{Cvoid}, Ref{Cstring}), kv, type)
    return unsafe_string(type[])
end

Base.show(io::IO, kv::KVStore) = print(io, "KVStore(", get_type(kv), ")")

# Keys are integers: a distributed store maps string keys to numbers in the order each worker
# first uses them, so two workers that met their parameters in another order would silently
# mix them. Callers number their parameters the same way everywhere (e.g. by sorted name).
key_list(key::Integer, arrays) = fill(Cint(key), length(arrays))

"`init!(kv, key, arr)`: stores a copy of `arr` under `key` (once, before any push or pull)."
function init!(kv::KVStore, key::Integer, arr::NDArray)
    GC.@preserve arr @mxcall(:MXKVStoreInit, (Ptr{Cvoid}, UInt32, Ptr{Cint}, Ptr{Ptr{Cvoid}}),
                             kv, 1, Cint[key], [arr.handle])
    return kv
end

"`push!(kv, key, arrays)`: stores the sum of `arrays` (one per device) under `key`."
function Base.push!(kv::KVStore, key::Integer, arrays::AbstractVector{NDArray})
    GC.@preserve arrays @mxcall(:MXKVStorePush, (Ptr{Cvoid}, UInt32, Ptr{Cint}, Ptr{Ptr{Cvoid}}, Cint),
                                kv, length(arrays), key_list(key, arrays), handles(arrays), 0)
    return kv
end

"`pull!(kv, key, outs)`: copies the value under `key` into each of `outs`."
function pull!(kv::KVStore, key::Integer, outs::AbstractVector{NDArray})
    GC.@preserve outs @mxcall(:MXKVStorePull, (Ptr{Cvoid}, UInt32, Ptr{Cint}, Ptr{Ptr{Cvoid}}, Cint),
                              kv, length(outs), key_list(key, outs), handles(outs), 0)
    return kv
end

# ----- the parameter server: roles, ranks, the server loop ---------------------------------

"This process's role in a parameter-server job (DMLC_ROLE): :worker, :server, :scheduler, or :none."
function ps_role()
    role = get(ENV, "DMLC_ROLE", "")
    role in ("worker", "server", "scheduler") || return :none
    return Symbol(role)
end

"The worker's number in the job, from 0 (0 outside a job)."
rank(kv::KVStore) = (r = Ref{Cint}(0); @mxcall(:MXKVStoreGetRank, (Ptr{Cvoid}, Ref{Cint}), kv, r); Int(r[]))

"How many workers the job has (1 outside a job)."
group_size(kv::KVStore) = (n = Ref{Cint}(0); @mxcall(:MXKVStoreGetGroupSize, (Ptr{Cvoid}, Ref{Cint}), kv, n); Int(n[]))

# The server loop's controller: workers' commands (an updater for dist_async could come this way).
ignore_command(head::Cint, body::Cstring, ::Ptr{Cvoid}) = nothing

"""
    run_server(kv)

Serves the job as its scheduler or one of its servers (DMLC_ROLE says which) until worker 0
closes its store, summing what the workers push. Then frees the store.
"""
function run_server(kv::KVStore)
    controller = @cfunction(ignore_command, Cvoid, (Cint, Cstring, Ptr{Cvoid}))
    @mxcall(:MXKVStoreRunServer, (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}), kv, controller, C_NULL)
    close!(kv)
end

"""
The KVStore types this libmxnet offers: `local` and `device` always; the parameter-server
ones (`dist_sync`, `dist_async`, `dist_device_sync`) with DIST_KVSTORE; `nccl` with NCCL.
Decided from the build's features: creating a `dist_*` store would start a server.
"""
function kvstore_types()
    types = ["local", "device"]
    has_feature("DIST_KVSTORE") && append!(types, ["dist_sync", "dist_async", "dist_device_sync"])
    has_feature("NCCL") && push!(types, "nccl")
    return types
end
