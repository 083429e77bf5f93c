# The network as data for drawing: its libmxnet JSON plus the shape of every node output.

"""
    internal_outputs(node) -> SymbolicNode

One symbol whose outputs are every output of every node in the graph of `node`, variables
included, in the graph's node order (libmxnet's MXSymbolGetInternals).
"""
function internal_outputs(node::mx.SymbolicNode)
    return mx.new_symbol() do handle
        mx.@mxcall(:MXSymbolGetInternals, (Ptr{Cvoid}, Ref{Ptr{Cvoid}}), node, handle)
    end
end

"""
    output_shapes(node, input_shapes) -> Dict{String,Vector{Dims}}

Node name => the shape of each of its outputs, in libmxnet's order (batch first), given the
Julia sizes of the graph's inputs.
"""
function output_shapes(node::mx.SymbolicNode, input_shapes::AbstractDict)
    internals = internal_outputs(node)
    inferred = mx.infer_shape(internals, input_shapes)
    inferred === nothing && throw(ArgumentError("the input shapes do not determine every output's shape"))
    shapes = Dict{String,Vector{Dims}}()
    # A node's outputs are listed together, in output order: pushing keeps their indices.
    for (i, julia_size) in enumerate(inferred[2])
        name = string(mx.get_name(internals[i]))
        push!(get!(shapes, name, Dims[]), reverse(julia_size))
    end
    return shapes
end

"""
    lstm_graph(spec, steps, batch) -> Dict

`LSTM(spec, steps)` with its final states as outputs (as the original's visualize drew it):
"json" is the graph in libmxnet's JSON, "shapes" maps each node's name to the libmxnet shapes
of its outputs for `batch` streams, "inputs" maps each data, label and initial-state variable
to its role.
"""
function lstm_graph(spec::ModelSpec, steps::Int, batch::Int)
    lstm = LSTM(spec, steps; output_states = true)
    data = lstm_data_shapes(spec, steps, batch)
    labels = lstm_label_shapes(spec, steps, batch)
    n_char_inputs = length(data) - n_state_outputs(spec)
    named(inputs, role) = [string(first(input)) => role for input in inputs]
    roles = Dict([named(data[1:n_char_inputs], "data"); named(data[n_char_inputs+1:end], "state");
                  named(labels, "label")])
    return Dict("json" => mx.to_json(lstm),
                "shapes" => output_shapes(lstm, Dict([data; labels])),
                "inputs" => roles)
end

# `visualize` is a one-shot command, mostly compile time: inferring this call when the package
# is precompiled (no libmxnet needed) and keeping the result in its image saves about a fifth.
precompile(lstm_graph, (ModelSpec, Int, Int))
