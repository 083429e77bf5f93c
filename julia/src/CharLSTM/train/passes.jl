# Passes over a provider's batches in another order or number than one epoch's: a job's shard of
# them, the rest of an interrupted epoch, a wall-clock budget, an even sample for validation.

"""
Which worker of how many this process is: worker `rank` (from 0) of a parameter-server job of
`workers` trains on batches rank+1, rank+1+workers, ... of each epoch. Every worker takes as
many batches (each step waits for all of them): the last batches of an epoch that do not
make a round for all the workers are left out.
"""
struct Shard
    rank::Int
    workers::Int
end
Shard(store::mx.KVStore) = Shard(mx.rank(store), mx.group_size(store))
Shard(::Symbol) = Shard(0, 1)   # this process alone

"""
    ResumedData(provider, skip, shard)

`shard`'s batches of `provider`, whose first pass starts after `skip` batches of the whole
epoch (those an interrupted epoch had already trained on), at once: the batches before are
not made.
"""
mutable struct ResumedData <: CharSeqPass
    inner::CharSeqProvider
    skip::Int
    shard::Shard
end
function mx.eachbatch(p::ResumedData)
    skip, p.skip = p.skip, 0
    batches = mx.eachbatch(p.inner)
    rounds = (length(batches) - skip) ÷ p.shard.workers
    last = skip + rounds * p.shard.workers
    # CharSeqBatches' state is the number of the next batch.
    return (iterate(batches, k)[1] for k in skip+1+p.shard.rank:p.shard.workers:last)
end

"""
    BudgetedData(provider, seconds, min_batches)

`provider`'s batches, cycling over its text, until `seconds` have passed since the first
batch was taken, and at least `min_batches`: one "epoch" of `fit` is then a training run
with a wall-clock budget.
"""
struct BudgetedData <: CharSeqPass
    inner::CharSeqProvider
    seconds::Float64
    min_batches::Int
end

mx.eachbatch(p::BudgetedData) = BudgetedBatches(mx.eachbatch(p.inner), p.seconds, p.min_batches)

struct BudgetedBatches
    batches::CharSeqBatches
    seconds::Float64
    min_batches::Int
end
Base.IteratorSize(::Type{BudgetedBatches}) = Base.SizeUnknown()
Base.eltype(::Type{BudgetedBatches}) = mx.DataBatch

# The state is (deadline, batches taken); the deadline is set when the first batch is asked for.
function Base.iterate(b::BudgetedBatches, (deadline, taken) = (time() + b.seconds, 0))
    taken < b.min_batches || time() < deadline || return nothing
    batch, _ = iterate(b.batches, taken % length(b.batches) + 1)
    return batch, (deadline, taken + 1)
end

"""
    SampledData(provider, n)

`n` batches of `provider` spread evenly over one pass (all of them when `n` is 0 or more than
there are): a quick validation that still sees the whole validation text's variety.
"""
struct SampledData <: CharSeqPass
    inner::CharSeqProvider
    n::Int
end
function mx.eachbatch(p::SampledData)
    batches = mx.eachbatch(p.inner)
    total = length(batches)
    # The middle batch of each of n equal stretches.
    picks = p.n == 0 || p.n >= total ? (1:total) : [ceil(Int, (i - 0.5) * total / p.n) for i in 1:p.n]
    return (iterate(batches, k)[1] for k in picks)
end
