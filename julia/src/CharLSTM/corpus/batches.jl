# The training data: text cut into batches of fixed-length character sequences.

"The number of a text's `n_chars` characters that train (the first ones): `train_ratio` of them, rounded."
function train_size(n_chars::Integer, train_ratio::Real)
    0 < train_ratio < 1 || throw(ArgumentError("train_ratio must be in (0, 1), got $train_ratio"))
    return round(Int, n_chars * train_ratio)
end

"""
    split_text(text, train_ratio) -> (train, validation)

A contiguous split by characters (not bytes): the first `train_size` characters train.
"""
function split_text(text::AbstractString, train_ratio::Real)
    chars = collect(text)
    n_train = train_size(length(chars), train_ratio)
    return String(chars[1:n_train]), String(chars[n_train+1:end])
end

"""
    CharSeqProvider(ids, classes, batch_size, seq_len, spec; part="text")
    CharSeqProvider(text, batch_size, seq_len, vocab, spec; part="text")

Batches for `LSTM(spec, seq_len)` from a text's `ids` (a view of an EncodedCorpus's
memory-mapped ids, say) whose model classes are `classes[id + 1]`; or from a `text` in
memory, encoded in `vocab`. Each batch is the next contiguous chunk of
`batch_size * seq_len` characters (plus one: the last label); sequence i of a batch is the
i-th run of `seq_len` characters of its chunk. Data are one-hot characters, labels the class
id of the next character; the initial states are zeros. The tail that does not fill a batch
is dropped. `part` names the text in the error for a text too short for one batch.
"""
struct CharSeqProvider{V<:AbstractVector{<:Integer}} <: mx.AbstractDataProvider
    ids::V
    classes::Vector{Int32}
    batch_size::Int
    seq_len::Int
    spec::ModelSpec
    function CharSeqProvider(ids::V, classes::Vector{Int32}, batch_size::Integer, seq_len::Integer, spec::ModelSpec;
                             part::AbstractString = "text") where {V<:AbstractVector{<:Integer}}
        all(0 .<= classes .< spec.n_class) ||
            throw(ArgumentError("the classes must be those of a model predicting $(spec.n_class)"))
        needed = batch_size * seq_len + 1
        length(ids) >= needed ||
            throw(UserError("the $part has $(length(ids)) characters but one batch needs $needed " *
                            "(batch_size $batch_size × seq_len $seq_len + 1): lower batch_size or " *
                            "seq_len, or use a bigger corpus"))
        return new{V}(ids, classes, batch_size, seq_len, spec)
    end
end

function CharSeqProvider(text::AbstractString, batch_size::Integer, seq_len::Integer, vocab::Vocabulary,
                         spec::ModelSpec; part::AbstractString = "text")
    n_class(vocab) == spec.n_class ||
        throw(ArgumentError("the model predicts $(spec.n_class) classes, the vocabulary has $(n_class(vocab))"))
    return CharSeqProvider(encode(vocab, text), Int32.(0:n_class(vocab)-1), batch_size, seq_len, spec; part = part)
end

mx.provide_data(p::CharSeqProvider) = lstm_data_shapes(p.spec, p.seq_len, p.batch_size)
mx.provide_label(p::CharSeqProvider) = lstm_label_shapes(p.spec, p.seq_len, p.batch_size)
mx.get_batch_size(p::CharSeqProvider) = p.batch_size

"""
A provider that takes another one's batches (`inner`) in another order or number: it
provides the same inputs, and implements only `mx.eachbatch`.
"""
abstract type CharSeqPass <: mx.AbstractDataProvider end
mx.provide_data(p::CharSeqPass) = mx.provide_data(p.inner)
mx.provide_label(p::CharSeqPass) = mx.provide_label(p.inner)
mx.get_batch_size(p::CharSeqPass) = mx.get_batch_size(p.inner)

"The number of full batches in one pass (the last label needs one character past the chunk)."
n_batches(n_chars::Integer, batch_size::Integer, seq_len::Integer) = (n_chars - 1) ÷ (batch_size * seq_len)
n_batches(p::CharSeqProvider) = n_batches(length(p.ids), p.batch_size, p.seq_len)

# One pass. The NDArrays are made once and refilled per batch; the initial states stay zero.
struct CharSeqBatches{P<:CharSeqProvider}
    provider::P
    staging::Array{Float32}    # the one-hot data, staged in Julia
    chunk::Vector{Int32}       # the classes of a batch's characters and of the one after
    batch::mx.DataBatch
end

function mx.eachbatch(p::CharSeqProvider)
    batch = mx.DataBatch([mx.zeros(shape) for shape in last.(mx.provide_data(p))],
                         [mx.zeros(shape) for shape in last.(mx.provide_label(p))], p.batch_size)
    return CharSeqBatches(p, chars_staging(graph_of(p.spec), p.spec, p.seq_len, p.batch_size),
                          Vector{Int32}(undef, p.batch_size * p.seq_len + 1), batch)
end

Base.length(b::CharSeqBatches) = n_batches(b.provider)
Base.eltype(::Type{<:CharSeqBatches}) = mx.DataBatch

function Base.iterate(b::CharSeqBatches, k::Int = 1)
    k > length(b) && return nothing
    p = b.provider
    n = p.batch_size * p.seq_len
    start = (k - 1) * n
    @inbounds for i in 1:n+1
        b.chunk[i] = p.classes[p.ids[start+i]+1]
    end
    # Column i holds sequence i of the chunk: seq_len × batch classes, and the classes one further.
    graph = graph_of(p.spec)
    load_chars!(graph, b.batch.data, b.staging, reshape(view(b.chunk, 1:n), p.seq_len, p.batch_size))
    load_labels!(graph, b.batch.label, reshape(view(b.chunk, 2:n+1), p.seq_len, p.batch_size))
    return b.batch, k + 1
end
