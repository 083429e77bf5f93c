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
        finalizer(k -> ccall((:MXKVStoreFree, libmxnet), Cint, (Ptr{Cvoid},), k.handle), kv)
        return kv
    end
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, kv::KVStore) = kv.handle

"The store's type as libmxnet names it, e.g. `local`."
function get_type(kv::KVStore)
    type = Ref{Cstring}()
    @mxcall(:MXKVStoreGetType, (Ptr{Cvoid}, Ref{Cstring}), kv, type)
    return unsafe_string(type[])
end

Base.show(io::IO, kv::KVStore) = print(io, "KVStore(", get_type(kv), ")")

# The Ex calls take one string key per array: one key repeated covers several devices.
key_list(key, arrays) = fill(string(key), length(arrays))

"`init!(kv, key, arr)`: stores a copy of `arr` under `key` (once, before any push or pull)."
function init!(kv::KVStore, key, arr::NDArray)
    GC.@preserve arr @mxcall(:MXKVStoreInitEx, (Ptr{Cvoid}, UInt32, Ptr{Cstring}, Ptr{Ptr{Cvoid}}),
                             kv, 1, [string(key)], [arr.handle])
    return kv
end

"`push!(kv, key, arrays)`: stores the sum of `arrays` (one per device) under `key`."
function Base.push!(kv::KVStore, key, arrays::AbstractVector{NDArray})
    GC.@preserve arrays @mxcall(:MXKVStorePushEx, (Ptr{Cvoid}, UInt32, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint),
                                kv, length(arrays), key_list(key, arrays), handles(arrays), 0)
    return kv
end

"`pull!(kv, key, outs)`: copies the value under `key` into each of `outs`."
function pull!(kv::KVStore, key, outs::AbstractVector{NDArray})
    GC.@preserve outs @mxcall(:MXKVStorePullEx, (Ptr{Cvoid}, UInt32, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint),
                              kv, length(outs), key_list(key, outs), handles(outs), 0)
    return kv
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
