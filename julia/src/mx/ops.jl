# Every operator in libmxnet's registry as a Julia function building a SymbolicNode, e.g.
# `FullyConnected(x; num_hidden=10, name=:fc1)`, documented with the registry's own text.
#
# They are generated in the module body, so at precompile time: loading the package then costs
# nothing. Names such as `sum` or `exp` are new functions of this module: `mx.sum` builds a
# node, `Base.sum` is untouched (and code in this module must write `Base.sum` for Julia's).

function op_signature(info::OpInfo)
    inputs = String[]
    params = ["name", "attrs"]
    for (name, type) in zip(info.arg_names, info.arg_types)
        if is_input_type(type)
            push!(inputs, is_variadic_type(type) ? name * "..." : name)
        else
            insert!(params, length(params) - 1, name)
        end
    end
    return string(info.name, "(", join(inputs, ", "), "; ", join(params, ", "), ")")
end

function op_docstring(info::OpInfo)
    io = IOBuffer()
    println(io, "    ", op_signature(info), " -> SymbolicNode\n")
    println(io, "libmxnet operator `", info.name, "` as a graph node. Symbol inputs go by ",
            "position or by name; the other keywords are its parameters (tuples of sizes in ",
            "Julia's order); `name` names the node; `attrs` sets string attributes (hidden ",
            "ones, `:__key__`, as libmxnet takes no others on operator nodes).\n")
    println(io, strip(info.description), "\n")
    isempty(info.arg_names) && return String(take!(io))
    println(io, "# Arguments")
    for (name, type, description) in zip(info.arg_names, info.arg_types, info.arg_descriptions)
        println(io, "- `", name, "` (", type, "): ", strip(description))
    end
    return String(take!(io))
end

function define_op(info::OpInfo)
    inputs = [n for (n, t) in zip(info.arg_names, info.arg_types) if is_input_type(t)]
    variadic = any(is_variadic_type, info.arg_types)
    # A variadic operator's inputs have no names to mix with keyword inputs.
    input_names = variadic ? () : Tuple(inputs)
    doc = op_docstring(info)
    @eval begin
        @doc $doc
        function $(Symbol(info.name))(inputs::SymbolicNode...; name = nothing, attrs = nothing,
                                      kwargs...)
            return create_symbol($(info.name), inputs, kwargs; input_names = $input_names,
                                 num_args_key = $(info.key_var_num_args), name = name,
                                 attrs = attrs)
        end
    end
end

# The module body runs before __init__, so the library is loaded here to read the registry.
load_library()
for info in list_ops()
    define_op(info)
end
