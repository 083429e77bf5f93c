# What fixes a char-lstm's parameters, as training builds it and a checkpoint's meta records it.

const CELLS = (:lstm, :fused)

"""
    ModelSpec(; name, layers, hidden, embed, n_class, dropout, cell)

A char-lstm: `layers` stacked LSTM layers of `hidden` units over an `embed`-wide character
embedding, predicting `n_class` classes (the vocabulary plus the unknown class), with
`dropout`. `cell` picks the graph: `:lstm`, the original's unrolled cells (lstm.jl), or
`:fused`, libmxnet's RNN operator (fused.jl); both compute the same function. Every node and
parameter is named after `name`. The unrolled length is chosen per use (training, sampling,
scoring), so it is not part of the spec.
"""
struct ModelSpec
    name::Symbol
    layers::Int
    hidden::Int
    embed::Int
    n_class::Int
    dropout::Float64
    cell::Symbol
    function ModelSpec(name, layers, hidden, embed, n_class, dropout, cell)
        all(>(0), (layers, hidden, embed, n_class)) && 0 <= dropout < 1 && cell in CELLS ||
            throw(ArgumentError("not a valid model: layers $layers, hidden $hidden, embed $embed, " *
                                "n_class $n_class, dropout $dropout, cell $cell"))
        return new(Symbol(name), layers, hidden, embed, n_class, dropout, Symbol(cell))
    end
end
ModelSpec(; name, layers, hidden, embed, n_class, dropout, cell) =
    ModelSpec(name, layers, hidden, embed, n_class, dropout, Symbol(cell))

"The same model with another cell."
with_cell(spec::ModelSpec, cell::Symbol) =
    ModelSpec(spec.name, spec.layers, spec.hidden, spec.embed, spec.n_class, spec.dropout, cell)

"The spec as the meta file records it (`model_spec` reads it back)."
spec_dict(spec::ModelSpec) =
    Dict{String,Any}("name" => String(spec.name), "layers" => spec.layers, "hidden" => spec.hidden,
                     "embed" => spec.embed, "n_class" => spec.n_class, "dropout" => spec.dropout,
                     "cell" => String(spec.cell))
