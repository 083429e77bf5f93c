# The char-lstm's metric: negative log-likelihood per character, as in the original.

# Floors the probability so that a confident wrong guess costs 46 nats, not infinity.
const MIN_PROBABILITY = 1e-20

"""
    char_nll(probs, labels) -> Float64

The summed negative log-likelihood (natural log) of `labels` (0-based class ids, one per
column) under `probs` (classes × columns).
"""
function char_nll(probs::AbstractMatrix, labels::AbstractVector)
    size(probs, 2) == length(labels) ||
        throw(DimensionMismatch("$(size(probs, 2)) predictions for $(length(labels)) labels"))
    total = 0.0
    for (j, label) in enumerate(labels)
        total -= log(max(Float64(probs[round(Int, label) + 1, j]), MIN_PROBABILITY))
    end
    return total
end

"""
    NLL()

The mean negative log-likelihood per character over the softmax outputs of all steps, and
its perplexity exp(NLL): `get` gives `[(:NLL, nll), (:perplexity, exp(nll))]`.
"""
mutable struct NLL <: mx.AbstractEvalMetric
    nll_sum::Float64
    n_chars::Int
end
NLL() = NLL(0.0, 0)

# Outputs are classes × characters (unrolled cell, one per step) or classes × steps × batch
# (fused cell) with labels of the size after the first.
function mx.update_one!(metric::NLL, label::Array, pred::Array)
    metric.nll_sum += char_nll(reshape(pred, size(pred, 1), :), vec(label))
    metric.n_chars += length(label)
    return metric
end

function Base.get(metric::NLL)
    nll = metric.nll_sum / max(metric.n_chars, 1)
    return [(:NLL, nll), (:perplexity, exp(nll))]
end

mx.reset!(metric::NLL) = (metric.nll_sum = 0.0; metric.n_chars = 0; metric)
