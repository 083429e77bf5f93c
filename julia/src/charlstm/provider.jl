# The training data: text cut into batches of fixed-length character sequences.

"""
    split_text(text, train_ratio) -> (train, validation)

A contiguous split by characters (not bytes): the first `train_ratio` of the text trains.
"""
function split_text(text::AbstractString, train_ratio::Real)
    0 < train_ratio <= 1 ||
        throw(UserError("train_ratio $train_ratio is not in (0, 1]: use e.g. 0.9 to train on the first 90%"))
    chars = collect(text)
    n_train = round(Int, length(chars) * train_ratio)
    return String(chars[1:n_train]), String(chars[n_train+1:end])
end

"""
    CharSeqProvider(text, batch_size, seq_len, vocab, prefix, n_layer, dim_hidden; part="text")

Batches for the unrolled LSTM named `prefix`. Each batch is the next contiguous chunk of
`batch_size * seq_len` characters (plus one: the last label); sequence i of a batch is the
i-th run of `seq_len` characters of its chunk. Data are one-hot characters, labels the class
id of the next character; the initial states are zeros. The tail that does not fill a batch
is dropped. `part` names the text in the error for a text too short for one batch.
"""
struct CharSeqProvider <: mx.AbstractDataProvider
    ids::Vector{Int32}
    batch_size::Int
    seq_len::Int
    vocab::Vocabulary
    prefix::Symbol
    n_layer::Int
    dim_hidden::Int
end

function CharSeqProvider(text::AbstractString, batch_size::Integer, seq_len::Integer, vocab::Vocabulary,
                         prefix::Symbol, n_layer::Integer, dim_hidden::Integer; part::AbstractString = "text")
    ids = encode(vocab, text)
    needed = batch_size * seq_len + 1
    length(ids) >= needed ||
        throw(UserError("the $part has $(length(ids)) characters but one batch needs $needed " *
                        "(batch_size $batch_size × seq_len $seq_len + 1): lower batch_size or " *
                        "seq_len, or use a bigger corpus"))
    return CharSeqProvider(ids, batch_size, seq_len, vocab, prefix, n_layer, dim_hidden)
end

mx.provide_data(p::CharSeqProvider) =
    lstm_data_shapes(p.prefix, p.seq_len, p.n_layer, p.dim_hidden, n_class(p.vocab), p.batch_size)
mx.provide_label(p::CharSeqProvider) = lstm_label_shapes(p.prefix, p.seq_len, p.batch_size)
mx.get_batch_size(p::CharSeqProvider) = p.batch_size

"The number of full batches in one pass (the last label needs one character past the chunk)."
n_batches(p::CharSeqProvider) = (length(p.ids) - 1) ÷ (p.batch_size * p.seq_len)

# One pass. The NDArrays are made once and refilled per batch; the initial states stay zero.
struct CharSeqBatches
    provider::CharSeqProvider
    onehot::Matrix{Float32}    # one step's data, staged in Julia
    labels::Vector{Float32}    # one step's labels
    batch::mx.DataBatch
end

function mx.eachbatch(p::CharSeqProvider)
    batch = mx.DataBatch([mx.zeros(shape) for shape in last.(mx.provide_data(p))],
                         [mx.zeros(shape) for shape in last.(mx.provide_label(p))], p.batch_size)
    return CharSeqBatches(p, zeros(Float32, n_class(p.vocab), p.batch_size),
                          zeros(Float32, p.batch_size), batch)
end

Base.length(b::CharSeqBatches) = n_batches(b.provider)
Base.eltype(::Type{CharSeqBatches}) = mx.DataBatch

function Base.iterate(b::CharSeqBatches, k::Int = 1)
    k > length(b) && return nothing
    p = b.provider
    chunk_start = (k - 1) * p.batch_size * p.seq_len
    for t in 1:p.seq_len
        fill!(b.onehot, 0)
        for i in 1:p.batch_size
            position = chunk_start + (i - 1) * p.seq_len + t
            b.onehot[p.ids[position] + 1, i] = 1
            b.labels[i] = p.ids[position + 1]
        end
        copy!(b.batch.data[t], b.onehot)
        copy!(b.batch.label[t], b.labels)
    end
    return b.batch, k + 1
end
