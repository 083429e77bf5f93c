# A model has two axes (ModelSpec, settings.jl): its `cell`, the recurrence of each layer
# (lstm.jl: its states, gates and one unrolled step), and its `graph`, how libmxnet runs it
# (unrolled.jl, fused.jl: the shapes it binds, loading a batch, its outputs, its weights' layout).
# Every other file asks the cell and the graph through the functions below, never by name.

"""A recurrence: the states it carries, its gates, its unrolled step and libmxnet's RNN mode."""
abstract type Cell end

"""How libmxnet runs a model: the graph it binds, its inputs and its weights' layout."""
abstract type Graph end

"The cell `spec` names (each cell's file adds a method: `cell_named(::Val{:lstm}) = LSTMCell()`)."
cell_of(spec::ModelSpec) = cell_named(Val(spec.cell))
"The graph `spec` names (each graph's file adds a method)."
graph_of(spec::ModelSpec) = graph_named(Val(spec.graph))

"The same model run by another graph."
with_graph(spec::ModelSpec, graph::Symbol) = with_fields(spec; graph = graph)

"""
    LSTM(spec, seq_len; output_states=false) -> SymbolicNode

The char-lstm `spec` over `seq_len` steps, as its graph builds it (the name is the original's,
whatever the cell). With `output_states` the final states follow the probabilities as outputs,
each state of every layer in turn (`state_names` order: the LSTM's c of every layer, then h).
"""
LSTM(spec::ModelSpec, seq_len::Int; output_states::Bool = false) =
    build(graph_of(spec), spec, seq_len; output_states = output_states)

# ----- what every graph shares ----------------------------------------------------------------

"The name of a graph's node or variable: `<model name>_<suffix>`."
node_name(spec::ModelSpec, suffix) = Symbol(spec.name, "_", suffix)

"The initial-state inputs of every layer, `<name>_l<l>_init_<state>`, in `state_names` order."
state_inputs(spec::ModelSpec, batch_size::Int) =
    Pair{Symbol,Tuple}[node_name(spec, "l$(l)_init_$state") => (spec.hidden, batch_size)
                       for state in state_names(cell_of(spec)) for l in 1:spec.layers]

"""
    lstm_data_shapes(spec, seq_len, batch_size)

The data inputs of `LSTM(spec, seq_len)` and their sizes, in the order data providers list
them: the characters (`char_inputs` of the graph), then every layer's initial states.
"""
lstm_data_shapes(spec::ModelSpec, seq_len::Int, batch_size::Int) =
    Pair{Symbol,Tuple}[char_inputs(graph_of(spec), spec, seq_len, batch_size); state_inputs(spec, batch_size)]

"The label inputs of `LSTM(spec, seq_len)` and their sizes: the next character's class ids."
lstm_label_shapes(spec::ModelSpec, seq_len::Int, batch_size::Int) =
    label_inputs(graph_of(spec), spec, seq_len, batch_size)

"How many outputs of `LSTM(spec, seq_len; output_states = true)` are the final states."
n_state_outputs(spec::ModelSpec) = length(state_names(cell_of(spec))) * spec.layers

"""
    parameter_shapes(spec) -> Vector{Pair{Symbol,Tuple}}

The learned arguments (every argument but data, labels and initial states) and their sizes,
in `list_arguments` order.
"""
function parameter_shapes(spec::ModelSpec)
    lstm = LSTM(spec, 1)
    inputs = Dict([lstm_data_shapes(spec, 1, 1); lstm_label_shapes(spec, 1, 1)])
    arg_shapes, _, _ = mx.infer_shape(lstm, inputs)
    return Pair{Symbol,Tuple}[name => shape for (name, shape) in zip(mx.list_arguments(lstm), arg_shapes)
                              if !haskey(inputs, name)]
end

"How many numbers the model learns."
parameter_count(spec::ModelSpec) = sum(prod(last(p)) for p in parameter_shapes(spec))

# The unrolled layout of one layer's weights, which every graph's weights convert to and from:
# i2h (gates × hidden, input) and h2h (gates × hidden, hidden) weights and their biases.
layer_param_names(spec::ModelSpec, l::Int) =
    [node_name(spec, "l$(l)_$part") for part in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")]

"""
    convert_graph(arg_params, spec, graph) -> Dict

`spec`'s parameters (or any per-parameter arrays of their sizes, such as optimizer states) as
the `graph` model's, through the unrolled layout.
"""
function convert_graph(arg_params::AbstractDict, spec::ModelSpec, graph::Symbol)
    graph == spec.graph && return arg_params
    unrolled = to_unrolled(graph_of(spec), arg_params, spec)
    target = with_graph(spec, graph)
    return from_unrolled(graph_of(target), unrolled, target)
end

"""
    written_graph(arg_params, spec) -> Symbol

The graph whose layout `arg_params` (a checkpoint's) have: a run may change graphs between
epochs, so a file's own weights say which wrote them.
"""
written_graph(arg_params::AbstractDict, spec::ModelSpec) =
    haskey(arg_params, fused_parameters_name(spec)) ? :fused : :unrolled

"""
    initial_params(spec, initializer) -> Dict

Fresh weights, drawn in the unrolled layout and converted to `spec`'s graph, so that both
graphs start from the same weights for the same seed.
"""
function initial_params(spec::ModelSpec, initializer::mx.AbstractInitializer)
    unrolled = with_graph(spec, :unrolled)
    params = Dict{Symbol,mx.NDArray}(name => mx.init(initializer, name, mx.empty(shape))
                                     for (name, shape) in parameter_shapes(unrolled))
    return convert_graph(params, unrolled, spec.graph)
end

"What the model is, in words: \"2x256 LSTM (fused graph)\"."
describe(spec::ModelSpec) = "$(spec.layers)x$(spec.hidden) $(label(cell_of(spec))) ($(spec.graph) graph)"
