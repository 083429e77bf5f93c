# The optimizer a run's course (TrainSettings) asks for, its learning rate on a schedule.

"""
    make_optimizer(settings, steps) -> mx optimizer

The optimizer of `settings` (`:adam`, or `:sgd` with momentum 0.9), its learning rate
following `lr_schedule` over a run of `steps` updates: "constant"; "step" (times `lr_factor`
every `lr_step` updates); "exponential" (the same decay, smooth); "cosine" (half a cosine down
to `min_lr` at the last update); each after `warmup` updates rising linearly to
`learning_rate`, and never below `min_lr`.
"""
function make_optimizer(s::TrainSettings, steps::Integer)
    lr, floor = s.learning_rate, s.min_lr
    floor < lr || throw(UserError("'min_lr' in [train] ($floor) must be below learning_rate ($lr): a schedule " *
                                  "decays from learning_rate towards min_lr; lower min_lr or raise learning_rate"))
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

"""
    differing_setting(settings, saved) -> (name, saved value, value) or nothing

The first field in which the course (TrainSettings) or the data (DataSettings) `settings`
differ from the `saved` ones (a resumed run's), or `nothing`.
"""
function differing_setting(s, saved)
    for f in fieldnames(typeof(s))
        getfield(s, f) == getfield(saved, f) || return (f, getfield(saved, f), getfield(s, f))
    end
    return nothing
end
