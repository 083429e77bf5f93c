# NDArray: an array owned by libmxnet, on a device.
#
# Julia's size is libmxnet's shape reversed: a Julia (features, batch) array is libmxnet's
# row-major (batch, features) array with the same bytes, so data copies need no transposing.

# libmxnet's type codes (mshadow::TypeFlag) for the element types it shares with Julia.
const DTYPES = (Float32 => 0, Float64 => 1, Float16 => 2, UInt8 => 3, Int32 => 4, Int8 => 5,
                Int64 => 6)
const DTYPE_NAMES = Dict(Float32 => "float32", Float64 => "float64", Float16 => "float16",
                         UInt8 => "uint8", Int32 => "int32", Int8 => "int8", Int64 => "int64")

function dtype_code(::Type{T}) where {T}
    for (type, code) in DTYPES
        type == T && return code
    end
    throw(MXError("libmxnet has no arrays of $T; use one of $(join(first.(DTYPES), ", "))"))
end

function dtype_type(code::Integer)
    for (type, c) in DTYPES
        c == code && return type
    end
    throw(MXError("libmxnet array type code $code has no Julia element type here"))
end

dtype_name(::Type{T}) where {T} = (dtype_code(T); DTYPE_NAMES[T])

"""
An array held by libmxnet. Its memory is freed when Julia collects it. `size` is the reverse
of libmxnet's shape (Julia (features, batch) = libmxnet (batch, features)).
"""
mutable struct NDArray
    handle::Ptr{Cvoid}
    function NDArray(handle::Ptr{Cvoid})
        arr = new(handle)
        finalizer(arr) do a
            # A finalizer must not throw; the library reports nothing useful at this point.
            ccall((:MXNDArrayFree, libmxnet), Cint, (Ptr{Cvoid},), a.handle)
        end
        return arr
    end
end

# Lets ccall take an NDArray where the C API wants its handle, keeping the array alive.
Base.unsafe_convert(::Type{Ptr{Cvoid}}, arr::NDArray) = arr.handle

handles(arrays) = Ptr{Cvoid}[arr.handle for arr in arrays]

# ----- creating --------------------------------------------------------------------------------

"""
    empty([T=Float32,] dims...; ctx=cpu())

An uninitialized NDArray of Julia size `dims` (integers or one tuple) on `ctx`.
"""
function empty(::Type{T}, dims::Tuple{Vararg{Integer}}; ctx::Context = cpu()) where {T}
    isempty(dims) && throw(MXError("an NDArray needs at least one dimension"))
    check_available(ctx)
    shape = UInt32[d for d in Base.reverse(dims)]
    handle = Ref{Ptr{Cvoid}}(C_NULL)
    @mxcall(:MXNDArrayCreateEx, (Ptr{UInt32}, UInt32, Cint, Cint, Cint, Cint, Ref{Ptr{Cvoid}}),
            shape, length(shape), Int(ctx.device_type), ctx.device_id, 0, dtype_code(T), handle)
    return NDArray(handle[])
end
empty(::Type{T}, dims::Integer...; ctx::Context = cpu()) where {T} = empty(T, dims; ctx = ctx)
empty(dims::Tuple{Vararg{Integer}}; ctx::Context = cpu()) = empty(Float32, dims; ctx = ctx)
empty(dims::Integer...; ctx::Context = cpu()) = empty(Float32, dims; ctx = ctx)

"""
    zeros([T=Float32,] dims...; ctx=cpu())

An NDArray of zeros (MXNet's own; `Base.zeros` still makes Julia arrays).
"""
zeros(args...; ctx::Context = cpu()) = fill!(empty(args...; ctx = ctx), 0)

"""
    ones([T=Float32,] dims...; ctx=cpu())

An NDArray of ones (MXNet's own; `Base.ones` still makes Julia arrays).
"""
ones(args...; ctx::Context = cpu()) = fill!(empty(args...; ctx = ctx), 1)

"""
    NDArray(a::AbstractArray; ctx=cpu())

A copy of the Julia array `a` on `ctx`, with the same size and element type.
"""
function NDArray(a::AbstractArray{T}; ctx::Context = cpu()) where {T}
    return copy!(empty(T, size(a); ctx = ctx), a)
end

"""
    copy(a::AbstractArray, ctx) -> NDArray
    copy(arr::NDArray, ctx) -> NDArray
    copy(arr::NDArray) -> Array

Copies between Julia arrays and NDArrays, and between devices.
"""
Base.copy(a::AbstractArray, ctx::Context) = NDArray(a; ctx = ctx)
Base.copy(arr::NDArray, ctx::Context) = copy!(empty(eltype(arr), size(arr); ctx = ctx), arr)
Base.copy(arr::NDArray) = copy!(Array{eltype(arr)}(undef, size(arr)), arr)
Base.Array(arr::NDArray) = copy(arr)

# ----- what it is ------------------------------------------------------------------------------

function Base.size(arr::NDArray)
    ndim = Ref{Cint}(0)
    dims = Ref{Ptr{Cint}}(C_NULL)
    @mxcall(:MXNDArrayGetShapeEx, (Ptr{Cvoid}, Ref{Cint}, Ref{Ptr{Cint}}), arr, ndim, dims)
    return ntuple(i -> Int(unsafe_load(dims[], ndim[] - i + 1)), ndim[])
end
Base.size(arr::NDArray, dim::Integer) = size(arr)[dim]
Base.ndims(arr::NDArray) = length(size(arr))
Base.length(arr::NDArray) = Base.prod(size(arr))

function Base.eltype(arr::NDArray)
    code = Ref{Cint}(0)
    @mxcall(:MXNDArrayGetDType, (Ptr{Cvoid}, Ref{Cint}), arr, code)
    return dtype_type(code[])
end

"The device `arr` lives on."
function context(arr::NDArray)
    device_type, device_id = Ref{Cint}(0), Ref{Cint}(0)
    @mxcall(:MXNDArrayGetContext, (Ptr{Cvoid}, Ref{Cint}, Ref{Cint}), arr, device_type, device_id)
    return Context(DeviceType(device_type[]), device_id[])
end

Base.show(io::IO, arr::NDArray) =
    print(io, "NDArray{", eltype(arr), "}(", join(size(arr), "×"), ") on ", context(arr))

function Base.show(io::IO, ::MIME"text/plain", arr::NDArray)
    show(io, arr)
    println(io, ":")
    Base.print_array(IOContext(io, :typeinfo => eltype(arr)), copy(arr))
end

# ----- copying ---------------------------------------------------------------------------------

function check_same_size(dst, src)
    size(dst) == size(src) ||
        throw(DimensionMismatch("cannot copy size $(size(src)) into size $(size(dst))"))
end

function Base.copy!(dst::NDArray, src::AbstractArray)
    check_same_size(dst, src)
    data = convert(Array{eltype(dst)}, src)   # contiguous, in the array's element type
    # Sizes in the SyncCopy calls are element counts, not bytes.
    GC.@preserve data @mxcall(:MXNDArraySyncCopyFromCPU, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t),
                              dst, pointer(data), length(data))
    return dst
end

function Base.copy!(dst::Array{T}, src::NDArray) where {T}
    check_same_size(dst, src)
    eltype(src) == T || return copy!(dst, copy(src))
    @mxcall(:MXNDArraySyncCopyToCPU, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t), src, dst, length(dst))
    return dst
end

# Works across devices; libmxnet orders it after pending writes to `src`.
function Base.copy!(dst::NDArray, src::NDArray)
    check_same_size(dst, src)
    _invoke("_copyto", [src], [dst])
    return dst
end

Base.fill!(arr::NDArray, value::Real) = (_invoke("_set_value", NDArray[], [arr]; src = value); arr)

# ----- views -----------------------------------------------------------------------------------

"""
    slice(arr, i:j)
    slice(arr, i)

The columns `i:j` of the LAST Julia dimension (the batch dimension, libmxnet's first), as an
NDArray sharing memory with `arr`: writing into it writes into `arr`.
"""
function slice(arr::NDArray, range::UnitRange{<:Integer})
    n = size(arr)[end]
    1 <= first(range) <= last(range) <= n || throw(BoundsError(arr, range))
    handle = Ref{Ptr{Cvoid}}(C_NULL)
    @mxcall(:MXNDArraySlice, (Ptr{Cvoid}, UInt32, UInt32, Ref{Ptr{Cvoid}}),
            arr, first(range) - 1, last(range), handle)
    return NDArray(handle[])
end
slice(arr::NDArray, i::Integer) = slice(arr, i:i)

# ----- waiting ---------------------------------------------------------------------------------

"Waits until libmxnet, which runs operations asynchronously, has finished every pending one."
wait_all() = @mxcall(:MXNDArrayWaitAll, ())

# ----- operators -------------------------------------------------------------------------------

"""
    _invoke(op_name, inputs, outputs=nothing; params...) -> Vector{NDArray}

Runs libmxnet operator `op_name` once on NDArrays (MXImperativeInvoke). With `outputs`, writes
into those arrays in place and returns them; otherwise returns new arrays.
"""
function _invoke(op::AbstractString, inputs::AbstractVector{NDArray},
                 outputs::Union{Nothing,AbstractVector{NDArray}} = nothing; params...)
    keys, values = param_strings(params)
    input_handles = handles(inputs)
    output_handles = outputs === nothing ? Ptr{Cvoid}[] : handles(outputs)
    n_out = Ref{Cint}(length(output_handles))
    out_ptr = Ref{Ptr{Ptr{Cvoid}}}(outputs === nothing ? C_NULL : pointer(output_handles))
    GC.@preserve inputs outputs output_handles begin
        @mxcall(:MXImperativeInvoke,
                (Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}, Ref{Cint}, Ref{Ptr{Ptr{Cvoid}}}, Cint,
                 Ptr{Cstring}, Ptr{Cstring}),
                op_handle(op), length(input_handles), input_handles, n_out, out_ptr,
                length(keys), keys, values)
    end
    outputs === nothing || return outputs
    # The list of new handles is the library's (reused by the next call): copy it out now.
    return [NDArray(unsafe_load(out_ptr[], i)) for i in 1:n_out[]]
end

# ----- saving ----------------------------------------------------------------------------------

"""
    save(filename, arrays::AbstractDict{<:Union{Symbol,AbstractString},NDArray})
    save(filename, arrays::AbstractVector{NDArray})

Writes arrays in libmxnet's `.params` format (readable by `mx.nd.load` in Python), and reads
the file back: libmxnet does not check the `fclose` that writes its last buffer, so on a full
disk a small file comes out short or empty without an error. An incomplete file is an MXError.
"""
function save(filename::AbstractString, arrays::AbstractDict)
    names = String[string(name) for name in keys(arrays)]
    array_list = NDArray[arr for arr in values(arrays)]
    GC.@preserve array_list begin
        @mxcall(:MXNDArraySave, (Cstring, UInt32, Ptr{Ptr{Cvoid}}, Ptr{Cstring}),
                filename, length(array_list), handles(array_list), names)
    end
    check_saved(filename, length(array_list), names)
end

function save(filename::AbstractString, arrays::AbstractVector{NDArray})
    GC.@preserve arrays begin
        @mxcall(:MXNDArraySave, (Cstring, UInt32, Ptr{Ptr{Cvoid}}, Ptr{Cstring}),
                filename, length(arrays), handles(arrays), C_NULL)
    end
    check_saved(filename, length(arrays), nothing)
end

# Throws an MXError unless `filename` reads back as the `n` arrays (named `names`, or unnamed)
# just saved.
function check_saved(filename::AbstractString, n::Integer, names)
    saved = try
        load(filename, NDArray)
    catch e
        e isa MXError || rethrow()
        cause = strip(first(split(e.msg, '\n')))
        throw(MXError("$filename came out incomplete: reading it back fails ($cause)"))
    end
    arrays = saved isa AbstractDict ? collect(values(saved)) : saved
    complete = length(arrays) == n &&
               (n == 0 || (names === nothing ? saved isa AbstractVector :
                           saved isa AbstractDict && Set(string.(keys(saved))) == Set(names)))
    foreach(finalize, arrays)   # free the copies now, not at the next collection
    complete || throw(MXError("$filename came out incomplete: it reads back as $(length(arrays)) " *
                              "arrays, not the $n saved"))
    return nothing
end

# The sizes of libmxnet's dtype flags (float32, float64, float16, uint8, int32, int8, int64).
const DTYPE_BYTES = Dict{Int32,Int}(0 => 4, 1 => 8, 2 => 2, 3 => 1, 4 => 4, 5 => 1, 6 => 8)
const LIST_MAGIC, ARRAY_MAGIC = UInt64(0x112), UInt32(0xF993FAC9)

"""
    check_ndarray_file(filename)

Reads the headers of an NDArray list file (a `.params`, a `.states`) as libmxnet writes it and
throws an MXError naming the first thing wrong, before libmxnet allocates anything: a file from
elsewhere may claim arrays far larger than itself, which libmxnet would try to allocate. Checks
that every array is dense, of a known type, with a shape whose bytes lie inside the file, and
that the names that follow fill the file exactly.
"""
function check_ndarray_file(filename::AbstractString)
    isfile(filename) || throw(MXError("cannot read $filename: there is no such file"))
    size_left = filesize(filename)
    open(filename) do io
        function take(::Type{T}, what) where {T}
            size_left >= sizeof(T) || throw(MXError("$filename ends inside $what"))
            size_left -= sizeof(T)
            return read(io, T)
        end
        function skip_bytes(n::Integer, what)
            n <= size_left || throw(MXError("$filename claims $what of $n bytes, more than the $size_left left in it"))
            skip(io, n)
            size_left -= n
        end
        take(UInt64, "its header") == LIST_MAGIC || throw(MXError("$filename is not an NDArray file"))
        take(UInt64, "its header")
        count = take(UInt64, "its header")
        count <= size_left ÷ 4 || throw(MXError("$filename claims $count arrays, more than it can hold"))
        for i in 1:count
            what = "array $i"
            take(UInt32, what) == ARRAY_MAGIC || throw(MXError("$filename has no array header where $what starts"))
            take(Int32, what) == 0 || throw(MXError("$filename holds a sparse $what, which pyjlchar never writes"))
            ndim = take(Int32, what)
            0 <= ndim <= 32 || throw(MXError("$filename gives $what $ndim dimensions"))
            elements = 1
            for _ in 1:ndim
                d = take(Int64, what)
                0 <= d <= size_left || throw(MXError("$filename gives $what a dimension of $d"))
                elements = d == 0 ? 0 : elements <= size_left ÷ d ? elements * d : size_left + 1
            end
            ndim == 0 && continue
            take(Int32, what); take(Int32, what)   # the device it was saved from
            bytes = get(DTYPE_BYTES, take(Int32, what), 0)
            bytes > 0 || throw(MXError("$filename gives $what an unknown element type"))
            elements <= size_left ÷ bytes || throw(MXError("$filename claims $what of $elements elements, more than it holds"))
            skip_bytes(elements * bytes, what)
        end
        names = take(UInt64, "its names")
        names == 0 || names == count || throw(MXError("$filename names $names of its $count arrays"))
        for i in 1:names
            skip_bytes(take(UInt64, "its names"), "name $i")
        end
        size_left == 0 || throw(MXError("$filename has $size_left bytes after its last array"))
    end
    return nothing
end

"""
    load(filename, NDArray) -> Dict{Symbol,NDArray} or Vector{NDArray}

Reads a `.params` file: a Dict when the arrays were saved with names, else a Vector.
"""
function load(filename::AbstractString, ::Type{NDArray})
    check_ndarray_file(filename)
    n, n_names = Ref{UInt32}(0), Ref{UInt32}(0)
    array_ptr, name_ptr = Ref{Ptr{Ptr{Cvoid}}}(C_NULL), Ref{Ptr{Cstring}}(C_NULL)
    @mxcall(:MXNDArrayLoad,
            (Cstring, Ref{UInt32}, Ref{Ptr{Ptr{Cvoid}}}, Ref{UInt32}, Ref{Ptr{Cstring}}),
            filename, n, array_ptr, n_names, name_ptr)
    arrays = [NDArray(unsafe_load(array_ptr[], i)) for i in 1:n[]]
    n_names[] == 0 && return arrays
    return Dict(Symbol(unsafe_string(unsafe_load(name_ptr[], i))) => arrays[i] for i in 1:n[])
end
