# The unrolled LSTM as data for drawing: its libmxnet JSON plus the shape of every node output.

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
    lstm_graph(; layers, steps, hidden, embed, vocab, dropout=0, batch=1, name="ptb") -> Dict

The unrolled LSTM with its final states as outputs (as the original's visualize drew it):
"json" is the graph in libmxnet's JSON, "shapes" maps each node's name to the libmxnet shapes
of its outputs, "inputs" maps each data, label and initial-state variable to its role.
"""
lstm_graph(; layers::Int, steps::Int, hidden::Int, embed::Int, vocab::Int, dropout::Real = 0,
           batch::Int = 1, name::AbstractString = "ptb") =
    lstm_graph(layers, steps, hidden, embed, vocab, Float64(dropout), batch, String(name))

function lstm_graph(layers::Int, steps::Int, hidden::Int, embed::Int, vocab::Int, dropout::Float64,
                    batch::Int, name::String)
    all(>(0), (layers, steps, hidden, embed, vocab, batch)) ||
        throw(UserError("layers, steps, hidden, embed, vocab and batch must be positive integers; " *
                        "pass values of 1 or more"))
    0 <= dropout < 1 || throw(UserError("dropout must be in [0, 1); pass e.g. 0 or 0.2"))
    model = Symbol(name)
    lstm = LSTM(layers, steps, hidden, embed, vocab; dropout = dropout, name = model, output_states = true)
    data = lstm_data_shapes(model, steps, layers, hidden, vocab, batch)
    labels = lstm_label_shapes(model, steps, batch)
    named(inputs, role) = [string(first(input)) => role for input in inputs]
    roles = Dict([named(data[1:steps], "data"); named(data[steps+1:end], "state"); named(labels, "label")])
    return Dict("json" => mx.to_json(lstm),
                "shapes" => output_shapes(lstm, Dict([data; labels])),
                "inputs" => roles)
end

# `visualize` is a one-shot command, mostly compile time: inferring this call when the package
# is precompiled (no libmxnet needed) and keeping the result in its image saves about a fifth.
precompile(lstm_graph, (Int, Int, Int, Int, Int, Float64, Int, String))
