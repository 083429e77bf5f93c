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
# mix them. Callers number their parameters the same way everywhere (e.g. by sorted name),
# from FIRST_PARAM_KEY: the keys below are the job's own (see `join_job!`).
key_list(key::Integer, arrays) = fill(Cint(key), length(arrays))

const MODEL_KEY = 0        # worker 0's parameter names and shapes, hashed
const STOP_KEY = 1         # how many workers want to stop (`any_worker`)
const FIRST_PARAM_KEY = 2

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

"Whether every worker takes each step together (the `dist_sync` kinds) rather than on its own."
is_sync(kv::KVStore) = is_distributed(get_type(kv)) && !occursin("async", get_type(kv))

"""
    join_job!(kv, params)

Prepares a distributed store for the parameters `params` (name => array, the same on every
worker): checks that this worker's names and shapes are worker 0's (a job whose workers build
different models would mix or reject their arrays deep inside libmxnet), then sets up the
stop vote of `any_worker`. Every worker calls it before its first push.
"""
function join_job!(kv::KVStore, params)
    names = Base.sort(collect(keys(params)))
    text = join(("$name$(size(params[name]))" for name in names), ";")
    # 16-bit pieces of a SHA-256: float32 holds them exactly.
    digest = Float32.(reinterpret(UInt16, sha256(text)[1:16]))
    init!(kv, MODEL_KEY, NDArray(digest))   # worker 0's value; a barrier for the others
    theirs = zeros(Float32, length(digest))
    pull!(kv, MODEL_KEY, [theirs])
    copy(theirs) == digest ||
        throw(UserError("worker $(rank(kv)) builds a model with other parameters (names or shapes) than worker " *
                      "0: every worker of a job must train the same model on text with the same characters"))
    init!(kv, STOP_KEY, NDArray(Float32[0]))
    return kv
end

"""
    any_worker(kv, flag) -> Bool

Whether `flag` is true on any worker of a `dist_sync` job: every worker gets the same answer,
so all can stop after the same step. Every worker must call it at the same point of its work.
"""
function any_worker(kv::KVStore, flag::Bool)
    vote = NDArray(Float32[flag])
    push!(kv, STOP_KEY, [vote])
    pull!(kv, STOP_KEY, [vote])
    return copy(vote)[1] > 0
end

"""
    set_gradient_compression!(kv, type; threshold)

Makes workers send their gradients compressed (libmxnet's `2bit`: each value becomes
+threshold, -threshold or 0, what is left over carried into the next step). Set before the
first `init!`.
"""
function set_gradient_compression!(kv::KVStore, type::AbstractString; threshold::Real)
    GC.@preserve @mxcall(:MXKVStoreSetGradientCompression, (Ptr{Cvoid}, UInt32, Ptr{Cstring}, Ptr{Cstring}),
                         kv, 2, ["type", "threshold"], [String(type), string(Float64(threshold))])
    return kv
end

# ----- servers that apply the optimizer (dist_async) ----------------------------------------

# The command head a worker's optimizer travels under: libmxnet hands 0 to the server's controller
# (it keeps 1 to 5 for commands of its own).
const SET_OPTIMIZER = Cint(0)

"""
    set_optimizer!(kv, optimizer)

Makes the servers of the job apply `optimizer` to each push (the `dist_async` way: every worker's
step lands on its own), so workers pull weights rather than gradients. Worker 0 sends it, before
`init!`'s barrier, so that it is in place before any worker pushes.
"""
function set_optimizer!(kv::KVStore, optimizer::AbstractOptimizer)
    rank(kv) == 0 || return kv
    # As data (optimizer.jl's `describe`), never as code: anyone who reaches the job's ports
    # could send a server this command.
    @mxcall(:MXKVStoreSendCommmandToServers, (Ptr{Cvoid}, Cint, Cstring), kv, SET_OPTIMIZER,
            json(describe(optimizer)))
    return kv
end

"The store `run_server` serves and the optimizer its updater applies, with a state per key."
mutable struct ServerState
    kv::KVStore
    optimizer::Union{Nothing,AbstractOptimizer}
    states::Dict{Int,Any}
end
const SERVING = Ref{ServerState}()

# The controller and the updater run on the thread that called MXKVStoreRunServer: Julia's.
# An exception must not unwind through libmxnet's frames: the server reports it and ends, and
# whoever watches the job stops the rest.
function fail_server(e)
    @error "this server failed: $(sprint(showerror, e))"
    exit(1)
end

# libmxnet hands over copies of its handles, which the NDArrays here free.
function server_update(key::Cint, recv::Ptr{Cvoid}, stored::Ptr{Cvoid}, ::Ptr{Cvoid})
    try
        server = SERVING[]
        grad, weight = NDArray(recv), NDArray(stored)
        state = get!(() -> create_state(server.optimizer, key, weight), server.states, key)
        update!(server.optimizer, key, weight, grad, state)
    catch e
        fail_server(e)
    end
    return nothing
end

function server_command(head::Cint, body::Cstring, ::Ptr{Cvoid})
    head == SET_OPTIMIZER || return nothing
    try
        server = SERVING[]
        server.optimizer = described(parse_json(unsafe_string(body)))
        empty!(server.states)
        updater = @cfunction(server_update, Cvoid, (Cint, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}))
        @mxcall(:MXKVStoreSetUpdater, (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}), server.kv, updater, C_NULL)
    catch e
        fail_server(e)
    end
    return nothing
end

"""
    run_server(kv)

Serves the job as its scheduler or one of its servers (DMLC_ROLE says which) until worker 0
closes its store: summing what the workers push, or applying the optimizer they send
(`set_optimizer!`). Then frees the store.
"""
function run_server(kv::KVStore)
    SERVING[] = ServerState(kv, nothing, Dict{Int,Any}())
    controller = @cfunction(server_command, Cvoid, (Cint, Cstring, Ptr{Cvoid}))
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
