# What fixes a training run's course besides the model: a resumed run must keep all of it.

"""
    TrainSettings(; corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate,
                  weight_decay, grad_clip, init_scale, seed, lr_schedule, warmup, min_lr,
                  lr_step, lr_factor)

The corpus (as the user named it: a name or a path, or a list of paths), the share of it
that trains (the rest validates), the batches (`batch_size` sequences of `seq_len`
characters), the optimizer (`:adam` or `:sgd` with momentum 0.9) and its settings, the scale
of the initial weights U(±init_scale), the seed every random draw follows, and the learning
rate's schedule (`make_optimizer`).
"""
struct TrainSettings
    corpus::Union{String,Vector{String}}
    train_ratio::Float64
    seq_len::Int
    batch_size::Int
    optimizer::Symbol
    learning_rate::Float64
    weight_decay::Float64
    grad_clip::Float64
    init_scale::Float64
    seed::Int
    lr_schedule::Symbol
    warmup::Int
    min_lr::Float64
    lr_step::Int
    lr_factor::Float64
    function TrainSettings(corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate, weight_decay,
                           grad_clip, init_scale, seed, lr_schedule, warmup, min_lr, lr_step, lr_factor)
        0 < train_ratio < 1 && seq_len > 0 && batch_size > 0 && Symbol(optimizer) in (:adam, :sgd) &&
            learning_rate > 0 && weight_decay >= 0 && grad_clip >= 0 && init_scale > 0 &&
            Symbol(lr_schedule) in LR_SCHEDULES && warmup >= 0 && 0 <= min_lr < learning_rate && lr_step > 0 &&
            0 < lr_factor <= 1 ||
            throw(ArgumentError("not valid training settings: train_ratio $train_ratio, seq_len $seq_len, " *
                                "batch_size $batch_size, optimizer $optimizer, learning_rate $learning_rate, " *
                                "weight_decay $weight_decay, grad_clip $grad_clip, init_scale $init_scale, " *
                                "lr_schedule $lr_schedule, warmup $warmup, min_lr $min_lr, lr_step $lr_step, " *
                                "lr_factor $lr_factor"))
        names = corpus isa AbstractVector ? String[c for c in corpus] : String(corpus)
        return new(names, train_ratio, seq_len, batch_size, Symbol(optimizer), learning_rate, weight_decay,
                   grad_clip, init_scale, seed, Symbol(lr_schedule), warmup, min_lr, lr_step, lr_factor)
    end
end
TrainSettings(; corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate, weight_decay, grad_clip,
              init_scale, seed, lr_schedule, warmup, min_lr, lr_step, lr_factor) =
    TrainSettings(corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate, weight_decay, grad_clip,
                  init_scale, seed, lr_schedule, warmup, min_lr, lr_step, lr_factor)

const LR_SCHEDULES = (:constant, :step, :exponential, :cosine)

"The settings as the meta file records them (field name => value)."
settings_dict(s::TrainSettings) =
    Dict{String,Any}(string(f) => (v = getfield(s, f); v isa Symbol ? String(v) : v) for f in fieldnames(TrainSettings))

"The settings a meta file recorded; `nothing` for a field it lacks (a checkpoint from before it existed)."
recorded_settings(saved::AbstractDict) = Dict(f => get(saved, string(f), nothing) for f in fieldnames(TrainSettings))

"The first setting in which `s` differs from the `saved` ones (a meta file's), or `nothing`."
function differing_setting(s::TrainSettings, saved::AbstractDict)
    recorded = recorded_settings(saved)
    for f in fieldnames(TrainSettings)
        mine = getfield(s, f)
        theirs = recorded[f]
        theirs === nothing && continue   # a setting added after that run began
        same = mine isa Symbol ? theirs == String(mine) : theirs == mine
        same || return (f, theirs, mine)
    end
    return nothing
end

"""
    make_optimizer(settings, steps) -> mx optimizer

The optimizer of `settings`, its learning rate following `lr_schedule` over a run of `steps`
updates: "constant"; "step" (times `lr_factor` every `lr_step` updates); "exponential" (the
same decay, smooth); "cosine" (half a cosine down to `min_lr` at the last update); each after
`warmup` updates rising linearly to `learning_rate`, and never below `min_lr`.
"""
function make_optimizer(s::TrainSettings, steps::Integer)
    lr, floor = s.learning_rate, s.min_lr
    schedule = s.lr_schedule == :constant ? mx.FixedScheduler(lr) :
               s.lr_schedule == :step ? mx.FactorScheduler(s.lr_step, s.lr_factor; base_lr = lr, min_lr = floor) :
               s.lr_schedule == :exponential ?
                   mx.ExponentialScheduler(s.lr_step, s.lr_factor; base_lr = lr, min_lr = floor) :
               mx.CosineScheduler(max(steps - s.warmup, 1); base_lr = lr, final_lr = floor)
    s.warmup > 0 && (schedule = mx.WarmupScheduler(schedule, s.warmup))
    return s.optimizer == :adam ?
        mx.ADAM(lr_scheduler = schedule, weight_decay = s.weight_decay, grad_clip = s.grad_clip) :
        mx.SGD(lr_scheduler = schedule, momentum = 0.9, weight_decay = s.weight_decay, grad_clip = s.grad_clip)
end
