# What a training run will need, checked before libmxnet binds it: a size that cannot fit is
# refused with the figure, instead of growing until the machine swaps or kills the process.

"""
    training_bytes(spec, settings, n_devices) -> Float64

A lower bound on the memory training `spec` takes, in bytes: on every device the weights,
their gradients and the optimizer's state (ADAM keeps two arrays per weight, SGD one), and
the activations and their gradients of one batch (per character: each layer's gates and
states, the embedding, the decoder's output).
"""
function training_bytes(spec::ModelSpec, settings::TrainSettings, n_devices::Integer)
    # In floating point: sizes near the settings' bounds must not overflow an Int.
    hidden, embed, n_class, layers = Float64.((spec.hidden, spec.embed, spec.n_class, spec.layers))
    rows = n_gates(cell_of(spec)) * hidden
    weights = n_class * embed + hidden * n_class + n_class +
              sum(rows * ((l == 1 ? embed : hidden) + hidden + 2) for l in 1:spec.layers)
    per_weight = 2 + (settings.optimizer == :adam ? 2 : 1)
    per_char = layers * 3rows + 2embed + 3n_class
    activations = 2 * per_char * settings.batch_size * settings.seq_len
    return 4 * n_devices * (per_weight * weights + activations)
end

gib(bytes) = round(bytes / 2^30; digits = 1)

"Refuses a run whose training needs more memory than this machine has (a UserError with the figures)."
function check_memory(spec::ModelSpec, settings::TrainSettings, n_devices::Integer)
    need, have = training_bytes(spec, settings, n_devices), Sys.total_memory()
    need <= have ||
        throw(UserError("training a $(describe(spec)) with embed $(spec.embed) and batches of " *
                        "$(settings.batch_size) × $(settings.seq_len) needs at least $(gib(need)) GiB of memory, " *
                        "and this machine has $(gib(have)) GiB: lower hidden, layers, embed or batch_size"))
    need <= Sys.free_memory() ||
        @warn "Training needs at least $(gib(need)) GiB and $(gib(Sys.free_memory())) GiB of memory are free now"
    return need
end
