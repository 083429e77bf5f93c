# Data providers: where `fit` and `predict` get their batches.
#
# A provider names its inputs and their Julia sizes (batch last) with `provide_data` and
# `provide_label`, and `eachbatch` iterates DataBatches whose arrays come in that order.

"""
A source of batches. A provider implements `provide_data(p)`, `provide_label(p)` (vectors of
`name => julia_size`, batch dimension last), `get_batch_size(p)` and `eachbatch(p)`.
"""
abstract type AbstractDataProvider end

"""One batch: `get_data(p, batch)`, `get_label(p, batch)`, `count_samples(p, batch)`."""
abstract type AbstractDataBatch end

"""
    DataBatch(data::Vector{NDArray}, label::Vector{NDArray}, count::Int)

A batch whose arrays are in `provide_data` / `provide_label` order. `count` is the number of
real samples: a last batch filled up with padding has fewer than the batch size.
"""
struct DataBatch <: AbstractDataBatch
    data::Vector{NDArray}
    label::Vector{NDArray}
    count::Int
end

get_data(p::AbstractDataProvider, batch::DataBatch) = batch.data
get_label(p::AbstractDataProvider, batch::DataBatch) = batch.label
count_samples(p::AbstractDataProvider, batch::DataBatch) = batch.count

"The number of samples in a (full) batch: the last dimension of every provided array."
function get_batch_size end
"`name => julia_size` of each data input."
function provide_data end
"`name => julia_size` of each label input (empty when the provider has no labels)."
function provide_label end
"An iterator over the provider's batches (one pass over the data)."
function eachbatch end

# ----- arrays in memory --------------------------------------------------------------------------

"""
    ArrayDataProvider(data[, label]; batch_size=0, shuffle=false)

Batches from Julia arrays whose last dimension is the sample. `data` and `label` are arrays
(named `:data` and `:softmax_label`), `name => array` pairs, or vectors of such pairs.
`batch_size=0` means all samples in one batch. With `shuffle`, each pass takes the samples in
a new random order (Julia's RNG). The last batch is filled up with samples from the start;
its `count` says how many are real.
"""
struct ArrayDataProvider <: AbstractDataProvider
    data::Vector{Pair{Symbol,Array{Float32}}}
    label::Vector{Pair{Symbol,Array{Float32}}}
    batch_size::Int
    n_sample::Int
    shuffle::Bool
end

named_arrays(arr::AbstractArray, default_name::Symbol) = named_arrays([default_name => arr], default_name)
named_arrays(pair::Pair, default_name::Symbol) = named_arrays([pair], default_name)
named_arrays(::Nothing, default_name::Symbol) = Pair{Symbol,Array{Float32}}[]
named_arrays(pairs::AbstractVector{<:Pair}, default_name::Symbol) =
    Pair{Symbol,Array{Float32}}[Symbol(name) => Array{Float32}(arr) for (name, arr) in pairs]

function ArrayDataProvider(data, label = nothing; batch_size::Integer = 0, shuffle::Bool = false)
    data_arrays = named_arrays(data, :data)
    label_arrays = named_arrays(label, :softmax_label)
    isempty(data_arrays) && throw(MXError("ArrayDataProvider needs at least one data array"))
    n_sample = size(last(first(data_arrays)))[end]
    for (name, arr) in [data_arrays; label_arrays]
        size(arr)[end] == n_sample ||
            throw(MXError("ArrayDataProvider: $name has $(size(arr)[end]) samples (last dimension), " *
                          "$(first(first(data_arrays))) has $n_sample"))
    end
    batch_size = batch_size == 0 ? n_sample : batch_size
    1 <= batch_size <= n_sample ||
        throw(MXError("ArrayDataProvider: batch_size $batch_size is not in 1:$n_sample (the number of samples)"))
    return ArrayDataProvider(data_arrays, label_arrays, batch_size, n_sample, shuffle)
end

batch_sizes(p::ArrayDataProvider, arrays) =
    [name => (size(arr)[1:end-1]..., p.batch_size) for (name, arr) in arrays]

provide_data(p::ArrayDataProvider) = batch_sizes(p, p.data)
provide_label(p::ArrayDataProvider) = batch_sizes(p, p.label)
get_batch_size(p::ArrayDataProvider) = p.batch_size

# One pass: the batch's NDArrays and Julia staging arrays are made once and refilled per batch.
struct ArrayBatches
    provider::ArrayDataProvider
    order::Vector{Int}
    staging::Vector{Array{Float32}}
    batch::DataBatch
end

function eachbatch(p::ArrayDataProvider)
    order = p.shuffle ? Random.randperm(p.n_sample) : collect(1:p.n_sample)
    sizes = [last.(provide_data(p)); last.(provide_label(p))]
    staging = [Array{Float32}(undef, s) for s in sizes]
    batch = DataBatch([empty(s) for s in last.(provide_data(p))],
                      [empty(s) for s in last.(provide_label(p))], 0)
    return ArrayBatches(p, order, staging, batch)
end

Base.length(b::ArrayBatches) = cld(b.provider.n_sample, b.provider.batch_size)
Base.eltype(::Type{ArrayBatches}) = DataBatch

function Base.iterate(b::ArrayBatches, i::Int = 1)
    p = b.provider
    i > length(b) && return nothing
    first_sample = (i - 1) * p.batch_size + 1
    count = Base.min(p.batch_size, p.n_sample - first_sample + 1)
    # A short last batch wraps around to the first samples.
    samples = [b.order[mod1(first_sample + k - 1, p.n_sample)] for k in 1:p.batch_size]
    sources = [last.(p.data); last.(p.label)]
    targets = [b.batch.data; b.batch.label]
    for (source, staging, target) in zip(sources, b.staging, targets)
        copyto!(staging, selectdim(source, ndims(source), samples))
        copy!(target, staging)
    end
    return DataBatch(b.batch.data, b.batch.label, count), i + 1
end
