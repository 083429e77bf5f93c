# libmxnet's operator registry: what operators exist, their documentation, and their handles.

"""What the registry says about one operator (MXSymbolGetAtomicSymbolInfo), as Julia strings."""
struct OpInfo
    name::String
    description::String
    arg_names::Vector{String}
    arg_types::Vector{String}
    arg_descriptions::Vector{String}
    key_var_num_args::String   # the parameter counting a variable number of inputs, or ""
end

# An argument is a symbol input (not a parameter) when its type names an array or a symbol.
is_input_type(type::AbstractString) = occursin("NDArray", type) || startswith(type, "Symbol")
is_variadic_type(type::AbstractString) = endswith(type, "[]")

function list_op_creators()
    n = Ref{UInt32}(0)
    creators = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
    @mxcall(:MXSymbolListAtomicSymbolCreators, (Ref{UInt32}, Ref{Ptr{Ptr{Cvoid}}}), n, creators)
    return copy(unsafe_wrap(Array, creators[], n[]))
end

function op_info(creator::Ptr{Cvoid})
    name, description, key_var_num_args = Ref{Cstring}(), Ref{Cstring}(), Ref{Cstring}()
    return_type = Ref{Cstring}()
    n = Ref{UInt32}(0)
    names, types, descriptions = Ref{Ptr{Cstring}}(), Ref{Ptr{Cstring}}(), Ref{Ptr{Cstring}}()
    @mxcall(:MXSymbolGetAtomicSymbolInfo,
            (Ptr{Cvoid}, Ref{Cstring}, Ref{Cstring}, Ref{UInt32}, Ref{Ptr{Cstring}},
             Ref{Ptr{Cstring}}, Ref{Ptr{Cstring}}, Ref{Cstring}, Ref{Cstring}),
            creator, name, description, n, names, types, descriptions, key_var_num_args,
            return_type)
    strings(p) = [unsafe_string(unsafe_load(p, i)) for i in 1:n[]]
    return OpInfo(unsafe_string(name[]), unsafe_string(description[]), strings(names[]),
                  strings(types[]), strings(descriptions[]), unsafe_string(key_var_num_args[]))
end

"All operators in the registry (886 in libmxnet 1.9.1)."
list_ops() = [op_info(c) for c in list_op_creators()]

# Filled at run time only: handles are pointers into this process's libmxnet.
const OP_HANDLES = Dict{String,Ptr{Cvoid}}()

"The handle libmxnet's calls take for operator `name` (an AtomicSymbolCreator)."
function op_handle(name::AbstractString)
    get!(OP_HANDLES, name) do
        handle = Ref{Ptr{Cvoid}}(C_NULL)
        @mxcall(:NNGetOpHandle, (Cstring, Ref{Ptr{Cvoid}}), name, handle)
        handle[] == C_NULL && throw(MXError("libmxnet has no operator named $name"))
        handle[]
    end
end

"""
Registers libmxnet's legacy operators (`_set_value`, `Custom` ...), which the library adds to
its registry only when the operator list is first asked for (MXListAllOpNames does it).
"""
function register_legacy_ops()
    n = Ref{UInt32}(0)
    names = Ref{Ptr{Cstring}}(C_NULL)
    @mxcall(:MXListAllOpNames, (Ref{UInt32}, Ref{Ptr{Cstring}}), n, names)
end
