# Optimizers: each update of a weight is one call of libmxnet's fused update operator, which
# writes the new weight (and its moments) in place.

# ----- learning-rate schedules -----------------------------------------------------------------

"""A learning rate that depends on how often a weight was updated: `get_learning_rate(s, t)`."""
abstract type AbstractLearningRateScheduler end

"""`FixedScheduler(lr)`: the same learning rate at every update."""
struct FixedScheduler <: AbstractLearningRateScheduler
    lr::Float64
end

"""
    FactorScheduler(step, factor; base_lr, min_lr=0)

`base_lr`, multiplied by `factor` after every `step` updates, never below `min_lr`
(update `t` gets `base_lr * factor^((t-1) ÷ step)`).
"""
struct FactorScheduler <: AbstractLearningRateScheduler
    step::Int
    factor::Float64
    base_lr::Float64
    min_lr::Float64
    function FactorScheduler(step::Integer, factor::Real; base_lr::Real, min_lr::Real = 0)
        step >= 1 || throw(MXError("FactorScheduler: step must be at least 1, got $step"))
        0 < factor <= 1 || throw(MXError("FactorScheduler: factor must be in (0, 1], got $factor"))
        return new(step, factor, base_lr, min_lr)
    end
end

"""
    ExponentialScheduler(step, factor; base_lr, min_lr=0)

`base_lr` decaying smoothly by `factor` every `step` updates, never below `min_lr` (update `t`
gets `base_lr * factor^((t-1) / step)`).
"""
struct ExponentialScheduler <: AbstractLearningRateScheduler
    step::Int
    factor::Float64
    base_lr::Float64
    min_lr::Float64
    function ExponentialScheduler(step::Integer, factor::Real; base_lr::Real, min_lr::Real = 0)
        step >= 1 || throw(MXError("ExponentialScheduler: step must be at least 1, got $step"))
        0 < factor <= 1 || throw(MXError("ExponentialScheduler: factor must be in (0, 1], got $factor"))
        return new(step, factor, base_lr, min_lr)
    end
end

"""
    CosineScheduler(max_update; base_lr, final_lr=0)

Half a cosine from `base_lr` at the first update down to `final_lr` at update `max_update`,
then `final_lr`.
"""
struct CosineScheduler <: AbstractLearningRateScheduler
    max_update::Int
    base_lr::Float64
    final_lr::Float64
    function CosineScheduler(max_update::Integer; base_lr::Real, final_lr::Real = 0)
        max_update >= 1 || throw(MXError("CosineScheduler: max_update must be at least 1, got $max_update"))
        return new(max_update, base_lr, final_lr)
    end
end

"""
    WarmupScheduler(schedule, warmup)

Rises linearly to `schedule`'s first rate over the first `warmup` updates (update `t` gets
`t/warmup` of it), then follows `schedule`, counting from the end of the warm-up.
"""
struct WarmupScheduler{S<:AbstractLearningRateScheduler} <: AbstractLearningRateScheduler
    schedule::S
    warmup::Int
end

"""`get_learning_rate(scheduler, t)`: the learning rate for update number `t` (1-based)."""
get_learning_rate(s::FixedScheduler, t::Integer) = s.lr
get_learning_rate(s::FactorScheduler, t::Integer) =
    Base.max(s.base_lr * s.factor^((t - 1) ÷ s.step), s.min_lr)
get_learning_rate(s::ExponentialScheduler, t::Integer) =
    Base.max(s.base_lr * s.factor^((t - 1) / s.step), s.min_lr)
get_learning_rate(s::CosineScheduler, t::Integer) =
    s.final_lr + (s.base_lr - s.final_lr) * (1 + cospi(Base.min(t - 1, s.max_update - 1) / Base.max(s.max_update - 1, 1))) / 2
get_learning_rate(s::WarmupScheduler, t::Integer) =
    t <= s.warmup ? get_learning_rate(s.schedule, 1) * t / s.warmup : get_learning_rate(s.schedule, t - s.warmup)

# `lr` and `lr_scheduler` both set the learning rate: one of them, not both.
function scheduler_from(lr, lr_scheduler, default_lr)
    lr_scheduler === nothing && return FixedScheduler(lr === nothing ? default_lr : lr)
    lr === nothing || throw(MXError("give the optimizer lr or lr_scheduler, not both"))
    return lr_scheduler
end

# ----- the optimizer interface -----------------------------------------------------------------

"""
An optimizer: `create_state(opt, index, weight)` makes the per-weight state (moments and the
update count), `update!(opt, index, weight, grad, state)` applies one step in place.
`rescale_grad` multiplies every gradient first; `fit` sets it to 1/batch_size because the
gradients of loss outputs are sums over the batch.
"""
abstract type AbstractOptimizer end

"""Where training is: what callbacks see."""
mutable struct OptimizationState
    batch_size::Int
    curr_epoch::Int
    curr_batch::Int   # batches done in this epoch (0 before the first)
    curr_iter::Int    # batches done in this `fit`
end
OptimizationState(batch_size::Integer) = OptimizationState(batch_size, 0, 0, 0)

# libmxnet turns clipping off with a negative bound; here 0 or less means off.
clip_param(grad_clip::Real) = grad_clip > 0 ? Float64(grad_clip) : -1.0

"""
    SGD(; lr=0.01, momentum=0, weight_decay=0, grad_clip=0, rescale_grad=1, lr_scheduler=nothing)

Stochastic gradient descent, with momentum when `momentum > 0` (libmxnet's `sgd_mom_update`,
else `sgd_update`): `g = clip(rescale_grad * grad, grad_clip) + weight_decay * w`,
`v = momentum * v - lr * g`, `w += v`. `grad_clip <= 0` turns clipping off.
"""
mutable struct SGD <: AbstractOptimizer
    lr_scheduler::AbstractLearningRateScheduler
    momentum::Float64
    weight_decay::Float64
    grad_clip::Float64
    rescale_grad::Float64
end
SGD(; lr = nothing, momentum::Real = 0, weight_decay::Real = 0, grad_clip::Real = 0,
    rescale_grad::Real = 1, lr_scheduler = nothing) =
    SGD(scheduler_from(lr, lr_scheduler, 0.01), momentum, weight_decay, grad_clip, rescale_grad)

"The state of one SGD weight: its momentum (none without momentum) and update count."
mutable struct SGDState
    mom::Union{Nothing,NDArray}
    t::Int
end

create_state(opt::SGD, index::Integer, weight::NDArray) =
    SGDState(opt.momentum > 0 ? zeros(eltype(weight), size(weight); ctx = context(weight)) : nothing, 0)

function update!(opt::SGD, index::Integer, weight::NDArray, grad::NDArray, state::SGDState)
    state.t += 1
    params = (lr = get_learning_rate(opt.lr_scheduler, state.t), wd = opt.weight_decay,
              rescale_grad = opt.rescale_grad, clip_gradient = clip_param(opt.grad_clip))
    if state.mom === nothing
        _invoke("sgd_update", [weight, grad], [weight]; params...)
    else
        _invoke("sgd_mom_update", [weight, grad, state.mom], [weight]; momentum = opt.momentum, params...)
    end
    return weight
end

"""
    ADAM(; lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0, grad_clip=0,
         rescale_grad=1, lr_scheduler=nothing)

Adam (libmxnet's `adam_update`): `g = clip(rescale_grad * grad + weight_decay * w, grad_clip)`,
`m = beta1 m + (1-beta1) g`, `v = beta2 v + (1-beta2) g²`, `w -= lr_t m / (sqrt(v) + epsilon)`,
with the bias correction folded into the rate as Apache MXNet's Python Adam does:
`lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)` at the weight's t-th update.
"""
mutable struct ADAM <: AbstractOptimizer
    lr_scheduler::AbstractLearningRateScheduler
    beta1::Float64
    beta2::Float64
    epsilon::Float64
    weight_decay::Float64
    grad_clip::Float64
    rescale_grad::Float64
end
ADAM(; lr = nothing, beta1::Real = 0.9, beta2::Real = 0.999, epsilon::Real = 1e-8,
     weight_decay::Real = 0, grad_clip::Real = 0, rescale_grad::Real = 1, lr_scheduler = nothing) =
    ADAM(scheduler_from(lr, lr_scheduler, 0.001), beta1, beta2, epsilon, weight_decay, grad_clip,
         rescale_grad)

"The state of one Adam weight: first and second moments and update count."
mutable struct AdamState
    mean::NDArray
    var::NDArray
    t::Int
end

function create_state(opt::ADAM, index::Integer, weight::NDArray)
    moment() = zeros(eltype(weight), size(weight); ctx = context(weight))
    return AdamState(moment(), moment(), 0)
end

function update!(opt::ADAM, index::Integer, weight::NDArray, grad::NDArray, state::AdamState)
    state.t += 1
    t = state.t
    lr = get_learning_rate(opt.lr_scheduler, t) * Base.sqrt(1 - opt.beta2^t) / (1 - opt.beta1^t)
    _invoke("adam_update", [weight, grad, state.mean, state.var], [weight];
            lr = lr, beta1 = opt.beta1, beta2 = opt.beta2, epsilon = opt.epsilon,
            wd = opt.weight_decay, rescale_grad = opt.rescale_grad,
            clip_gradient = clip_param(opt.grad_clip))
    return weight
end

# ----- saving and restoring states -------------------------------------------------------------

# A state's arrays by kind; the kind names the entry in a states file ("mean:<param>").
state_arrays(state::AdamState) = ["mean" => state.mean, "var" => state.var]
state_arrays(state::SGDState) = state.mom === nothing ? Pair{String,NDArray}[] : ["mom" => state.mom]

state_from_arrays(opt::ADAM, arrays::AbstractDict, t::Integer) =
    AdamState(arrays["mean"], arrays["var"], t)
state_from_arrays(opt::SGD, arrays::AbstractDict, t::Integer) =
    SGDState(opt.momentum > 0 ? arrays["mom"] : nothing, t)

"""
    copy_state!(dst, src)

Makes state `dst` equal to `src` (arrays copied across devices, update count too).
"""
function copy_state!(dst, src)
    dst_arrays, src_arrays = state_arrays(dst), state_arrays(src)
    first.(dst_arrays) == first.(src_arrays) ||
        throw(MXError("optimizer states do not match: $(first.(src_arrays)) cannot restore " *
                      "$(first.(dst_arrays)) (was it saved by another optimizer?)"))
    for ((_, d), (_, s)) in zip(dst_arrays, src_arrays)
        copy!(d, s)
    end
    dst.t = src.t
    return dst
end

"""
    save_states(filename, opt, states::AbstractDict{Symbol})

Writes the optimizer states of named parameters as one NDArray file: `mean:<param>`,
`var:<param>` (Adam) or `mom:<param>` (SGD with momentum), and `count:<param>`, the number
of updates so far (what the bias correction and the schedule depend on).
"""
function save_states(filename::AbstractString, opt::AbstractOptimizer, states::AbstractDict)
    entries = Dict{String,NDArray}()
    for (param, state) in states
        for (kind, arr) in state_arrays(state)
            entries["$kind:$param"] = arr
        end
        entries["count:$param"] = NDArray([Int64(state.t)])
    end
    save(filename, entries)
end

"""
    load_states(filename, opt; convert=identity) -> Dict{Symbol,state}

The states `save_states` wrote, by parameter name, as `opt`'s state type (arrays on cpu()).
`convert` maps each kind of state array (a Dict by parameter name) to the parameters of
another model layout, as it would map the parameters themselves; a parameter it makes takes
the largest saved update count (a model's parameters are updated together).
"""
function load_states(filename::AbstractString, opt::AbstractOptimizer; convert = identity)
    by_kind, counts = Dict{String,Dict{Symbol,NDArray}}(), Dict{Symbol,Int}()
    for (key, arr) in load(filename, NDArray)
        kind, param = split_key(key, filename)
        if kind == "count"
            counts[param] = Int(only(copy(arr)))
        else
            get!(by_kind, kind, Dict{Symbol,NDArray}())[param] = arr
        end
    end
    by_param = Dict{Symbol,Dict{String,NDArray}}()
    for (kind, arrays) in by_kind, (param, arr) in convert(arrays)
        get!(by_param, param, Dict{String,NDArray}())[kind] = arr
    end
    states = Dict{Symbol,Any}()
    for (param, arrays) in by_param
        t = haskey(counts, param) ? counts[param] :
            convert !== identity && !isempty(counts) ? maximum(values(counts)) :
            throw(MXError("$filename has no update count for $param: not an optimizer states file"))
        try
            states[param] = state_from_arrays(opt, arrays, t)
        catch e
            e isa KeyError || rethrow()
            throw(MXError("$filename has no $(e.key) for $param: it was saved by another optimizer " *
                          "(it holds $(join(keys(arrays), ", ")))"))
        end
    end
    return states
end

# ----- an optimizer as plain data ----------------------------------------------------------------

# A dist_async job's servers apply the workers' optimizer, which worker 0 sends them over the
# network: as its name and numbers (JSON), rebuilt here from a fixed list of types, so that
# nothing a peer sends is ever run as code.

"""`describe(x)`: an optimizer or learning-rate schedule as a Dict of its type's name and numbers."""
describe(s::FixedScheduler) = Dict("type" => "fixed", "lr" => s.lr)
describe(s::FactorScheduler) = Dict("type" => "factor", "step" => s.step, "factor" => s.factor,
                                    "base_lr" => s.base_lr, "min_lr" => s.min_lr)
describe(s::ExponentialScheduler) = Dict("type" => "exponential", "step" => s.step, "factor" => s.factor,
                                         "base_lr" => s.base_lr, "min_lr" => s.min_lr)
describe(s::CosineScheduler) = Dict("type" => "cosine", "max_update" => s.max_update, "base_lr" => s.base_lr,
                                    "final_lr" => s.final_lr)
describe(s::WarmupScheduler) = Dict("type" => "warmup", "schedule" => describe(s.schedule), "warmup" => s.warmup)
describe(o::SGD) = Dict("type" => "sgd", "lr_scheduler" => describe(o.lr_scheduler), "momentum" => o.momentum,
                        "weight_decay" => o.weight_decay, "grad_clip" => o.grad_clip, "rescale_grad" => o.rescale_grad)
describe(o::ADAM) = Dict("type" => "adam", "lr_scheduler" => describe(o.lr_scheduler), "beta1" => o.beta1,
                         "beta2" => o.beta2, "epsilon" => o.epsilon, "weight_decay" => o.weight_decay,
                         "grad_clip" => o.grad_clip, "rescale_grad" => o.rescale_grad)

"""
    described(d) -> optimizer or schedule

What `describe` gave, rebuilt; anything else (another type, a missing or non-numeric field) is
an MXError.
"""
function described(d)
    d isa AbstractDict || throw(MXError("an optimizer description must be a JSON object, not $(typeof(d))"))
    number(key) = (v = get(d, key, nothing); v isa Real && !(v isa Bool) && isfinite(v) ? Float64(v) :
                 throw(MXError("the optimizer description's $key is not a finite number: $(repr(v))")))
    whole(key) = (v = number(key); isinteger(v) && 0 <= v <= typemax(Int32) ? Int(v) :
                  throw(MXError("the optimizer description's $key is not a count: $v")))
    kind = get(d, "type", nothing)
    kind == "fixed" && return FixedScheduler(number("lr"))
    kind == "factor" && return FactorScheduler(whole("step"), number("factor"); base_lr = number("base_lr"),
                                               min_lr = number("min_lr"))
    kind == "exponential" && return ExponentialScheduler(whole("step"), number("factor"); base_lr = number("base_lr"),
                                                         min_lr = number("min_lr"))
    kind == "cosine" && return CosineScheduler(whole("max_update"); base_lr = number("base_lr"),
                                               final_lr = number("final_lr"))
    schedule() = (s = described(get(d, "lr_scheduler", get(d, "schedule", nothing)));
                  s isa AbstractLearningRateScheduler ? s : throw(MXError("an optimizer's schedule is not a schedule")))
    kind == "warmup" && return WarmupScheduler(schedule(), whole("warmup"))
    kind == "sgd" && return SGD(lr_scheduler = schedule(), momentum = number("momentum"),
                                weight_decay = number("weight_decay"), grad_clip = number("grad_clip"),
                                rescale_grad = number("rescale_grad"))
    kind == "adam" && return ADAM(lr_scheduler = schedule(), beta1 = number("beta1"), beta2 = number("beta2"),
                                  epsilon = number("epsilon"), weight_decay = number("weight_decay"),
                                  grad_clip = number("grad_clip"), rescale_grad = number("rescale_grad"))
    throw(MXError("an optimizer description names no known optimizer or schedule: $(repr(kind))"))
end
