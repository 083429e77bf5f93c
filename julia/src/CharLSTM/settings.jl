# Written by `python -m pyjlchar.settings` from the table in pyjlchar/settings.py: edit the
# table there, not this file (a test fails when this file is stale). Each section of the
# settings is a struct built by keyword (`settings(T, section)` in sections.jl) and checked
# by its `check`, whose error names the key and its rule.

"""[data]: the text a run trains and validates on."""
Base.@kwdef struct DataSettings
    corpus::Union{String,Vector{String}}   # A built-in corpus (shakespeare, shakespeare-full), a UTF-8 text file, a folder (every *.txt under it, sorted), or a list of them, read in that order.
    train_ratio::Float64   # The share of the text that trains, from its start; the rest validates.
end

function check(s::DataSettings)
    (s.corpus isa String ? !isempty(s.corpus) : !isempty(s.corpus) && all(!isempty, s.corpus)) ||
        throw(SettingError("data", "corpus", "a non-empty string or list of them (a corpus name, file or folder)", s.corpus))
    0.0 < s.train_ratio && s.train_ratio < 1.0 ||
        throw(SettingError("data", "train_ratio", "a number between 0 and 1, both excluded", s.train_ratio))
    return s
end

"""[model]: the network."""
Base.@kwdef struct ModelSpec
    name::String   # The model's name: it names the checkpoint files and the graph's variables.
    cell::Symbol   # The recurrence of each layer.
    graph::Symbol   # How libmxnet runs it: fused, its RNN operator (faster); unrolled, the original's graph of one node per gate and step. Both compute the same function, and a checkpoint runs in either.
    layers::Int   # Stacked recurrent layers.
    hidden::Int   # Units per layer.
    embed::Int   # Size of the character embedding.
    dropout::Float64   # Dropout between layers and before the decoder, never on the recurrences.
    n_class::Int   # Classes predicted: the vocabulary plus the unknown class.
end

function check(s::ModelSpec)
    !isempty(s.name) && occursin(r"^(?:[A-Za-z0-9_-]+)$", s.name) ||
        throw(SettingError("model", "name", "made of letters, digits, '_' and '-' only (it names the checkpoint files)", s.name))
    s.cell in (:lstm,) ||
        throw(SettingError("model", "cell", "one of \"lstm\"", s.cell))
    s.graph in (:fused, :unrolled) ||
        throw(SettingError("model", "graph", "one of \"fused\", \"unrolled\"", s.graph))
    1 <= s.layers && s.layers <= 1024 ||
        throw(SettingError("model", "layers", "an integer from 1 to 1024", s.layers))
    1 <= s.hidden && s.hidden <= 1048576 ||
        throw(SettingError("model", "hidden", "an integer from 1 to 1048576", s.hidden))
    1 <= s.embed && s.embed <= 1048576 ||
        throw(SettingError("model", "embed", "an integer from 1 to 1048576", s.embed))
    0.0 <= s.dropout && s.dropout < 1.0 ||
        throw(SettingError("model", "dropout", "a number from 0 up to but excluding 1", s.dropout))
    1 <= s.n_class && s.n_class <= 2147483647 ||
        throw(SettingError("model", "n_class", "an integer from 1 to 2147483647", s.n_class))
    return s
end

"""[train]: the course of a run, which --resume keeps."""
Base.@kwdef struct TrainSettings
    seq_len::Int   # Characters per unrolled sequence.
    batch_size::Int   # Sequences per batch.
    optimizer::Symbol   # The optimizer (sgd with momentum 0.9).
    learning_rate::Float64   # The optimizer's step size.
    weight_decay::Float64   # L2 penalty added to every gradient.
    grad_clip::Float64   # Each gradient value is clipped to [-grad_clip, grad_clip].
    init_scale::Float64   # Weights start uniform in [-init_scale, init_scale], biases at 0.
    seed::Int   # The seed of every random draw: the same seed repeats a run exactly.
    lr_schedule::Symbol   # The learning rate's course: step and exponential multiply it by lr_factor every lr_step updates (at once or smoothly), cosine follows half a cosine down to min_lr at the last update.
    warmup::Int   # Updates over which the learning rate first rises linearly.
    min_lr::Float64   # The floor a schedule decays towards; below learning_rate.
    lr_step::Int   # Updates per step of the step and exponential schedules.
    lr_factor::Float64   # What the step and exponential schedules multiply the rate by.
end

function check(s::TrainSettings)
    1 <= s.seq_len && s.seq_len <= 1048576 ||
        throw(SettingError("train", "seq_len", "an integer from 1 to 1048576", s.seq_len))
    1 <= s.batch_size && s.batch_size <= 1048576 ||
        throw(SettingError("train", "batch_size", "an integer from 1 to 1048576", s.batch_size))
    s.optimizer in (:adam, :sgd) ||
        throw(SettingError("train", "optimizer", "one of \"adam\", \"sgd\"", s.optimizer))
    0.0 < s.learning_rate && s.learning_rate <= 3.4028234e38 ||
        throw(SettingError("train", "learning_rate", "a number above 0 and at most 3.4e38", s.learning_rate))
    0.0 <= s.weight_decay && s.weight_decay <= 3.4028234e38 ||
        throw(SettingError("train", "weight_decay", "a number from 0 to 3.4e38 (0: no decay)", s.weight_decay))
    0.0 <= s.grad_clip && s.grad_clip <= 3.4028234e38 ||
        throw(SettingError("train", "grad_clip", "a number from 0 to 3.4e38 (0: no clipping)", s.grad_clip))
    0.0 < s.init_scale && s.init_scale <= 3.4028234e38 ||
        throw(SettingError("train", "init_scale", "a number above 0 and at most 3.4e38", s.init_scale))
    0 <= s.seed && s.seed <= 2147483647 ||
        throw(SettingError("train", "seed", "an integer from 0 to 2147483647", s.seed))
    s.lr_schedule in (:constant, :step, :exponential, :cosine) ||
        throw(SettingError("train", "lr_schedule", "one of \"constant\", \"step\", \"exponential\", \"cosine\"", s.lr_schedule))
    0 <= s.warmup && s.warmup <= 2147483647 ||
        throw(SettingError("train", "warmup", "an integer from 0 to 2147483647 (0: no warm-up)", s.warmup))
    0.0 <= s.min_lr && s.min_lr <= 3.4028234e38 ||
        throw(SettingError("train", "min_lr", "a number from 0 to 3.4e38 (0: no floor)", s.min_lr))
    1 <= s.lr_step && s.lr_step <= 2147483647 ||
        throw(SettingError("train", "lr_step", "an integer from 1 to 2147483647", s.lr_step))
    0.0 < s.lr_factor && s.lr_factor <= 1.0 ||
        throw(SettingError("train", "lr_factor", "a number above 0 and at most 1", s.lr_factor))
    return s
end

"""[run]: how this invocation steers the run: --resume may change any of it."""
Base.@kwdef struct RunPolicy
    epochs::Int   # Passes over the training text (a resumed run goes on to this many).
    checkpoint_dir::String   # The folder the run's files go to.
    eval_every::Int   # Validate every this many batches too.
    eval_batches::Int   # Batches such a validation scores, spread evenly.
    checkpoint_every::Int   # Save a checkpoint every this many batches too.
    patience::Int   # Stop after this many validations in a row without a better NLL.
    keep_last::Int   # Keep only this many latest checkpoints (and keep_best best).
    keep_best::Int   # Best checkpoints always kept.
    log_every::Int   # A line in <name>-log.jsonl every this many batches.
end

function check(s::RunPolicy)
    1 <= s.epochs && s.epochs <= 2147483647 ||
        throw(SettingError("run", "epochs", "an integer from 1 to 2147483647", s.epochs))
    !isempty(s.checkpoint_dir) ||
        throw(SettingError("run", "checkpoint_dir", "a non-empty string", s.checkpoint_dir))
    0 <= s.eval_every && s.eval_every <= 2147483647 ||
        throw(SettingError("run", "eval_every", "an integer from 0 to 2147483647 (0: at the end of each epoch only)", s.eval_every))
    0 <= s.eval_batches && s.eval_batches <= 2147483647 ||
        throw(SettingError("run", "eval_batches", "an integer from 0 to 2147483647 (0: all of the validation text)", s.eval_batches))
    0 <= s.checkpoint_every && s.checkpoint_every <= 2147483647 ||
        throw(SettingError("run", "checkpoint_every", "an integer from 0 to 2147483647 (0: at the end of each epoch only)", s.checkpoint_every))
    0 <= s.patience && s.patience <= 2147483647 ||
        throw(SettingError("run", "patience", "an integer from 0 to 2147483647 (0: never stop early)", s.patience))
    0 <= s.keep_last && s.keep_last <= 2147483647 ||
        throw(SettingError("run", "keep_last", "an integer from 0 to 2147483647 (0: keep every checkpoint)", s.keep_last))
    1 <= s.keep_best && s.keep_best <= 2147483647 ||
        throw(SettingError("run", "keep_best", "an integer from 1 to 2147483647", s.keep_best))
    0 <= s.log_every && s.log_every <= 2147483647 ||
        throw(SettingError("run", "log_every", "an integer from 0 to 2147483647 (0: only the validations' lines)", s.log_every))
    return s
end

"""[compute]: where the arithmetic runs and how gradients are summed."""
Base.@kwdef struct ComputeSettings
    context::String   # cpu, gpu, or devices such as gpu:0,1 or cpu:0,1 (several train data-parallel; sampling runs on the first).
    kvstore::Symbol   # local or device: this process's devices; dist_sync, dist_device_sync: the workers of a parameter-server job (pyjlchar launch), each taking every step together; dist_async: the servers apply each worker's step as it arrives.
    gradient_compression::Symbol   # 2bit: a job's workers send each gradient value as +t, -t or 0 (t = compression_threshold), carrying the rest over.
    compression_threshold::Float64   # The t of 2bit compression.
end

function check(s::ComputeSettings)
    !isempty(s.context) && occursin(r"^(?:(cpu|gpu)(:[0-9]+(,[0-9]+)*)?)$", s.context) ||
        throw(SettingError("compute", "context", "cpu, gpu, or a list of distinct device numbers such as gpu:0,1 or cpu:0,1", s.context))
    s.kvstore in (:local, :device, :dist_sync, :dist_device_sync, :dist_async) ||
        throw(SettingError("compute", "kvstore", "one of \"local\", \"device\", \"dist_sync\", \"dist_device_sync\", \"dist_async\"", s.kvstore))
    s.gradient_compression in (:none, Symbol("2bit")) ||
        throw(SettingError("compute", "gradient_compression", "one of \"none\", \"2bit\"", s.gradient_compression))
    0.0 < s.compression_threshold && s.compression_threshold <= 3.4028234e38 ||
        throw(SettingError("compute", "compression_threshold", "a number above 0 and at most 3.4e38", s.compression_threshold))
    return s
end

"""[sample]: how text is drawn from a model."""
Base.@kwdef struct SampleSettings
    length::Int   # Characters drawn per sample.
    num_samples::Int   # Samples drawn side by side, as one batch.
    prime::String   # The text each sample starts from.
    temperature::Float64   # Below 1 sharpens the model's distribution, above 1 flattens it.
    top_k::Int   # Draw only among the k likeliest characters.
    top_p::Float64   # Then only among the likeliest whose probabilities sum to top_p (nucleus sampling); 1: no limit.
end

function check(s::SampleSettings)
    1 <= s.length && s.length <= 2147483647 ||
        throw(SettingError("sample", "length", "an integer from 1 to 2147483647", s.length))
    1 <= s.num_samples && s.num_samples <= 1048576 ||
        throw(SettingError("sample", "num_samples", "an integer from 1 to 1048576", s.num_samples))
    !isempty(s.prime) ||
        throw(SettingError("sample", "prime", "a non-empty string", s.prime))
    0.0 <= s.temperature && s.temperature <= 3.4028234e38 ||
        throw(SettingError("sample", "temperature", "a number from 0 to 3.4e38 (0: always the likeliest character)", s.temperature))
    0 <= s.top_k && s.top_k <= 2147483647 ||
        throw(SettingError("sample", "top_k", "an integer from 0 to 2147483647 (0: no limit)", s.top_k))
    0.0 < s.top_p && s.top_p <= 1.0 ||
        throw(SettingError("sample", "top_p", "a number above 0 and at most 1", s.top_p))
    return s
end

const SECTION_STRUCTS = (data = DataSettings, model = ModelSpec, train = TrainSettings, run = RunPolicy, compute = ComputeSettings, sample = SampleSettings)
