# SymbolicNode: a node of a libmxnet computation graph (a Symbol in the C API).

"""
A libmxnet symbol: a variable, an operator applied to symbols, or a group of outputs. Built
with `Variable`, the operator functions (`FullyConnected`, ...), arithmetic and `Group`.
"""
mutable struct SymbolicNode
    handle::Ptr{Cvoid}
    function SymbolicNode(handle::Ptr{Cvoid})
        node = new(handle)
        finalizer(n -> ccall((:MXSymbolFree, libmxnet), Cint, (Ptr{Cvoid},), n.handle), node)
        return node
    end
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, node::SymbolicNode) = node.handle

const NameLike = Union{Symbol,AbstractString}

function new_symbol(create::Function)
    handle = Ref{Ptr{Cvoid}}(C_NULL)
    create(handle)
    return SymbolicNode(handle[])
end

"""
    Variable(name; attrs=Dict())

A named input of a graph (data, label, weight, state ...), with optional string attributes.
"""
function Variable(name::NameLike; attrs = Dict{Symbol,String}())
    node = new_symbol() do handle
        @mxcall(:MXSymbolCreateVariable, (Cstring, Ref{Ptr{Cvoid}}), string(name), handle)
    end
    for (key, value) in attrs
        set_attr(node, key, value)
    end
    return node
end

"""
    Group(nodes...)

One symbol whose outputs are the outputs of all `nodes`, in order.
"""
function Group(nodes::SymbolicNode...)
    list = collect(nodes)
    GC.@preserve list new_symbol() do handle
        @mxcall(:MXSymbolCreateGroup, (UInt32, Ptr{Ptr{Cvoid}}, Ref{Ptr{Cvoid}}),
                length(list), handles(list), handle)
    end
end

function num_outputs(node::SymbolicNode)
    n = Ref{UInt32}(0)
    @mxcall(:MXSymbolGetNumOutputs, (Ptr{Cvoid}, Ref{UInt32}), node, n)
    return Int(n[])
end

"`node[i]`: the i-th output (1-based) of a multi-output node such as SliceChannel or a Group."
function Base.getindex(node::SymbolicNode, i::Integer)
    1 <= i <= num_outputs(node) || throw(BoundsError(node, i))
    return new_symbol() do handle
        @mxcall(:MXSymbolGetOutput, (Ptr{Cvoid}, UInt32, Ref{Ptr{Cvoid}}), node, i - 1, handle)
    end
end

# ----- names and attributes --------------------------------------------------------------------

symbols(strings::Ptr{Cstring}, n::Integer) =
    [Symbol(unsafe_string(unsafe_load(strings, i))) for i in 1:n]

"The graph's inputs (variables), in the order executors take them."
function list_arguments(node::SymbolicNode)
    n, names = Ref{UInt32}(0), Ref{Ptr{Cstring}}(C_NULL)
    @mxcall(:MXSymbolListArguments, (Ptr{Cvoid}, Ref{UInt32}, Ref{Ptr{Cstring}}), node, n, names)
    return symbols(names[], n[])
end

"The graph's outputs, e.g. `:fc1_output`."
function list_outputs(node::SymbolicNode)
    n, names = Ref{UInt32}(0), Ref{Ptr{Cstring}}(C_NULL)
    @mxcall(:MXSymbolListOutputs, (Ptr{Cvoid}, Ref{UInt32}, Ref{Ptr{Cstring}}), node, n, names)
    return symbols(names[], n[])
end

"The graph's auxiliary states (e.g. BatchNorm's moving averages): updated, not learned."
function list_auxiliary_states(node::SymbolicNode)
    n, names = Ref{UInt32}(0), Ref{Ptr{Cstring}}(C_NULL)
    @mxcall(:MXSymbolListAuxiliaryStates, (Ptr{Cvoid}, Ref{UInt32}, Ref{Ptr{Cstring}}),
            node, n, names)
    return symbols(names[], n[])
end

"The node's name as a Symbol, or `nothing` for a group (which has none)."
function get_name(node::SymbolicNode)
    name = Ref{Cstring}()
    success = Ref{Cint}(0)
    @mxcall(:MXSymbolGetName, (Ptr{Cvoid}, Ref{Cstring}, Ref{Cint}), node, name, success)
    return success[] == 0 ? nothing : Symbol(unsafe_string(name[]))
end

"The node's attribute `key` as a String, or `nothing` when it has none."
function get_attr(node::SymbolicNode, key::NameLike)
    value = Ref{Cstring}()
    success = Ref{Cint}(0)
    @mxcall(:MXSymbolGetAttr, (Ptr{Cvoid}, Cstring, Ref{Cstring}, Ref{Cint}),
            node, string(key), value, success)
    return success[] == 0 ? nothing : unsafe_string(value[])
end

function set_attr(node::SymbolicNode, key::NameLike, value::AbstractString)
    @mxcall(:MXSymbolSetAttr, (Ptr{Cvoid}, Cstring, Cstring), node, string(key), value)
    return node
end

function Base.show(io::IO, node::SymbolicNode)
    name = get_name(node)
    if name === nothing
        print(io, "SymbolicNode(", join(list_outputs(node), ", "), ")")
    else
        print(io, "SymbolicNode(", name, ")")
    end
end

# ----- shapes ----------------------------------------------------------------------------------

"""
    infer_shape(node; name => julia_size...)
    infer_shape(node, Dict(name => julia_size))

The sizes of all arguments, outputs and auxiliary states, `(arg_shapes, out_shapes,
aux_shapes)`, each a vector of Julia size tuples in `list_arguments` (`list_outputs`,
`list_auxiliary_states`) order; `nothing` when the given sizes do not determine them all.
"""
infer_shape(node::SymbolicNode; shapes...) = infer_shape(node, Dict(shapes))

function infer_shape(node::SymbolicNode, shapes::AbstractDict)
    names = String[string(name) for name in keys(shapes)]
    row_starts, dims = UInt32[0], Cint[]
    for shape in values(shapes)
        append!(dims, Base.reverse(shape))
        push!(row_starts, length(dims))
    end
    sizes = [Ref{UInt32}(0) for _ in 1:3]
    ndims_ptrs = [Ref{Ptr{Cint}}(C_NULL) for _ in 1:3]
    data_ptrs = [Ref{Ptr{Ptr{Cint}}}(C_NULL) for _ in 1:3]
    complete = Ref{Cint}(0)
    @mxcall(:MXSymbolInferShapeEx,
            (Ptr{Cvoid}, UInt32, Ptr{Cstring}, Ptr{UInt32}, Ptr{Cint},
             Ref{UInt32}, Ref{Ptr{Cint}}, Ref{Ptr{Ptr{Cint}}},
             Ref{UInt32}, Ref{Ptr{Cint}}, Ref{Ptr{Ptr{Cint}}},
             Ref{UInt32}, Ref{Ptr{Cint}}, Ref{Ptr{Ptr{Cint}}}, Ref{Cint}),
            node, length(names), names, row_starts, dims,
            sizes[1], ndims_ptrs[1], data_ptrs[1], sizes[2], ndims_ptrs[2], data_ptrs[2],
            sizes[3], ndims_ptrs[3], data_ptrs[3], complete)
    complete[] == 0 && return nothing
    # libmxnet owns these lists until its next call: read them into Julia tuples now.
    julia_shapes(k) = Dims[julia_size(unsafe_load(ndims_ptrs[k][], i),
                                      unsafe_load(data_ptrs[k][], i)) for i in 1:sizes[k][]]
    return (julia_shapes(1), julia_shapes(2), julia_shapes(3))
end

julia_size(ndim::Integer, dims::Ptr{Cint}) = ntuple(i -> Int(unsafe_load(dims, ndim - i + 1)), ndim)

# ----- JSON and files --------------------------------------------------------------------------

"The graph in libmxnet's JSON format (what `prefix-symbol.json` checkpoints hold)."
function to_json(node::SymbolicNode)
    json = Ref{Cstring}()
    @mxcall(:MXSymbolSaveToJSON, (Ptr{Cvoid}, Ref{Cstring}), node, json)
    return unsafe_string(json[])
end

"A graph from libmxnet's JSON format."
function from_json(json::AbstractString, ::Type{SymbolicNode} = SymbolicNode)
    return new_symbol() do handle
        @mxcall(:MXSymbolCreateFromJSON, (Cstring, Ref{Ptr{Cvoid}}), json, handle)
    end
end

"Writes the graph as libmxnet JSON (readable by `mx.sym.load` in Python); a short write throws."
save(filename::AbstractString, node::SymbolicNode) = write_checked(filename, to_json(node))

function load(filename::AbstractString, ::Type{SymbolicNode})
    return new_symbol() do handle
        @mxcall(:MXSymbolCreateFromFile, (Cstring, Ref{Ptr{Cvoid}}), filename, handle)
    end
end

# ----- operators -------------------------------------------------------------------------------

# Automatic node names, as Python's NameManager makes them: fullyconnected0, fullyconnected1 ...
const NAME_COUNTS = Dict{String,Int}()

function auto_name(op::AbstractString)
    hint = lowercase(op)
    count = get(NAME_COUNTS, hint, 0)
    NAME_COUNTS[hint] = count + 1
    return string(hint, count)
end

"""
    create_symbol(op, inputs, kwargs; input_names=(), num_args_key="", name=nothing, attrs=nothing)

A node applying libmxnet operator `op`. Symbol inputs come positionally (`inputs`) or as
keywords among `kwargs`; the other keywords are operator parameters. Positional inputs take
the first of `input_names` when mixed with keyword inputs. `num_args_key` is the parameter
that counts the inputs of variadic operators (Concat's `num_args`), filled in when missing.
"""
function create_symbol(op::AbstractString, inputs, kwargs; input_names = (), num_args_key = "",
                       name = nothing, attrs = nothing)
    params = Pair{Symbol,Any}[]
    named_inputs = Pair{String,SymbolicNode}[]
    for (key, value) in kwargs
        if value isa SymbolicNode
            push!(named_inputs, string(key) => value)
        else
            push!(params, key => value)
        end
    end
    if !isempty(num_args_key) && !any(p -> p.first == Symbol(num_args_key), params)
        push!(params, Symbol(num_args_key) => length(inputs))
    end
    keys, values = param_strings(params)
    node = new_symbol() do handle
        @mxcall(:MXSymbolCreateAtomicSymbol,
                (Ptr{Cvoid}, UInt32, Ptr{Cstring}, Ptr{Cstring}, Ref{Ptr{Cvoid}}),
                op_handle(op), length(keys), keys, values, handle)
    end
    # Composing names the node and creates variables for missing inputs (`fc1_weight` ...).
    compose!(node, name === nothing ? auto_name(op) : string(name),
             input_list(op, inputs, named_inputs, input_names)...)
    if attrs !== nothing
        for (key, value) in attrs
            set_attr(node, key, value)
        end
    end
    return node
end

# The C call takes inputs either all by position (no names) or all by name.
function input_list(op, inputs, named_inputs, input_names)
    isempty(named_inputs) && return nothing, collect(SymbolicNode, inputs)
    length(inputs) <= length(input_names) ||
        throw(MXError("$op: give symbol inputs all by position, or by the names " *
                      "$(join(input_names, ", ")) (positional ones fill the first names)"))
    names = String[input_names[i] for i in 1:length(inputs)]
    append!(names, first.(named_inputs))
    length(unique(names)) == length(names) ||
        throw(MXError("$op was given the same input twice (inputs: $(join(names, ", ")))"))
    return names, SymbolicNode[inputs..., last.(named_inputs)...]
end

# `keys` === nothing composes by position (the C call takes a NULL list of names then).
function compose!(node::SymbolicNode, name::String, keys::Union{Nothing,Vector{String}},
                  inputs::Vector{SymbolicNode})
    key_pointers = keys === nothing ? Ptr{UInt8}[] : [pointer(key) for key in keys]
    keys_arg = keys === nothing ? Ptr{Ptr{UInt8}}(C_NULL) : pointer(key_pointers)
    GC.@preserve keys key_pointers inputs begin
        @mxcall(:MXSymbolCompose, (Ptr{Cvoid}, Cstring, UInt32, Ptr{Ptr{UInt8}}, Ptr{Ptr{Cvoid}}),
                node, name, length(inputs), keys_arg, handles(inputs))
    end
end
