"""
The entry point Python calls (see pyjlchar/bridge/calls.py). One C function takes a JSON request and
an array table, calls a Julia function, and hands back a JSON reply and an array table:

- numbers, strings, booleans, `nothing`, lists and dicts travel as JSON;
- numeric arrays travel as pointers, never copied: a C-order numpy array of shape (a, b)
  is a Julia array of size (b, a), MXNet.jl's convention. Arrays Julia returns are kept alive
  here until Python lists their ids in a later request's "free";
- other Julia objects that Python holds on to (a loaded model) are kept the same way, under
  a handle (`keep`), until a request's "free" or `release` lets them go;
- progress events go to Python through a callback whose return value asks Julia to stop
  (Ctrl-C), which `poll` turns into an `InterruptException` so `finally` blocks run;
- every exception becomes a reply carrying its type, message and backtrace.
"""
module Bridge

using Logging
using ..JSON
using ..PyJLChar: UserError

struct ArrayDesc
    data::Ptr{Cvoid}
    dtype::Int32
    ndim::Int32
    dims::NTuple{8,Int64}
    id::Int64
end

struct Reply
    json::Ptr{UInt8}
    json_len::Int64
    arrays::Ptr{ArrayDesc}
    n_arrays::Int64
end

const DTYPES = (Float32, Float64, Int32, Int64, UInt8)
const NumArray = Array{<:Union{DTYPES...}}

const CALLBACK = Ref{Ptr{Cvoid}}(C_NULL)
const REQUESTED = Ref(false)            # Python asked this call to stop
const STOPPING = Ref(false)             # and `poll` raised it
const KEPT = Dict{Int64,Any}()          # arrays returned to Python and objects it holds, by id
const NEXT_ID = Ref{Int64}(0)
const LAST_REPLY = Ref{Vector{UInt8}}(UInt8[])
const LAST_ARRAYS = Ref{Vector{ArrayDesc}}(ArrayDesc[])

"""
    emit(event; fields...)

Sends a progress event to Python, and notes whether Python asks to stop (the user pressed
Ctrl-C); `poll` acts on it. Without Python (plain Julia) events are dropped. Log lines are not
events to emit by hand: use `@info`, which reaches Python through `EventLogger`.
"""
function emit(event::AbstractString; fields...)
    CALLBACK[] == C_NULL && return nothing
    msg = json(Dict{String,Any}("event" => event, (string(k) => v for (k, v) in fields)...))
    stop = ccall(CALLBACK[], Cint, (Ptr{UInt8}, Int64), msg, sizeof(msg))
    REQUESTED[] |= stop != 0
    return nothing
end

"Forwards log records (`@info` in the mx layer and the char-lstm) to Python as \"log\" events."
struct EventLogger <: AbstractLogger end
Logging.min_enabled_level(::EventLogger) = Logging.Info
Logging.shouldlog(::EventLogger, args...) = true
Logging.catch_exceptions(::EventLogger) = false  # a failure to forward a line is not hidden
Logging.handle_message(::EventLogger, level, message, args...; kwargs...) =
    emit("log"; level = lowercase(string(level)), message = string(message))

"""
    keep(x) -> Int64

Keeps `x` alive for Python, which refers to it by the handle returned; `kept(handle)` gives
it back, until Python frees the handle.
"""
function keep(x)
    id = (NEXT_ID[] += 1)
    KEPT[id] = x
    return id
end

function kept(handle::Integer)
    haskey(KEPT, handle) || throw(ArgumentError("no Julia object is kept under handle $handle"))
    return KEPT[handle]
end

"Lets go of what `keep` kept under `handles`."
release(handles) = foreach(h -> delete!(KEPT, h), handles)

"""
Lets Python stop the current call (Ctrl-C) by throwing `InterruptException`; cheap enough to
call once a batch. Work stops only here, at the points its code chose (a log line or a progress
event never stops it: the workers of a job must all stop at the same step).
"""
function poll()
    emit("poll")
    # Stop once: the clean-up that follows (saving a checkpoint) may poll itself.
    if REQUESTED[] && !STOPPING[]
        STOPPING[] = true
        throw(InterruptException())
    end
    return nothing
end

"Runs Julia code in Main and returns the value of its last expression."
evaluate(code::AbstractString) = include_string(Main, code, "pyjlchar")

function resolve(name::AbstractString)
    obj = Main
    for part in split(name, '.')
        obj = getfield(obj, Symbol(part))
    end
    return obj
end

function wrap_array(d::ArrayDesc)
    0 <= d.dtype < length(DTYPES) || error("unsupported array dtype code $(d.dtype)")
    dims = ntuple(i -> Int(d.dims[d.ndim - i + 1]), Int(d.ndim))
    return unsafe_wrap(Array, Ptr{DTYPES[d.dtype + 1]}(d.data), dims; own = false)
end

decode(x, arrays) = x
decode(x::Vector{Any}, arrays) = Any[decode(v, arrays) for v in x]
function decode(x::Dict{String,Any}, arrays)
    length(x) == 1 && haskey(x, "\$array") && return arrays[x["\$array"] + 1]
    return Dict{String,Any}(k => decode(v, arrays) for (k, v) in x)
end

encode(x, out) = x
encode(x::Union{AbstractVector,Tuple}, out) = Any[encode(v, out) for v in x]
encode(x::AbstractDict, out) = Dict{String,Any}(string(k) => encode(v, out) for (k, v) in x)
encode(x::NamedTuple, out) = Dict{String,Any}(string(k) => encode(x[k], out) for k in keys(x))
function encode(x::NumArray, out)
    ndims(x) <= 8 || error("cannot return an array of more than 8 dimensions")
    id = keep(x)
    dims = ntuple(i -> i <= ndims(x) ? Int64(size(x, ndims(x) - i + 1)) : Int64(0), 8)
    code = findfirst(T -> T === eltype(x), DTYPES) - 1
    push!(out, ArrayDesc(pointer(x), code, ndims(x), dims, id))
    return Dict{String,Any}("\$array" => length(out) - 1)
end

# The backtrace is only rendered when asked for: looking up the C frames of the host process
# is slow and makes LLVM complain on stderr about binaries it cannot read.
function error_reply(e, bt, with_backtrace::Bool)
    e isa LoadError && (e = e.error)  # `evaluate` wraps what the evaluated code threw
    kind = e isa InterruptException ? "interrupted" : string(nameof(typeof(e)))
    message = try sprint(showerror, e) catch; string(typeof(e)) end
    trace = with_backtrace ? (try sprint(showerror, e, bt) catch; message end) : ""
    return Dict{String,Any}("error" => Dict("type" => kind, "message" => message, "backtrace" => trace))
end

function entry(req::Ptr{UInt8}, req_len::Int64, arrays::Ptr{ArrayDesc}, n_arrays::Int64,
               callback::Ptr{Cvoid}, reply::Ptr{Reply})::Cint
    out = ArrayDesc[]
    with_backtrace = true
    result = try
        CALLBACK[] = callback
        REQUESTED[] = STOPPING[] = false
        request = parse_json(unsafe_string(req, req_len))
        with_backtrace = request["backtrace"]
        release(request["free"])
        inputs = [wrap_array(unsafe_load(arrays, i)) for i in 1:n_arrays]
        f = resolve(request["fn"])
        args = decode(request["args"], inputs)
        kwargs = decode(request["kwargs"], inputs)
        value = with_logger(EventLogger()) do
            Base.invokelatest(f, args...; (Symbol(k) => v for (k, v) in kwargs)...)
        end
        Dict{String,Any}("value" => encode(value, out))
    catch e
        empty!(out)
        error_reply(e, catch_backtrace(), with_backtrace)
    finally
        CALLBACK[] = C_NULL
    end
    text = try
        json(result)
    catch e
        empty!(out)
        json(error_reply(e, catch_backtrace(), with_backtrace))
    end
    LAST_REPLY[] = Vector{UInt8}(text)
    LAST_ARRAYS[] = out
    unsafe_store!(reply, Reply(pointer(LAST_REPLY[]), length(LAST_REPLY[]), pointer(LAST_ARRAYS[]), length(out)))
    flush(stdout)
    flush(stderr)
    return Cint(0)
end

entry_pointer() = Int(@cfunction(entry, Cint, (Ptr{UInt8}, Int64, Ptr{ArrayDesc}, Int64, Ptr{Cvoid}, Ptr{Reply})))

end # module
