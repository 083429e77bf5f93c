# Callbacks: code `fit` runs after batches and epochs (logging speed, saving checkpoints,
# reporting progress). A callback may throw, e.g. to stop training: `fit` passes it on.

"""Something `fit` calls while training: an `AbstractBatchCallback` or `AbstractEpochCallback`."""
abstract type AbstractCallback end

"""Called as `cb(state::OptimizationState)` before an epoch's first batch and after each batch."""
abstract type AbstractBatchCallback <: AbstractCallback end

"""Called as `cb(model, state, metric)` after each epoch (`metric`: the training metric's values)."""
abstract type AbstractEpochCallback <: AbstractCallback end

struct BatchCallback <: AbstractBatchCallback
    frequency::Int
    call_on_0::Bool
    callback::Function
end

"""
    every_n_batch(f, n; call_on_0=false)

Calls `f(state)` after every `n`-th batch of an epoch, and before its first batch
(`state.curr_batch == 0`) when `call_on_0`.
"""
every_n_batch(f::Function, n::Integer; call_on_0::Bool = false) = BatchCallback(n, call_on_0, f)

function (cb::BatchCallback)(state::OptimizationState)
    if state.curr_batch == 0
        cb.call_on_0 && cb.callback(state)
    elseif state.curr_batch % cb.frequency == 0
        cb.callback(state)
    end
end

struct EpochCallback <: AbstractEpochCallback
    frequency::Int
    call_on_0::Bool
    callback::Function
end

"""
    every_n_epoch(f, n; call_on_0=false)

Calls `f(model, state, metric)` after every `n`-th epoch, and before training starts
(`state.curr_epoch == 0`) when `call_on_0`.
"""
every_n_epoch(f::Function, n::Integer; call_on_0::Bool = false) = EpochCallback(n, call_on_0, f)

function (cb::EpochCallback)(model, state::OptimizationState, metric)
    if state.curr_epoch == 0
        cb.call_on_0 && cb.callback(model, state, metric)
    elseif state.curr_epoch % cb.frequency == 0
        cb.callback(model, state, metric)
    end
end

"""
    speedometer(; frequency=50)

Logs the training speed every `frequency` batches: `Speed: 357.72 samples/sec`.
"""
function speedometer(; frequency::Integer = 50)
    started = Ref(0.0)
    return every_n_batch(frequency; call_on_0 = true) do state
        if state.curr_batch == 0
            started[] = time()
        else
            # Outputs are read back after each batch, so the engine has caught up by now.
            @info @sprintf("Speed: %.2f samples/sec", frequency * state.batch_size / (time() - started[]))
            started[] = time()
        end
    end
end

"""
    do_checkpoint(prefix; frequency=1, save_epoch_0=false)

Saves a checkpoint (`prefix-symbol.json`, `prefix-%04d.params`, each written atomically)
every `frequency` epochs, and of the initial parameters when `save_epoch_0`.
"""
do_checkpoint(prefix::AbstractString; frequency::Integer = 1, save_epoch_0::Bool = false) =
    every_n_epoch(frequency; call_on_0 = save_epoch_0) do model, state, metric
        save_checkpoint(model, prefix, state.curr_epoch)
    end
