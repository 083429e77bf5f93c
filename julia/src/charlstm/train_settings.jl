# What fixes a training run's course besides the model: a resumed run must keep all of it.

"""
    TrainSettings(; corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate,
                  weight_decay, grad_clip, init_scale, seed)

The corpus (as the user named it: a name or a path, or a list of paths), the share of it
that trains (the rest validates), the batches (`batch_size` sequences of `seq_len`
characters), the optimizer (`:adam` or `:sgd` with momentum 0.9) and its settings, the scale
of the initial weights U(±init_scale), and the seed every random draw follows.
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
    function TrainSettings(corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate, weight_decay,
                           grad_clip, init_scale, seed)
        0 < train_ratio < 1 && seq_len > 0 && batch_size > 0 && Symbol(optimizer) in (:adam, :sgd) &&
            learning_rate > 0 && weight_decay >= 0 && grad_clip >= 0 && init_scale > 0 ||
            throw(ArgumentError("not valid training settings: train_ratio $train_ratio, seq_len $seq_len, " *
                                "batch_size $batch_size, optimizer $optimizer, learning_rate $learning_rate, " *
                                "weight_decay $weight_decay, grad_clip $grad_clip, init_scale $init_scale"))
        names = corpus isa AbstractVector ? String[c for c in corpus] : String(corpus)
        return new(names, train_ratio, seq_len, batch_size, Symbol(optimizer), learning_rate, weight_decay,
                   grad_clip, init_scale, seed)
    end
end
TrainSettings(; corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate, weight_decay, grad_clip,
              init_scale, seed) =
    TrainSettings(corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate, weight_decay, grad_clip,
                  init_scale, seed)

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
        same = mine isa Symbol ? theirs == String(mine) : theirs == mine
        same || return (f, theirs, mine)
    end
    return nothing
end

make_optimizer(s::TrainSettings) =
    s.optimizer == :adam ? mx.ADAM(lr = s.learning_rate, weight_decay = s.weight_decay, grad_clip = s.grad_clip) :
    mx.SGD(lr = s.learning_rate, momentum = 0.9, weight_decay = s.weight_decay, grad_clip = s.grad_clip)
