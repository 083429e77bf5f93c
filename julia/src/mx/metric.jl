# Evaluation metrics: accumulated over the batches of an epoch, read with `get`.

"""
A metric accumulated batch by batch: `update!(metric, labels, preds)` adds a batch (vectors of
NDArrays, one per output), `get(metric)` gives `[(name, value), ...]`, `reset!` starts over.
A new metric implements `update_one!(metric, label::Array, pred::Array)` (one output and its
label, copied to Julia), `Base.get` and `reset!`.
"""
abstract type AbstractEvalMetric end

function update!(metric::AbstractEvalMetric, labels::AbstractVector{NDArray}, preds::AbstractVector{NDArray})
    length(labels) == length(preds) ||
        throw(MXError("$(typeof(metric)): $(length(labels)) labels for $(length(preds)) outputs"))
    for (label, pred) in zip(labels, preds)
        update_one!(metric, copy(label), copy(pred))
    end
    return metric
end

"""
    Accuracy()

The fraction of samples whose largest output is the label. Outputs have Julia size
(classes, samples...), labels (samples...) holding 0-based class ids.
"""
mutable struct Accuracy <: AbstractEvalMetric
    n_correct::Int
    n_sample::Int
end
Accuracy() = Accuracy(0, 0)

function update_one!(metric::Accuracy, label::Array, pred::Array)
    size(pred)[2:end] == size(label) ||
        throw(MXError("Accuracy: outputs of size $(size(pred)) need labels of size $(size(pred)[2:end]), got $(size(label))"))
    n_class = size(pred, 1)
    for j in 1:length(label)
        best = 1
        for c in 2:n_class
            pred[c, j] > pred[best, j] && (best = c)
        end
        metric.n_correct += (best - 1 == Base.round(Int, label[j]))
    end
    metric.n_sample += length(label)
end

Base.get(metric::Accuracy) = [(:accuracy, metric.n_correct / Base.max(metric.n_sample, 1))]
reset!(metric::Accuracy) = (metric.n_correct = 0; metric.n_sample = 0; metric)

"""
    MSE()

The mean squared difference between outputs and labels, over all their elements.
"""
mutable struct MSE <: AbstractEvalMetric
    sum_squares::Float64
    n_element::Int
end
MSE() = MSE(0.0, 0)

function update_one!(metric::MSE, label::Array, pred::Array)
    length(label) == length(pred) ||
        throw(MXError("MSE: outputs of size $(size(pred)) and labels of size $(size(label)) differ in length"))
    for i in 1:length(label)
        metric.sum_squares += (Float64(label[i]) - Float64(pred[i]))^2
    end
    metric.n_element += length(label)
end

Base.get(metric::MSE) = [(:mse, metric.sum_squares / Base.max(metric.n_element, 1))]
reset!(metric::MSE) = (metric.sum_squares = 0.0; metric.n_element = 0; metric)
